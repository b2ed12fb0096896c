"""What the ops area's forms share: a choice checked against its list, the forms to pick from."""

from sqlalchemy import select
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation

from forms_app.db import get_session
from forms_app.models import Form, FormStatus


class OneOfChoices:
    """Refuse a value that is not among the field's choices, with a French message."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field) -> None:
        if field.data not in {choice.value for choice in field.choices}:
            raise StopValidation(self.message)


def offer_forms(field: SelectField, every: SelectChoice) -> None:
    """Offer `every` (all forms, all pages), chosen unless something else is, then each form
    that is not archived."""
    listed = get_session().scalars(
        select(Form).where(Form.status != FormStatus.ARCHIVED).order_by(Form.slug)
    )
    field.choices = [every] + [
        SelectChoice(str(record.id), f"{record.title} ({record.slug})") for record in listed
    ]
    if not field.data or field.data == "None":
        field.data = every.value
