"""Processing states of a submission and the transition table (DESIGN §4). Pure: no DB, no RQ.

    draft ─submit→ submitted ─take→ in_review ─propose→ proposed ─approve→ approved
    in_review ─ask_changes→ changes_requested ─resubmit→ submitted
    in_review ─close→ closed          proposed ─reject→ rejected
    in_review ─release→ submitted     proposed ─send_back→ in_review
    approved ─void→ proposed (bank details changed after approval: the approval is voided)
    approved ─issue_act→ act_issued ─sign→ signed ─pay→ paid
    act_issued ─cancel_act→ approved (the act is cancelled; a new one can be issued)
    signed ─reject_payment→ act_issued (the bank returned the transfer)
    any open state ─withdraw→ withdrawn (applicant)
    any pre-payment state ─cancel→ cancelled

Labels are lazy strings: they are translated when shown, in the visitor's language.
"""

import enum

from flask_babel import lazy_gettext as _l


class State(enum.StrEnum):
    """Where a submission is in its processing (the values are stored in submission.state)."""

    DRAFT = "draft"  # brouillon: no reference yet
    SUBMITTED = "submitted"  # en construction: received, not taken yet
    IN_REVIEW = "in_review"  # en instruction
    CHANGES_REQUESTED = "changes_requested"  # the applicant must complete the request
    PROPOSED = "proposed"  # the reviewer proposed a decision; an approver decides
    APPROVED = "approved"  # accepté
    REJECTED = "rejected"  # refusé
    CLOSED = "closed"  # classé sans suite
    ACT_ISSUED = "act_issued"  # payment act numbered and rendered
    SIGNED = "signed"  # its bordereau is signed by finance
    PAID = "paid"
    WITHDRAWN = "withdrawn"  # by the applicant, before any decision
    CANCELLED = "cancelled"  # by staff, before payment


class Action(enum.StrEnum):
    """What can happen to a submission; each is also the action of its audit event."""

    SUBMIT = "submit"
    TAKE = "take"
    RELEASE = "release"  # the reviewer hands the request back to the queue
    ASK_CHANGES = "ask_changes"
    RESUBMIT = "resubmit"
    PROPOSE = "propose"
    APPROVE = "approve"
    SEND_BACK = "send_back"  # the approver returns the proposal to the reviewer
    REJECT = "reject"
    CLOSE = "close"
    ISSUE_ACT = "issue_act"  # "act" in DESIGN §4
    SIGN = "sign"
    PAY = "pay"
    CANCEL_ACT = "cancel_act"  # the payment act is cancelled; its number stays used
    REJECT_PAYMENT = "reject_payment"  # the bank returned the transfer
    WITHDRAW = "withdraw"
    CANCEL = "cancel"
    VOID = "void"  # an approval voided because the bank details changed


# Not decided yet: the applicant may still withdraw.
OPEN_STATES = frozenset({State.SUBMITTED, State.IN_REVIEW, State.CHANGES_REQUESTED, State.PROPOSED})
# A decision was taken (accepted and its payment steps, refused, closed without follow-up).
DECIDED_STATES = frozenset(
    {State.APPROVED, State.ACT_ISSUED, State.SIGNED, State.PAID, State.REJECTED, State.CLOSED}
)
# Staff may cancel anything that is neither paid nor already ended.
PRE_PAYMENT_STATES = OPEN_STATES | {State.APPROVED, State.ACT_ISSUED, State.SIGNED}

TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.DRAFT, Action.SUBMIT): State.SUBMITTED,
    (State.SUBMITTED, Action.TAKE): State.IN_REVIEW,
    (State.IN_REVIEW, Action.RELEASE): State.SUBMITTED,
    (State.IN_REVIEW, Action.ASK_CHANGES): State.CHANGES_REQUESTED,
    (State.CHANGES_REQUESTED, Action.RESUBMIT): State.SUBMITTED,
    (State.IN_REVIEW, Action.PROPOSE): State.PROPOSED,
    (State.IN_REVIEW, Action.CLOSE): State.CLOSED,
    (State.PROPOSED, Action.APPROVE): State.APPROVED,
    (State.PROPOSED, Action.SEND_BACK): State.IN_REVIEW,
    (State.PROPOSED, Action.REJECT): State.REJECTED,
    (State.APPROVED, Action.VOID): State.PROPOSED,
    (State.APPROVED, Action.ISSUE_ACT): State.ACT_ISSUED,
    (State.ACT_ISSUED, Action.SIGN): State.SIGNED,
    (State.SIGNED, Action.PAY): State.PAID,
    (State.ACT_ISSUED, Action.CANCEL_ACT): State.APPROVED,
    (State.SIGNED, Action.REJECT_PAYMENT): State.ACT_ISSUED,
    **{(state, Action.WITHDRAW): State.WITHDRAWN for state in OPEN_STATES},
    **{(state, Action.CANCEL): State.CANCELLED for state in PRE_PAYMENT_STATES},
}

