"""Who may do what: the one place staff authorization is decided.

`roles_required` guards views by role. `refusal(user, action, submission)` decides one action
on one request: the role × action matrix, the state the request is in, and the segregation of
duties (DESIGN §4): nobody acts on their own request; only the assignee (or an admin) works an
assigned request; whoever proposed a decision does not decide it; an approver approves once;
the signer did not approve. `transitions.apply` calls `check_transition` for every staff move.
"""

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import object_session

from forms_app import budget
from forms_app.models import Approval, Role, Submission, User
from workflows import states
from workflows.states import Action, State, TransitionError

STAFF_ROLES = frozenset(Role)

# Casework actions that are not state transitions.
ASSIGN = "assign"
ADD_NOTE = "add_note"
CHANGE_BANK_DETAILS = "change_bank_details"

# What each role may do. Issuing the payment act is run by a job (no user), so nobody has it.
AGENT_ACTIONS = frozenset(
    {
        Action.TAKE,
        Action.RELEASE,
        Action.ASK_CHANGES,
        Action.PROPOSE,
        Action.CLOSE,
        ADD_NOTE,
        CHANGE_BANK_DETAILS,
    }
)
DECISION_ACTIONS = frozenset({Action.APPROVE, Action.SEND_BACK, Action.REJECT})
ROLE_ACTIONS: dict[Role, frozenset[str]] = {
    Role.AGENT: AGENT_ACTIONS,
    Role.ADMIN: AGENT_ACTIONS | {ASSIGN, Action.CANCEL},
    Role.APPROVER: DECISION_ACTIONS,
    Role.FINANCE: frozenset({Action.SIGN, Action.PAY, Action.CANCEL_ACT, Action.REJECT_PAYMENT}),
    Role.DESIGNER: frozenset(),
}
SYSTEM_ACTIONS = frozenset({Action.ISSUE_ACT})
STAFF_ACTIONS = frozenset().union(*ROLE_ACTIONS.values()) | SYSTEM_ACTIONS
# Working a request: reserved to its assignee (and admins) once it has one.
WORK_ACTIONS = AGENT_ACTIONS - {ADD_NOTE}
# A transition taken on behalf of another action.
TRANSITION_PERMISSION = {Action.VOID: CHANGE_BANK_DETAILS}
# Where the actions that are not transitions make sense.
ACTION_STATES = {
    ASSIGN: states.OPEN_STATES,
    ADD_NOTE: frozenset(State) - {State.DRAFT},
    CHANGE_BANK_DETAILS: states.OPEN_STATES | {State.APPROVED},
}


class PermissionRefused(TransitionError):
    """A staff move refused by the rules above; `reason` is the French message."""

    def __init__(self, state: str, action: str, reason: str):
        super().__init__(state, action, states.BY_AGENT)
        self.reason = reason


def roles_required(*roles: Role) -> Callable:
    """Let a view through only for signed-in staff holding one of `roles`."""
    allowed = frozenset(roles) or STAFF_ROLES

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*allowed):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = allowed
        return wrapped

    return decorator


def allowed(user: User | None, action: str, submission: Submission) -> bool:
    """Whether `user` may take `action` on `submission` now."""
    return refusal(user, action, submission) is None


def refusal(user: User | None, action: str, submission: Submission) -> str | None:
    """None when `user` may take `action` on `submission` now, else the French reason why not."""
    action = TRANSITION_PERMISSION.get(action, action)
    roles = getattr(user, "roles", frozenset()) if user is not None else frozenset()
    if user is None or not getattr(user, "is_active", False) or not roles:
        return _("Connectez-vous avec un compte agent pour traiter les demandes.")
    if action not in STAFF_ACTIONS:
        return _("Cette action n’existe pas.")
    if not any(action in ROLE_ACTIONS[role] for role in roles):
        return _role_refusal(action)
    if is_own(user, submission):
        return _("Vous ne pouvez pas traiter une demande que vous avez déposée vous-même.")
    if not _state_allows(submission.state, action):
        return _(
            "Cette action n’est pas possible : la demande est « %(state)s ».",
            state=states.label(submission.state),
        )
    if action in WORK_ACTIONS and not _may_work(user, submission):
        return _(
            "Cette demande est suivie par %(name)s : seule cette personne ou un administrateur "
            "peut la traiter.",
            name=submission.assignee.name if submission.assignee else _("une autre personne"),
        )
    if action in DECISION_ACTIONS and submission.proposed_by_id == user.id:
        return _(
            "Vous avez proposé cette décision : une autre personne doit la valider, la renvoyer "
            "ou la refuser."
        )
    if action == Action.APPROVE and user.id in approver_ids(submission):
        return _(
            "Vous avez déjà validé cette proposition : la validation suivante doit venir "
            "d’une autre personne."
        )
    if action == Action.SIGN and user.id in approver_ids(submission):
        return _("Vous avez validé cette demande : une autre personne doit signer son paiement.")
    return None


def check_transition(user: User, action: str, submission: Submission) -> None:
    """Raise PermissionRefused unless `user` may move `submission` along `action` now.

    Moving to approved also needs enough distinct approvers (`user` being the last one).
    """
    reason = refusal(user, action, submission)
    if reason is None and action == Action.APPROVE:
        reason = missing_approvals_refusal(user, submission)
    if reason is not None:
        raise PermissionRefused(submission.state, action, reason)


def required_approvals(submission: Submission) -> int:
    """Two distinct approvers above the form's threshold for an acceptance, else one."""
    threshold = budget.approval_threshold(submission.form)
    amount = submission.proposed_amount or 0
    if submission.proposal == "accept" and threshold is not None and amount > threshold:
        return 2
    return 1


def missing_approvals_refusal(user: User, submission: Submission) -> str | None:
    """The reason `user`'s approval cannot be the deciding one yet, or None."""
    others = approver_ids(submission) - {user.id}
    if len(others) + 1 >= required_approvals(submission):
        return None
    return _("Au-delà du seuil du formulaire, deux personnes distinctes doivent valider.")


def approver_ids(submission: Submission, fingerprint: str | None = None) -> set[int]:
    """Who approved the current proposal (approvals not voided, for these bank details)."""
    session = object_session(submission)
    if session is None or submission.id is None:
        return set()
    query = select(Approval.approver_id).where(
        Approval.submission_id == submission.id, Approval.voided_at.is_(None)
    )
    if fingerprint is not None:
        query = query.where(Approval.bank_fingerprint == fingerprint)
    return set(session.scalars(query))


def _role_refusal(action: str) -> str:
    if action in DECISION_ACTIONS:
        return _("Seuls les valideurs et valideuses peuvent décider d’une proposition.")
    if action in (ASSIGN, Action.CANCEL):
        return _("Seuls les administrateurs et administratrices peuvent faire cette action.")
    if action in ROLE_ACTIONS[Role.FINANCE]:
        return _("Seule la direction des finances peut signer et payer.")
    if action in SYSTEM_ACTIONS:
        return _("L’acte de paiement est établi automatiquement après l’acceptation.")
    return _("Seuls les agents instructeurs peuvent traiter les demandes.")


def is_own(user: User, submission: Submission) -> bool:
    """Whether `user` is the applicant of `submission` (same e-mail, case-insensitive)."""
    email = (submission.applicant_email or "").strip().lower()
    return bool(email) and email == (user.email or "").strip().lower()


def _state_allows(state: str, action: str) -> bool:
    if action in ACTION_STATES:
        return state in ACTION_STATES[action]
    return states.can(state, action)


def _may_work(user: User, submission: Submission) -> bool:
    return submission.assignee_id in (None, user.id) or Role.ADMIN in user.roles
