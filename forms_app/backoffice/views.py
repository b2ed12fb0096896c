"""Back-office views: the staff home page and the dossier of a request."""

from flask import abort, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from forms_app import payment_acts, permissions, receipts, retention, storage
from forms_app.backoffice import bp
from forms_app.db import get_session
from forms_app.formdefs import definition as definitions
from forms_app.formdefs import display
from forms_app.models import Attachment, Event, Flag, Note, PaymentAct, Role, Submission
from forms_app.permissions import roles_required
from forms_app.submissions import get_by_reference
from workflows import states

CASE_ROLES = (Role.AGENT, Role.APPROVER, Role.FINANCE, Role.ADMIN)

# Files a browser may show inside the dossier; anything else is only downloaded.
PREVIEW_TYPES = frozenset({"image/png", "image/jpeg", "application/pdf"})

# History lines: the state actions as the applicant's timeline says them, plus the
# casework events that change no state.
EVENT_LABELS = {
    **{str(action): label for action, label in states.ACTION_LABELS.items()},
    "assign": _l("Demande attribuée"),
    "approval": _l("Première validation enregistrée"),
    "change_bank_details": _l("Coordonnées bancaires modifiées"),
    "note": _l("Note interne ajoutée"),
    "message": _l("Message"),
    "request_act": _l("Nouvel acte de paiement demandé"),
    "data_exported": _l("Données personnelles téléchargées (droit d’accès)"),
}


@bp.get("/")
@roles_required()
def home():
    """Show signed-in staff their space and what their roles let them do."""
    return render_template("backoffice/home.html", roles=sorted(current_user.roles))


@bp.get("/demandes/<reference>")
@roles_required(*CASE_ROLES)
def submission(reference: str):
    """Show a request's dossier: answers, files, flags, history, messages, notes, actions."""
    return render_dossier(reference)


def render_dossier(reference: str) -> str:
    """Render the dossier page of `reference` as it is in the database now (404 if none)."""
    db = get_session()
    found = get_by_reference(db, reference)
    if found is None:
        abort(404)
    version = found.form_version
    definition = definitions.of_version(version)
    return render_template(
        "backoffice/submission.html",
        submission=found,
        definition=definition,
        summary=display.summary(definition, found.answers),
        state_label=states.label(found.state),
        flags=_flags(found),
        history=_history(found),
        case_notes=_notes(found),
        preview_types=PREVIEW_TYPES,
        approvals=_approvals(found),
        acts=_acts(found),
        act_links=current_user.has_role(Role.FINANCE, Role.ADMIN),
        may_reissue=_may_reissue(found),
        erasure=retention.erasure_date(found),
    )


def _approvals(found: Submission) -> tuple[int, int] | None:
    """For a proposal: how many approvals it has and how many it needs."""
    if found.state != states.State.PROPOSED:
        return None
    return len(permissions.approver_ids(found)), permissions.required_approvals(found)


def _acts(found: Submission) -> list[dict]:
    """The request's payment acts, the live one last, with their state labels."""
    from forms_app.finance.act_views import state_label  # that module imports this one

    acts = get_session().scalars(
        select(PaymentAct).where(PaymentAct.submission_id == found.id).order_by(PaymentAct.id)
    )
    return [{"act": act, "state_label": state_label(act.state)} for act in acts]


def _may_reissue(found: Submission) -> bool:
    """Whether the signed-in user may ask for a new payment act for this request now."""
    if found.state != states.State.APPROVED:
        return False
    me = current_user._get_current_object()
    return payment_acts.reissue_refusal(get_session(), me, found) is None


def _flags(found: Submission) -> list[Flag]:
    return list(
        get_session().scalars(
            select(Flag)
            .where(Flag.submission_id == found.id)
            .options(selectinload(Flag.other_submission))
            .order_by(Flag.id)
        )
    )


def _history(found: Submission) -> list[dict]:
    """The request's audit events, oldest first, ready to show."""
    events = get_session().scalars(
        select(Event)
        .where(Event.subject_type == "submission", Event.subject_id == found.id)
        .options(selectinload(Event.actor))
        .order_by(Event.id)
    )
    return [
        {
            "event": event,
            "label": EVENT_LABELS.get(event.action, event.action),
            "from_label": states.label(event.from_state) if event.from_state else None,
            "to_label": states.label(event.to_state) if event.to_state else None,
            "reason": (event.details or {}).get("reason"),
            "amount": _amount((event.details or {}).get("amount")),
        }
        for event in events
    ]


def _amount(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _notes(found: Submission) -> list[Note]:
    return list(
        get_session().scalars(
            select(Note)
            .where(Note.submission_id == found.id)
            .options(selectinload(Note.author))
            .order_by(Note.created_at, Note.id)
        )
    )


@bp.get("/demandes/<reference>/recu.pdf")
@roles_required(*CASE_ROLES)
def submission_receipt(reference: str):
    """Download a request's receipt."""
    found = get_by_reference(get_session(), reference)
    if found is None:
        abort(404)
    return receipts.download(found)


@bp.get("/demandes/<reference>/pieces/<int:attachment_id>/apercu")
@roles_required(*CASE_ROLES)
def attachment_preview(reference: str, attachment_id: int):
    """Show an image or a PDF of a request inline, for the dossier page to embed.

    Only types whose content was checked on upload (PNG, JPEG, PDF) are served inline, with
    nosniff. This response alone may be framed, by our own pages only (the dossier's
    <iframe> for PDFs): it relaxes `frame-ancestors` / X-Frame-Options to 'self'.
    """
    db = get_session()
    found = get_by_reference(db, reference)
    item = db.get(Attachment, attachment_id)
    if found is None or item is None or item.submission_id != found.id:
        abort(404)
    if item.content_type not in PREVIEW_TYPES:
        abort(404)
    response = storage.send(
        item.storage_key,
        mimetype=item.content_type,
        as_attachment=False,
        download_name=item.original_name,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; object-src 'self'; frame-ancestors 'self'"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
