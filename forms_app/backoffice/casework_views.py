"""Working a request from its dossier: take, assign, ask for changes, propose, decide, notes.

Each action form carries the revision the page was shown with; a form posted from a page
that has since changed is refused (409) and the dossier shown again as it is now.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session

from forms_app import casework, permissions
from forms_app.backoffice import bp, views
from forms_app.backoffice.casework_forms import (
    STALE_MESSAGE,
    AskChangesForm,
    AssignForm,
    BankDetailsForm,
    CancelForm,
    CaseActionForm,
    CloseForm,
    NoteForm,
    ProposeAcceptForm,
    ProposeRejectForm,
    RejectForm,
    SendBackForm,
)
from forms_app.backoffice.views import CASE_ROLES
from forms_app.db import get_session
from forms_app.formdefs import nc
from forms_app.models import Role, Submission, User, UserRole
from forms_app.permissions import roles_required
from forms_app.submissions import get_by_reference
from workflows.states import State


def _me() -> User:
    """The signed-in user itself (not Flask-Login's proxy), for domain code and the ORM."""
    return current_user._get_current_object()


@dataclass(frozen=True)
class CaseAction:
    """One action of the dossier: its form, the permission it needs, what it does."""

    permission: str
    form: type[FlaskForm]
    run: Callable[[Session, Submission, FlaskForm], str]  # returns the success message


def _take(db, found, form):
    casework.take(db, found, _me(), form.revision.data)
    return _("Vous avez pris en charge la demande.")


def _release(db, found, form):
    casework.release(db, found, _me(), form.revision.data)
    return _("La demande n’est plus attribuée ; elle est de nouveau à prendre en charge.")


def _assign(db, found, form):
    assignee = db.get(User, form.assignee.data)
    casework.assign(db, found, _me(), assignee, form.revision.data)
    return _("La demande est attribuée à %(name)s.", name=assignee.name)


def _ask_changes(db, found, form):
    casework.ask_changes(db, found, _me(), form.revision.data, form.message.data.strip())
    return _("Les compléments ont été demandés ; le demandeur ou la demandeuse est prévenu.")


def _propose_accept(db, found, form):
    amount = form.amount.amount
    casework.propose(db, found, _me(), form.revision.data, accept=True, amount=amount)
    return _(
        "Acceptation proposée pour %(amount)s ; la décision revient maintenant à un valideur.",
        amount=nc.format_xpf(amount),
    )


def _propose_reject(db, found, form):
    reason = form.reason.data.strip()
    casework.propose(db, found, _me(), form.revision.data, accept=False, reason=reason)
    return _("Refus proposé ; la décision revient maintenant à un valideur.")


def _close(db, found, form):
    casework.close(db, found, _me(), form.revision.data, form.reason.data.strip())
    return _("La demande est classée sans suite.")


def _approve(db, found, form):
    if not casework.approve(db, found, _me(), form.revision.data):
        return _("Votre validation est enregistrée ; une seconde validation est nécessaire.")
    if found.state == State.REJECTED:
        return _("Le refus proposé est validé : la demande est refusée.")
    return _("La demande est acceptée.")


def _send_back(db, found, form):
    casework.send_back(db, found, _me(), form.revision.data, form.reason.data.strip())
    return _("La proposition est renvoyée en instruction.")


def _reject(db, found, form):
    casework.reject(db, found, _me(), form.revision.data, form.reason.data.strip())
    return _("La demande est refusée.")


def _change_bank_details(db, found, form):
    casework.change_bank_details(
        db,
        found,
        _me(),
        iban=form.iban.data,
        holder=form.holder.data.strip(),
        revision=form.revision.data,
    )
    return _("Les coordonnées bancaires sont modifiées ; les validations données sont annulées.")


def _cancel(db, found, form):
    casework.cancel(db, found, _me(), form.revision.data, form.reason.data.strip())
    return _("La demande est annulée.")


# In the order the dossier shows them; the key is the last part of the POST address.
ACTIONS: dict[str, CaseAction] = {
    "take": CaseAction("take", CaseActionForm, _take),
    "assign": CaseAction("assign", AssignForm, _assign),
    "release": CaseAction("release", CaseActionForm, _release),
    "ask_changes": CaseAction("ask_changes", AskChangesForm, _ask_changes),
    "propose_accept": CaseAction("propose", ProposeAcceptForm, _propose_accept),
    "propose_reject": CaseAction("propose", ProposeRejectForm, _propose_reject),
    "close": CaseAction("close", CloseForm, _close),
    "approve": CaseAction("approve", CaseActionForm, _approve),
    "send_back": CaseAction("send_back", SendBackForm, _send_back),
    "reject": CaseAction("reject", RejectForm, _reject),
    "change_bank_details": CaseAction(
        permissions.CHANGE_BANK_DETAILS, BankDetailsForm, _change_bank_details
    ),
    "cancel": CaseAction("cancel", CancelForm, _cancel),
}
NOTE_PERMISSION = "add_note"


def _agent_choices() -> list[tuple[int, str]]:
    agents = get_session().scalars(
        select(User)
        .join(UserRole)
        .where(UserRole.role == Role.AGENT, User.active.is_(True))
        .order_by(User.name, User.id)
    )
    return [(user.id, f"{user.name} ({user.email})") for user in agents]


def _new_form(name: str, found: Submission, *, posted: bool = False) -> FlaskForm:
    """The form of action `name`: read from the request when `posted`, else blank."""
    spec = ACTIONS[name]
    kwargs = {} if posted else {"formdata": None}
    form = spec.form(prefix=name, **kwargs)
    if isinstance(form, AssignForm):
        form.assignee.choices = _agent_choices()
        if not posted and found.assignee_id:
            form.assignee.data = found.assignee_id
    if isinstance(form, ProposeAcceptForm) and not posted and found.computed_amount is not None:
        form.amount.data = nc.format_xpf(found.computed_amount).split(nc.NBSP)[0]
    return form


def case_actions(found: Submission) -> dict[str, FlaskForm]:
    """The action forms the signed-in user may use on this request now, by action name."""
    shown = g.get("case_forms") or {}
    return {
        name: shown.get(name) or _new_form(name, found)
        for name, spec in ACTIONS.items()
        if permissions.allowed(_me(), spec.permission, found)
    }


def note_form(found: Submission) -> FlaskForm | None:
    """The form to add a private note, if the signed-in user may add one."""
    if not permissions.allowed(_me(), NOTE_PERMISSION, found):
        return None
    return (g.get("case_forms") or {}).get("note") or NoteForm(prefix="note", formdata=None)


@bp.context_processor
def _case_helpers() -> dict:
    return {"case_actions": case_actions, "note_form": note_form}


def _refuse(reference: str, name: str, form: FlaskForm, message, status: int):
    """Undo anything begun, then show the dossier as it is now with what went wrong."""
    get_session().rollback()
    g.case_forms = {name: form}
    g.case_error = message
    return views.render_dossier(reference), status


@bp.post("/demandes/<reference>/traitement/<action>")
@roles_required(*CASE_ROLES)
def act(reference: str, action: str):
    """Take one casework action on a request, if its revision is still the one shown."""
    spec = ACTIONS.get(action)
    db = get_session()
    found = get_by_reference(db, reference)
    if spec is None or found is None:
        abort(404)
    form = _new_form(action, found, posted=True)
    revision = form.revision.data if form.revision.validate(form) else None
    if revision is not None and revision != found.revision:
        return _refuse(reference, action, form, STALE_MESSAGE, 409)
    refusal = permissions.refusal(_me(), spec.permission, found)
    if refusal:
        return _refuse(reference, action, form, refusal, 403)
    if not form.validate_on_submit():
        return _refuse(reference, action, form, _("Vérifiez les informations saisies."), 400)
    try:
        message = spec.run(db, found, form)
    except casework.StaleRevision:
        return _refuse(reference, action, form, STALE_MESSAGE, 409)
    except casework.CaseworkError as exc:
        return _refuse(reference, action, form, str(exc), 409)
    db.commit()
    flash(message, "success")
    return redirect(url_for("backoffice.submission", reference=reference))


@bp.post("/demandes/<reference>/notes")
@roles_required(*CASE_ROLES)
def add_note(reference: str):
    """Add a private note to the request (never shown to the applicant)."""
    db = get_session()
    found = get_by_reference(db, reference)
    if found is None:
        abort(404)
    form = NoteForm(prefix="note")
    refusal = permissions.refusal(_me(), NOTE_PERMISSION, found)
    if refusal:
        return _refuse(reference, "note", form, refusal, 403)
    if not form.validate_on_submit():
        return _refuse(reference, "note", form, _("Vérifiez les informations saisies."), 400)
    try:
        casework.add_note(db, found, _me(), form.body.data.strip())
    except casework.CaseworkError as exc:
        return _refuse(reference, "note", form, str(exc), 403)
    db.commit()
    flash(_("Votre note est ajoutée."), "success")
    return redirect(url_for("backoffice.submission", reference=reference, _anchor="notes"))
