"""E-mails about requests: the applicant told of a state change, agents reminded of idle ones.

`state_changed` runs inside `transitions.apply` and only queues a "notify_state_change" job;
the job writes the e-mail in French (whoever the agent's language) and sends it. It says the
reference, the new state and where to sign in, nothing else: reasons and messages are read
in the applicant space, never sent by e-mail.

`remind_agents` runs from the worker's dispatcher every REMINDER_INTERVAL_HOURS: each agent
gets one e-mail listing the requests assigned to them that nobody touched for
OVERDUE_AFTER_DAYS; agents and admins get the unassigned ones, grouped per form. A request is
claimed (`reminded_at`) by a conditional UPDATE, so it is listed at most once per interval
however many workers sweep.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, inspect, or_, select, update
from sqlalchemy.orm import Session

from forms_app import links, mail
from forms_app.filters import local_time
from forms_app.formdefs import definition as definitions
from forms_app.models import Event, Form, OutboxMessage, Role, Submission, User, UserRole
from workflows import outbox, states
from workflows.states import State

NOTIFY_JOB = "notify_state_change"
# The states an applicant must hear about; "submitted" is covered by the receipt. The steps
# between acceptance and payment (act issued, signed, a transfer returned by the bank) are the
# administration's own: the applicant hears of the payment itself.
NOTIFIED_STATES = frozenset(
    {
        State.IN_REVIEW,
        State.CHANGES_REQUESTED,
        State.APPROVED,
        State.REJECTED,
        State.CLOSED,
        State.CANCELLED,
        State.WITHDRAWN,
        State.PAID,
    }
)
# Internal moves that land in a notified state but change nothing for the applicant.
SILENT_ACTIONS = frozenset({"send_back", "cancel_act"})
EXPLANATIONS = {
    State.IN_REVIEW: "Un agent a pris en charge votre demande et l’examine.",
    State.CHANGES_REQUESTED: "L’administration vous demande de compléter votre demande : "
    "les précisions attendues sont dans votre espace, où vous pouvez répondre.",
    State.APPROVED: "Votre demande est acceptée. Les détails sont dans votre espace.",
    State.REJECTED: "Votre demande est refusée. Le motif est indiqué dans votre espace.",
    State.CLOSED: "Votre demande est classée sans suite. Le motif est indiqué dans votre espace.",
    State.CANCELLED: "Votre demande est annulée. Le motif est indiqué dans votre espace.",
    State.WITHDRAWN: "Votre demande est retirée. Si vous n’êtes pas à l’origine de ce retrait, "
    "contactez le service au plus vite.",
    State.PAID: "Le paiement a été effectué : le virement a été envoyé à votre banque. "
    "Le délai avant son arrivée sur votre compte dépend de votre banque.",
}
_QUEUED = "guichet.notifications.queued"

# Reminders: requests waiting on staff (not on the applicant, not on an approver).
REMINDED_STATES = (State.SUBMITTED.value, State.IN_REVIEW.value)
REMINDER_BATCH = 1000
LISTED_MAX = 100  # lines per section of one reminder


def state_changed(session: Session, submission: Submission, event: Event) -> None:
    """Queue the applicant's e-mail about this state change, once per event; no commit."""
    if event.to_state not in NOTIFIED_STATES or event.action in SILENT_ACTIONS:
        return
    if not submission.applicant_email:
        return
    new = inspect(event).pending or inspect(event).transient
    session.flush()  # the job needs the event's id
    queued = session.info.setdefault(_QUEUED, set())
    if event.id in queued or (not new and _already_queued(session, event.id)):
        return
    queued.add(event.id)
    outbox.add(session, NOTIFY_JOB, event_id=event.id)


def _already_queued(session: Session, event_id: int) -> bool:
    """Whether an earlier transaction queued the e-mail of this (older) event."""
    found = session.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.job == NOTIFY_JOB)
        .where(OutboxMessage.args["event_id"].as_integer() == event_id)
        .limit(1)
    )
    return found is not None


