"""A payment act's page: what it says, its PDF, its history; finance cancels it or asks anew.

Finance and administrators see acts; only finance changes them. Each change is one
transaction with its audit events; a refusal shows the page again with the reason (409).
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from forms_app import payment_acts, storage
from forms_app.casework import CaseworkError
from forms_app.db import get_session
from forms_app.finance import bp
from forms_app.formdefs import banking
from forms_app.models import ActState, BordereauLine, Event, PaymentAct, Role, User
from forms_app.permissions import roles_required
from forms_app.submissions import get_by_reference

VIEW_ROLES = (Role.FINANCE, Role.ADMIN)

STATE_LABELS = {
    ActState.ISSUED: _l("Émis – en attente d’un bordereau"),
    ActState.SIGNED: _l("Paiement ordonné (bordereau signé)"),
    ActState.PAID: _l("Payé"),
    ActState.REJECTED: _l("Rejeté par la banque"),
    ActState.CANCELLED: _l("Annulé"),
}
EVENT_LABELS = {
    "issue": _l("Acte émis et numéroté"),
    payment_acts.DECISION_RENDERED: _l("Arrêté attributif préparé"),
    "cancel": _l("Acte annulé"),
    "sign": _l("Bordereau signé : paiement ordonné"),
    "pay": _l("Paiement effectué"),
    "reject_payment": _l("Paiement rejeté par la banque"),
}


class CancelActForm(FlaskForm):
    reason = TextAreaField(
        _l("Motif de l’annulation"),
        render_kw={"rows": 3},
        validators=[
            DataRequired(_l("Indiquez pourquoi l’acte de paiement est annulé.")),
            Length(max=2000, message=_l("Le motif ne doit pas dépasser 2 000 caractères.")),
        ],
    )


def _me() -> User:
    return current_user._get_current_object()


def state_label(state: str) -> str:
    """The French (or chosen language) label of an act's state."""
    try:
        return STATE_LABELS[ActState(state)]
    except ValueError:
        return state


def get_act_or_404(act_id: int) -> PaymentAct:
    found = get_session().get(PaymentAct, act_id)
    if found is None:
        abort(404)
    return found


def _bordereau_url(bordereau_id: int | None) -> str | None:
    """The bordereau's page, once the finance area has one."""
    if bordereau_id is None:
        return None
    try:
        return url_for("finance.bordereau", bordereau_id=bordereau_id)
    except BuildError:
        return None


def _history(found: PaymentAct) -> list[dict]:
    events = get_session().scalars(
        select(Event)
        .where(Event.subject_type == PaymentAct.__tablename__, Event.subject_id == found.id)
        .options(selectinload(Event.actor))
        .order_by(Event.id)
    )
    return [
        {
            "event": event,
            "label": EVENT_LABELS.get(event.action, event.action),
            "reason": (event.details or {}).get("reason"),
        }
        for event in events
    ]


def _render(found: PaymentAct, form: CancelActForm | None = None, error=None, status=200):
    db = get_session()
    refusal = payment_acts.cancel_refusal(_me(), found)
    lines = db.scalars(
        select(BordereauLine)
        .where(BordereauLine.act_id == found.id)
        .options(selectinload(BordereauLine.bordereau))
    )
    page = render_template(
        "finance/act.html",
        act=found,
        state_label=state_label(found.state),
        iban=banking.format_iban(found.bank.get("iban") or ""),
        history=_history(found),
        lines=[(line, _bordereau_url(line.bordereau_id)) for line in lines],
        bordereau_url=_bordereau_url(found.bordereau_id),
        decision=payment_acts.decision_record(found),
        cancel_form=(form or CancelActForm(formdata=None)) if refusal is None else None,
        cancel_refusal=refusal if _me().has_role(Role.FINANCE) else None,
        error=error,
    )
    return page, status


@bp.get("/actes/<int:act_id>")
@roles_required(*VIEW_ROLES)
def act(act_id: int):
    """Show a payment act: number, state, beneficiary, amount, bordereau, PDF, history."""
    return _render(get_act_or_404(act_id))


@bp.get("/actes/<int:act_id>/mandat.pdf")
@roles_required(*VIEW_ROLES)
def act_pdf(act_id: int):
    """Show the act's stored PDF in the browser, or say it is being prepared (202)."""
    found = get_act_or_404(act_id)
    return _inline_pdf(found, found.pdf_key, payment_acts.filename(found))


@bp.get("/actes/<int:act_id>/arrete.pdf")
@roles_required(*VIEW_ROLES)
def decision_pdf(act_id: int):
    """Show the act's arrêté attributif, or say it is being prepared (202)."""
    found = get_act_or_404(act_id)
    record = payment_acts.decision_record(found)
    key = record["key"] if record else None
    return _inline_pdf(found, key, f"arrete-{found.details.get('dossier_no')}.pdf")


def _inline_pdf(found: PaymentAct, key: str | None, name: str):
    if not key:
        page = render_template("finance/act_pending.html", act=found)
        return page, 202, {"Retry-After": "10"}
    response = storage.send(
        key, mimetype="application/pdf", as_attachment=False, download_name=name
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/actes/<int:act_id>/annulation")
@roles_required(Role.FINANCE)
def cancel_act(act_id: int):
    """Cancel the act with a reason; the request goes back to accepted, the number stays used."""
    db = get_session()
    found = get_act_or_404(act_id)
    form = CancelActForm()
    if not form.validate_on_submit():
        return _render(found, form, _("Vérifiez les informations saisies."), 400)
    try:
        payment_acts.cancel_act(db, found, _me(), form.reason.data.strip())
    except CaseworkError as exc:
        db.rollback()
        return _render(get_act_or_404(act_id), form, str(exc), 409)
    db.commit()
    flash(
        _(
            "L’acte de paiement n° %(number)s est annulé ; la demande est de nouveau acceptée, "
            "sans acte.",
            number=found.number,
        ),
        "success",
    )
    return redirect(url_for("finance.act", act_id=act_id))


@bp.post("/demandes/<reference>/nouvel-acte")
@roles_required(Role.FINANCE)
def reissue_act(reference: str):
    """Ask for a new act for an accepted request that has none; a job numbers it."""
    db = get_session()
    found = get_by_reference(db, reference)
    if found is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        message = _("Votre session a expiré : rechargez la page et recommencez.")
        return render_template("finance/act_error.html", submission=found, error=message), 400
    try:
        payment_acts.reissue(db, found, _me())
    except CaseworkError as exc:
        db.rollback()
        page = render_template("finance/act_error.html", submission=found, error=str(exc))
        return page, 409
    db.commit()
    flash(
        _("Un nouvel acte de paiement est demandé : il sera numéroté dans un instant."),
        "success",
    )
    return redirect(url_for("backoffice.submission", reference=reference, _anchor="acte"))
