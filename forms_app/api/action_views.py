"""Acting on a request as the token's account: the same state machine, permissions and
segregation of duties as the back office, each action audited, idempotent with a key."""

from flask_smorest import Blueprint
from flask_smorest import abort as fail

from forms_app import approvals, casework, permissions
from forms_app.api import access, idempotency
from forms_app.api.schemas import (
    ActionResultSchema,
    MessageResultSchema,
    MessageSchema,
    ProposeSchema,
    RejectSchema,
    RevisionSchema,
)
from forms_app.backoffice.messages import MESSAGE_ROLES
from forms_app.casework import CaseworkError, StaleRevision
from forms_app.db import get_session
from forms_app.models import Submission
from workflows import states
from workflows.states import Action

PATH = "/submissions"
blp = Blueprint("api_actions", __name__, description="Actions on a request (write tokens).")
KEY_HEADER = {
    "in": "header",
    "name": idempotency.HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 100},
    "description": "Retrying with the same key answers as the first time, and acts once.",
}


def _act(reference: str, action: str, change) -> object:
    """Check, then run `change(submission, user)` and answer the request's new state."""
    access.require_roles(*access.CASE_ROLES)
    access.require_write()

    def run() -> tuple[dict, int]:
        found = access.submission_or_404(reference)
        if not states.can(found.state, action, by=states.BY_AGENT):
            fail(409, message="This action is not possible in the request's state.")
        refused = permissions.refusal(access.user(), action, found)
        if refused is not None:
            fail(403, message=refused)
        try:
            change(found, access.user())
        except StaleRevision as error:
            fail(409, message=str(error))
        except CaseworkError as error:
            fail(422, message=str(error))
        return ActionResultSchema().dump(_state(found)), 200

    return idempotency.run(run)


def _state(found: Submission) -> dict:
    return {"reference": found.reference, "state": found.state, "revision": found.revision}


@blp.post("/<reference>/take")
@blp.arguments(RevisionSchema)
@blp.response(200, ActionResultSchema)
@blp.doc(parameters=[KEY_HEADER])
def take(body: dict, reference: str):
    """Take the request for review (it becomes the token's account's)."""
    revision = body.get("revision")
    return _act(reference, Action.TAKE, lambda found, user: casework.take(
        get_session(), found, user, revision))  # fmt: skip


@blp.post("/<reference>/propose")
@blp.arguments(ProposeSchema)
@blp.response(200, ActionResultSchema)
@blp.doc(parameters=[KEY_HEADER])
def propose(body: dict, reference: str):
    """Propose to accept (an amount, the computed one by default) or to reject (a reason)."""
    return _act(reference, Action.PROPOSE, lambda found, user: casework.propose(
        get_session(), found, user, body.get("revision"), accept=body["decision"] == "accept",
        amount=body.get("amount"), reason=body.get("reason")))  # fmt: skip


@blp.post("/<reference>/approve")
@blp.arguments(RevisionSchema)
@blp.response(200, ActionResultSchema)
@blp.doc(parameters=[KEY_HEADER])
def approve(body: dict, reference: str):
    """Approve the proposal (someone other than who proposed it; a second approver above the
    form's threshold)."""
    return _act(reference, Action.APPROVE, lambda found, user: approvals.approve(
        get_session(), found, user, body.get("revision")))  # fmt: skip


@blp.post("/<reference>/reject")
@blp.arguments(RejectSchema)
@blp.response(200, ActionResultSchema)
@blp.doc(parameters=[KEY_HEADER])
def reject(body: dict, reference: str):
    """Refuse the request, with a reason."""
    return _act(reference, Action.REJECT, lambda found, user: approvals.reject(
        get_session(), found, user, body.get("revision"), body["reason"]))  # fmt: skip


@blp.post("/<reference>/messages")
@blp.arguments(MessageSchema)
@blp.response(201, MessageResultSchema)
@blp.doc(parameters=[KEY_HEADER])
def message(body: dict, reference: str):
    """Write to the applicant; they are e-mailed that a message waits in their space."""
    access.require_roles(*MESSAGE_ROLES)
    access.require_write()

    def run() -> tuple[dict, int]:
        found = access.submission_or_404(reference)
        try:
            text = casework.required_text(body["body"], "The message is empty.")
        except CaseworkError as error:
            fail(422, message=str(error))
        db = get_session()
        written = casework.write_to_applicant(db, found, access.user(), text)
        db.flush()
        result = {"id": written.id, "reference": found.reference, "created_at": written.created_at}
        return MessageResultSchema().dump(result), 201

    return idempotency.run(run)
