"""Payment of a signed bordereau: its transfer files, and how each transfer ended.

Finance and admins download the files; only finance records payments and rejections. A
refused action shows the payment page again with what went wrong (400 bad input, 409 the
bordereau's state, 422 a bank return file with errors), nothing written.
"""

from datetime import datetime

from flask import Response, abort, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from forms_app import bank_returns, payment_files, payments
from forms_app.db import get_session
from forms_app.finance import bp
from forms_app.formdefs import nc
from forms_app.models import Bordereau, BordereauState, LineStatus, PaymentAct, Role, User
from forms_app.permissions import roles_required

PAY_ROLES = (Role.FINANCE,)
READ_ROLES = (Role.FINANCE, Role.ADMIN)
FILE_STATES = (BordereauState.SIGNED, BordereauState.PAID)


def _today() -> str:
    return datetime.now(payment_files.NOUMEA).date().isoformat()


def _date(form, field) -> None:
    """Parse the date (AAAA-MM-JJ from a date input, or JJ/MM/AAAA); keep it as `field.date`."""
    try:
        field.date = nc.parse_date(field.data or "")
    except nc.InvalidValue:
        raise ValidationError(_("Indiquez une date valide, par exemple 14/04/2026.")) from None


class MarkPaidForm(FlaskForm):
    paid_on = StringField(
        _l("Date du paiement"),
        default=_today,
        render_kw={"type": "date"},
        validators=[DataRequired(_l("Indiquez la date du paiement.")), _date],
    )


class BankReturnForm(FlaskForm):
    file = FileField(
        _l("Fichier de retour de la banque (CSV)"),
        validators=[FileRequired(_l("Choisissez le fichier de retour de la banque."))],
    )


class RejectPaymentForm(FlaskForm):
    reason = TextAreaField(
        _l("Motif du rejet"),
        render_kw={"rows": 2},
        validators=[
            DataRequired(_l("Indiquez le motif du rejet.")),
            Length(max=2000, message=_l("Le motif ne doit pas dépasser 2 000 caractères.")),
        ],
    )


def _me() -> User:
    """The signed-in user itself (not Flask-Login's proxy), for domain code and the ORM."""
    return current_user._get_current_object()


def _form(kind: type[FlaskForm], prefix: str, *, posted: bool = False) -> FlaskForm:
    shown = g.get("payment_forms") or {}
    if not posted and prefix in shown:
        return shown[prefix]
    return kind(prefix=prefix) if posted else kind(prefix=prefix, formdata=None)


def payment_forms(bordereau: Bordereau) -> dict:
    """What the signed-in user may do with the bordereau's payment now (for the templates)."""
    files = bordereau.state in FILE_STATES and current_user.has_role(*READ_ROLES)
    actions = {"files": files}
    if bordereau.state == BordereauState.SIGNED and current_user.has_role(*PAY_ROLES):
        if any(line.status == LineStatus.PENDING for line in bordereau.lines):
            actions["mark_paid"] = _form(MarkPaidForm, "paiement")
        actions["bank_return"] = _form(BankReturnForm, "retour")
    return actions


def reject_form(bordereau: Bordereau, line) -> FlaskForm | None:
    """The form to record the bank's rejection of one pending line, for finance."""
    pending = bordereau.state == BordereauState.SIGNED and line.status == LineStatus.PENDING
    if not pending or not current_user.has_role(*PAY_ROLES):
        return None
    return _form(RejectPaymentForm, f"rejet-{line.act_id}")


@bp.context_processor
def _payment_helpers() -> dict:
    return {"payment_forms": payment_forms, "reject_form": reject_form}


def _bordereau_or_404(bordereau_id: int) -> Bordereau:
    bordereau = get_session().get(Bordereau, bordereau_id)
    if bordereau is None:
        abort(404)
    return bordereau


def _page(bordereau_id: int, status: int = 200, **context):
    bordereau = _bordereau_or_404(bordereau_id)
    page = render_template(
        "finance/payment.html", bordereau=bordereau, on_payment_page=True, **context
    )
    return page, status


def _refuse(bordereau_id: int, prefix: str, form: FlaskForm | None, status: int, **context):
    """Undo anything begun, then show the payment page as it is now with what went wrong."""
    get_session().rollback()
    if form is not None:
        g.payment_forms = {prefix: form}
    return _page(bordereau_id, status, **context)


def _done(bordereau_id: int, message: str):
    get_session().commit()
    flash(message, "success")
    return redirect(url_for("finance.payment_page", bordereau_id=bordereau_id))


