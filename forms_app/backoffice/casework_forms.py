"""The forms of the dossier's actions: each posts the revision the page was shown with."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import HiddenInput

from forms_app.formdefs import banking, nc

STALE_MESSAGE = _l(
    "La demande a été modifiée depuis l’affichage de cette page ; rien n’a été enregistré. "
    "Vérifiez son état ci-dessous avant d’agir à nouveau."
)


class CaseActionForm(FlaskForm):
    """An action on a request, posted with the revision the page was shown with."""

    revision = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


def _reason_field(label) -> TextAreaField:
    return TextAreaField(
        label,
        render_kw={"rows": 3},
        validators=[
            DataRequired(_l("Indiquez le motif.")),
            Length(max=2000, message=_l("Le motif ne doit pas dépasser 2 000 caractères.")),
        ],
    )


def _xpf(form, field) -> None:
    """Parse the amount as agents type it ("1 500 000", "150000 F"); keep it as `field.amount`."""
    try:
        field.amount = nc.parse_xpf(field.data or "")
    except nc.InvalidValue as exc:
        raise ValidationError(exc.message) from None


class AssignForm(CaseActionForm):
    assignee = SelectField(_l("Attribuer à"), coerce=int, choices=[])


class AskChangesForm(CaseActionForm):
    message = TextAreaField(
        _l("Compléments à demander"),
        render_kw={"rows": 5},
        validators=[
            DataRequired(_l("Écrivez ce que le demandeur ou la demandeuse doit compléter.")),
            Length(max=5000, message=_l("Le message ne doit pas dépasser 5 000 caractères.")),
        ],
    )


class ProposeAcceptForm(CaseActionForm):
    amount = StringField(
        _l("Montant proposé (F CFP)"),
        render_kw={"inputmode": "numeric"},
        validators=[DataRequired(_l("Indiquez le montant proposé.")), _xpf],
    )


class ProposeRejectForm(CaseActionForm):
    reason = _reason_field(_l("Motif du refus proposé"))


class CloseForm(CaseActionForm):
    reason = _reason_field(_l("Motif du classement sans suite"))


class SendBackForm(CaseActionForm):
    reason = _reason_field(_l("Motif du renvoi en instruction"))


class RejectForm(CaseActionForm):
    reason = _reason_field(_l("Motif du refus"))


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Nouvelle note interne"),
        render_kw={"rows": 3},
        validators=[
            DataRequired(_l("Écrivez la note.")),
            Length(max=5000, message=_l("La note ne doit pas dépasser 5 000 caractères.")),
        ],
    )


def _iban(form, field) -> None:
    try:
        banking.normalize_iban(field.data or "")
    except nc.InvalidValue as exc:
        raise ValidationError(exc.message) from None


class CancelForm(CaseActionForm):
    reason = _reason_field(_l("Motif de l’annulation"))


class BankDetailsForm(CaseActionForm):
    iban = StringField(
        _l("Nouvel IBAN"),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
        validators=[DataRequired(_l("Indiquez le nouvel IBAN.")), _iban],
    )
    holder = StringField(
        _l("Titulaire du compte"),
        validators=[
            DataRequired(_l("Indiquez le titulaire du compte.")),
            Length(max=200, message=_l("Le titulaire ne doit pas dépasser 200 caractères.")),
        ],
    )
