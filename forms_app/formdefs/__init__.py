"""Form definitions: schema, field types, validation, dynamic WTForms."""