@bp.get("/bordereaux/<int:bordereau_id>/paiement")
@roles_required(*READ_ROLES)
def payment_page(bordereau_id: int):
    """The bordereau's transfers, their outcome, its files and the payment actions."""
    return _page(bordereau_id)


def _download(bordereau_id: int, build, mimetype: str, extension: str):
    bordereau = _bordereau_or_404(bordereau_id)
    try:
        content = build(bordereau)
    except payment_files.PaymentFileError as exc:
        page = render_template("finance/payment_error.html", bordereau=bordereau, message=exc)
        return page, 409
    name = f"virements-{bordereau.budget_code}-{bordereau.number}.{extension}"
    return Response(
        content,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",  # bank details
        },
    )


@bp.get("/bordereaux/<int:bordereau_id>/virements.csv")
@roles_required(*READ_ROLES)
def payment_csv(bordereau_id: int):
    """The transfers as CSV for the accounting system (signed or paid bordereaux)."""
    return _download(bordereau_id, payment_files.csv_file, "text/csv", "csv")


@bp.get("/bordereaux/<int:bordereau_id>/virements.xml")
@roles_required(*READ_ROLES)
def payment_xml(bordereau_id: int):
    """The transfers as an ISO 20022 pain.001.001.03 file for the bank."""

    def build(bordereau: Bordereau) -> bytes:
        return payment_files.pain001(bordereau, current_app.config)

    return _download(bordereau_id, build, "application/xml", "xml")


@bp.post("/bordereaux/<int:bordereau_id>/paiement")
@roles_required(*PAY_ROLES)
def payment_mark_paid(bordereau_id: int):
    """Record every pending transfer of the bordereau as paid on the date given."""
    bordereau = _bordereau_or_404(bordereau_id)
    form = _form(MarkPaidForm, "paiement", posted=True)
    if not form.validate_on_submit():
        return _refuse(bordereau_id, "paiement", form, 400)
    try:
        count = payments.mark_paid(get_session(), bordereau, _me(), form.paid_on.date)
    except payments.PaymentError as exc:
        status = 400 if isinstance(exc, payments.PaymentInputError) else 409
        return _refuse(bordereau_id, "paiement", form, status, payment_error=str(exc))
    message = ngettext(
        "%(num)s virement enregistré comme payé le %(date)s.",
        "%(num)s virements enregistrés comme payés le %(date)s.",
        count,
        date=nc.format_date(form.paid_on.date),
    )
    return _done(bordereau_id, message)


@bp.post("/bordereaux/<int:bordereau_id>/retour-banque")
@roles_required(*PAY_ROLES)
def payment_return(bordereau_id: int):
    """Import the bank's return file: all of it, or nothing and every error listed (422)."""
    bordereau = _bordereau_or_404(bordereau_id)
    form = _form(BankReturnForm, "retour", posted=True)
    if not form.validate_on_submit():
        return _refuse(bordereau_id, "retour", form, 400)
    content = form.file.data.read(bank_returns.MAX_BYTES + 1)
    try:
        result = payments.import_return(get_session(), bordereau, _me(), content)
    except payments.PaymentError as exc:
        return _refuse(bordereau_id, "retour", None, 409, payment_error=str(exc))
    if result.errors:
        return _refuse(bordereau_id, "retour", None, 422, return_errors=result.errors)
    return _done(bordereau_id, result.summary())


@bp.post("/bordereaux/<int:bordereau_id>/actes/<int:act_id>/rejet")
@roles_required(*PAY_ROLES)
def payment_reject(bordereau_id: int, act_id: int):
    """Record that the bank rejected one transfer; its act goes back to finance."""
    bordereau = _bordereau_or_404(bordereau_id)
    act = get_session().get(PaymentAct, act_id)
    if act is None:
        abort(404)
    prefix = f"rejet-{act_id}"
    form = _form(RejectPaymentForm, prefix, posted=True)
    if not form.validate_on_submit():
        return _refuse(bordereau_id, prefix, form, 400)
    try:
        payments.reject_act(get_session(), bordereau, act, _me(), form.reason.data)
    except payments.PaymentError as exc:
        status = 400 if isinstance(exc, payments.PaymentInputError) else 409
        return _refuse(bordereau_id, prefix, form, status, payment_error=str(exc))
    message = _(
        "Le rejet du mandat %(number)s est enregistré : il peut figurer sur un nouveau bordereau.",
        number=act.number,
    )
    return _done(bordereau_id, message)