# Who takes each action: the applicant (through the public pages) or staff.
APPLICANT_ACTIONS = frozenset({Action.SUBMIT, Action.RESUBMIT, Action.WITHDRAW})
STAFF_ACTIONS = frozenset(Action) - APPLICANT_ACTIONS
BY_APPLICANT = "applicant"
BY_AGENT = "agent"

# No way out of these.
FINAL_STATES = frozenset(State) - {state for state, _ in TRANSITIONS}

STATE_LABELS = {
    State.DRAFT: _l("Brouillon"),
    State.SUBMITTED: _l("Déposée"),
    State.IN_REVIEW: _l("En instruction"),
    State.CHANGES_REQUESTED: _l("Compléments demandés"),
    State.PROPOSED: _l("En cours de validation"),
    State.APPROVED: _l("Acceptée"),
    State.REJECTED: _l("Refusée"),
    State.CLOSED: _l("Classée sans suite"),
    State.ACT_ISSUED: _l("Acceptée – paiement en préparation"),
    State.SIGNED: _l("Acceptée – paiement ordonné"),
    State.PAID: _l("Payée"),
    State.WITHDRAWN: _l("Retirée"),
    State.CANCELLED: _l("Annulée"),
}

# What happened, as the applicant's timeline says it.
ACTION_LABELS = {
    Action.SUBMIT: _l("Demande déposée"),
    Action.TAKE: _l("Demande prise en charge"),
    Action.RELEASE: _l("Demande remise en attente de prise en charge"),
    Action.ASK_CHANGES: _l("Compléments demandés"),
    Action.RESUBMIT: _l("Demande complétée"),
    Action.PROPOSE: _l("Décision proposée pour validation"),
    Action.APPROVE: _l("Demande acceptée"),
    Action.SEND_BACK: _l("Proposition renvoyée à l’instruction"),
    Action.REJECT: _l("Demande refusée"),
    Action.CLOSE: _l("Demande classée sans suite"),
    Action.ISSUE_ACT: _l("Acte de paiement établi"),
    Action.SIGN: _l("Paiement ordonné"),
    Action.PAY: _l("Paiement effectué"),
    Action.CANCEL_ACT: _l("Acte de paiement annulé"),
    Action.REJECT_PAYMENT: _l("Paiement rejeté par la banque"),
    Action.WITHDRAW: _l("Demande retirée"),
    Action.CANCEL: _l("Demande annulée"),
    Action.VOID: _l("Acceptation suspendue : coordonnées bancaires modifiées"),
}


class TransitionError(ValueError):
    """The action is not allowed from the current state, or not for this kind of actor."""

    def __init__(self, state: str, action: str, by: str):
        super().__init__(f"{action!r} is not allowed from {state!r} by {by}")
        self.state = state
        self.action = action
        self.by = by


def next_state(state: str, action: str, *, by: str = BY_AGENT) -> State:
    """The state `action` leads to from `state` when taken `by` the applicant or an agent.

    Raise TransitionError for anything the table does not allow.
    """
    if by not in (BY_APPLICANT, BY_AGENT):
        raise ValueError(f"by must be {BY_APPLICANT!r} or {BY_AGENT!r}, not {by!r}")
    allowed = APPLICANT_ACTIONS if by == BY_APPLICANT else STAFF_ACTIONS
    try:
        target = TRANSITIONS[State(state), Action(action)]
    except (KeyError, ValueError):
        raise TransitionError(state, action, by) from None
    if Action(action) not in allowed:
        raise TransitionError(state, action, by)
    return target


def can(state: str, action: str, *, by: str = BY_AGENT) -> bool:
    """Whether next_state() would allow it."""
    try:
        next_state(state, action, by=by)
    except TransitionError:
        return False
    return True


def label(state: str) -> str:
    """The French (or chosen language) label of a state; the raw value if unknown."""
    try:
        return STATE_LABELS[State(state)]
    except ValueError:
        return state
