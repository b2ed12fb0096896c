"""What the API reads and writes (marshmallow): the OpenAPI document is made from these."""

from marshmallow import Schema, fields, validate

from workflows import states

MAX_TEXT = 5000
SLUG = [validate.Length(max=80), validate.Regexp(r"^[a-z0-9-]+$")]
SUBMITTED_STATES = sorted(str(state) for state in states.State if state != states.State.DRAFT)


class ProblemSchema(Schema):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Dict(metadata={"description": "Field errors, by location then field."})


class PageQuery(Schema):
    cursor = fields.String(
        validate=[
            validate.Length(max=200, error="Invalid cursor."),
            validate.Regexp(r"^[A-Za-z0-9_-]*$", error="Invalid cursor."),
        ],
        metadata={"description": "`next_cursor` of the previous page."},
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


# -- forms ----------------------------------------------------------------------------------


class VersionSummarySchema(Schema):
    number = fields.Integer(required=True)
    published_at = fields.DateTime(required=True)
    sha256 = fields.String(required=True)


class FormSchema(Schema):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["published", "closed"]))
    opens_at = fields.DateTime(allow_none=True, required=True)
    closes_at = fields.DateTime(allow_none=True, required=True)
    current_version = fields.Integer(allow_none=True, required=True)


class FormDetailSchema(FormSchema):
    versions = fields.List(fields.Nested(VersionSummarySchema), required=True)


class FormVersionSchema(VersionSummarySchema):
    definition = fields.Dict(required=True, metadata={"description": "docs/form-definition.md"})


class FormListSchema(Schema):
    items = fields.List(fields.Nested(FormSchema), required=True)


# -- submissions ----------------------------------------------------------------------------


class SubmissionQuery(PageQuery):
    form = fields.String(validate=SLUG, metadata={"description": "The form's slug."})
    state = fields.String(validate=validate.OneOf(SUBMITTED_STATES))
    updated_since = fields.AwareDateTime(
        metadata={"description": "Only requests changed at or after this time (ISO 8601)."}
    )
    order = fields.String(
        load_default="updated",
        validate=validate.OneOf(["updated", "priority"]),
        metadata={"description": "`updated`: oldest change first; `priority`: highest first."},
    )


class SubmissionSchema(Schema):
    reference = fields.String(required=True)
    form = fields.String(required=True, metadata={"description": "The form's slug."})
    form_version = fields.Integer(required=True)
    state = fields.String(required=True)
    priority = fields.Integer(allow_none=True, required=True)
    computed_amount = fields.Integer(allow_none=True, required=True)
    proposed_amount = fields.Integer(allow_none=True, required=True)
    approved_amount = fields.Integer(allow_none=True, required=True)
    revision = fields.Integer(required=True)
    submitted_at = fields.DateTime(allow_none=True, required=True)
    updated_at = fields.DateTime(required=True)


class SubmissionPageSchema(Schema):
    items = fields.List(fields.Nested(SubmissionSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class FlagSchema(Schema):
    kind = fields.String(required=True)
    message = fields.String(required=True)
    other_reference = fields.String(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)


class HistorySchema(Schema):
    at = fields.DateTime(required=True)
    action = fields.String(required=True)
    from_state = fields.String(allow_none=True, required=True)
    to_state = fields.String(allow_none=True, required=True)
    by = fields.String(allow_none=True, required=True, metadata={"description": "Staff e-mail."})


class AttachmentSchema(Schema):
    id = fields.Integer(required=True)
    field = fields.String(required=True)
    name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    from_message = fields.Boolean(required=True)


class SubmissionDetailSchema(SubmissionSchema):
    answers = fields.Dict(required=True)
    proposal = fields.String(allow_none=True, required=True)
    decision_reason = fields.String(allow_none=True, required=True)
    flags = fields.List(fields.Nested(FlagSchema), required=True)
    history = fields.List(fields.Nested(HistorySchema), required=True)
    attachments = fields.List(fields.Nested(AttachmentSchema), required=True)


# -- actions --------------------------------------------------------------------------------


class RevisionSchema(Schema):
    revision = fields.Integer(
        validate=validate.Range(min=0, max=2**31 - 1),
        metadata={"description": "Refuse the action if the request changed since (409)."},
    )


class ProposeSchema(RevisionSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["accept", "reject"]))
    amount = fields.Integer(validate=validate.Range(min=0, max=10**12))
    reason = fields.String(validate=validate.Length(max=MAX_TEXT))


class RejectSchema(RevisionSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))


class MessageSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TEXT))


class ActionResultSchema(Schema):
    reference = fields.String(required=True)
    state = fields.String(required=True)
    revision = fields.Integer(required=True)


class MessageResultSchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    created_at = fields.DateTime(required=True)


# -- finance --------------------------------------------------------------------------------


class FinanceQuery(PageQuery):
    form = fields.String(validate=SLUG, metadata={"description": "The form's slug."})
    state = fields.String(validate=validate.Regexp(r"^[a-z_]{1,20}$"))


class ActSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    reference = fields.String(required=True, metadata={"description": "The request's."})
    form = fields.String(required=True)
    budget_code = fields.String(required=True)
    year = fields.Integer(required=True)
    state = fields.String(required=True)
    amount = fields.Integer(required=True)
    issued_at = fields.DateTime(required=True)
    paid_at = fields.DateTime(allow_none=True, required=True)
    cancelled_at = fields.DateTime(allow_none=True, required=True)
    bordereau = fields.String(allow_none=True, required=True)
    pdf_sha256 = fields.String(allow_none=True, required=True)


class ActPageSchema(Schema):
    items = fields.List(fields.Nested(ActSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class BordereauSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    budget_code = fields.String(required=True)
    year = fields.Integer(required=True)
    state = fields.String(required=True)
    act_count = fields.Integer(required=True)
    total = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    signed_at = fields.DateTime(allow_none=True, required=True)
    paid_on = fields.Date(allow_none=True, required=True)
    acts = fields.List(fields.String(), required=True)


class BordereauPageSchema(Schema):
    items = fields.List(fields.Nested(BordereauSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