def send_state_change(session: Session, event_id: int) -> None:
    """Write and send the e-mail for one state-change event (what the job runs)."""
    event = session.get(Event, event_id)
    if event is None or event.subject_type != Submission.__tablename__:
        raise LookupError(f"no submission event {event_id}")
    submission = session.get(Submission, event.subject_id)
    if submission is None or not submission.applicant_email:
        return
    version = submission.form_version
    title = definitions.of_version(version).title
    with force_locale("fr"):
        state = str(states.label(event.to_state))
    subject = f"Votre demande {submission.reference} : {state}"
    body = (
        "Bonjour,\n\n"
        f"Votre demande {submission.reference} ({title}) a changé d’état : {state}.\n\n"
        f"{EXPLANATIONS.get(State(event.to_state), '')}\n\n"
        "Pour suivre votre demande, connectez-vous à votre espace avec l’adresse e-mail "
        f"donnée dans la demande :\n{links.absolute('public.space_login')}\n\n"
        f"{current_app.config['ORGANISATION_NAME']}\n"
    )
    mail.send(mail.build(submission.applicant_email, subject, body, form_id=submission.form_id))


def remind_agents(session: Session, now: datetime | None = None) -> int:
    """Queue one reminder per agent about requests idle for too long; return how many. No commit."""
    from forms_app.db import utcnow

    now = now or utcnow()
    config = current_app.config
    idle_since = now - timedelta(days=config["OVERDUE_AFTER_DAYS"])
    again_after = now - timedelta(hours=config["REMINDER_INTERVAL_HOURS"])
    due = or_(Submission.reminded_at.is_(None), Submission.reminded_at <= again_after)
    last_touched = func.coalesce(Submission.last_activity_at, Submission.submitted_at)
    candidates = session.scalars(
        select(Submission)
        .where(Submission.state.in_(REMINDED_STATES), last_touched <= idle_since)
        .where(due)
        .order_by(last_touched, Submission.id)
        .limit(REMINDER_BATCH)
    ).all()
    claimed = [s for s in candidates if _claim(session, s, due, now)]
    if not claimed:
        return 0
    staff = session.scalars(
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.active.is_(True), UserRole.role.in_([Role.AGENT, Role.ADMIN]))
        .distinct()
        .order_by(User.id)
    ).all()
    active = {user.id: user for user in staff}
    assigned: dict[int, list[Submission]] = defaultdict(list)
    unassigned: list[Submission] = []
    for submission in claimed:
        if submission.assignee_id in active:
            assigned[submission.assignee_id].append(submission)
        else:
            unassigned.append(submission)
    sent = 0
    for user in staff:
        mine = assigned.get(user.id, [])
        if mine or unassigned:
            _queue_reminder(session, user, mine, unassigned)
            sent += 1
    return sent


def _claim(session: Session, submission: Submission, due, now: datetime) -> bool:
    """Mark the request reminded unless another sweep did first."""
    claimed = session.execute(
        update(Submission)
        .where(Submission.id == submission.id, due)
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(claimed)


def _queue_reminder(
    session: Session, user: User, mine: list[Submission], unassigned: list[Submission]
) -> None:
    days = current_app.config["OVERDUE_AFTER_DAYS"]
    parts = [f"Bonjour {user.name},\n\nCes demandes n’ont pas bougé depuis plus de {days} jours."]
    if mine:
        parts.append("Demandes qui vous sont attribuées :\n" + _lines(mine))
    if unassigned:
        by_form: dict[int, list[Submission]] = defaultdict(list)
        for submission in unassigned:
            by_form[submission.form_id].append(submission)
        forms = {f.id: f for f in session.scalars(select(Form).where(Form.id.in_(by_form)))}
        sections = [
            f"{_form_title(forms[form_id])} :\n{_lines(items)}"
            for form_id, items in sorted(by_form.items())
        ]
        parts.append("Demandes que personne n’a prises en charge :\n\n" + "\n\n".join(sections))
    parts.append(current_app.config["ORGANISATION_NAME"])
    subject = f"Demandes en attente depuis plus de {days} jours"
    body = "\n\n".join(parts) + "\n"
    outbox.add(session, "send_email", to=user.email, subject=subject, body=body)


def _lines(submissions: list[Submission]) -> str:
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    lines = [
        f"- {s.reference}, sans activité depuis le "
        f"{local_time(s.last_activity_at or s.submitted_at, zone)} : "
        f"{links.absolute('backoffice.submission', reference=s.reference)}"
        for s in submissions[:LISTED_MAX]
    ]
    if len(submissions) > LISTED_MAX:
        lines.append(f"- … et {len(submissions) - LISTED_MAX} autres")
    return "\n".join(lines)


def _form_title(form: Form) -> str:
    version = form.current_version
    if version is None:
        return form.slug
    return definitions.of_version(version).title
