"""Who may do what: the full role × action matrix, and each segregation-of-duties rule."""

import pytest
from sqlalchemy import func, select

from forms_app import casework, create_app, permissions
from forms_app.db import get_session
from forms_app.models import Event, Role, Submission, User
from forms_app.permissions import PermissionRefused, allowed, refusal
from tests.test_applicant_space import make_submission, publish_space_form, sign_in
from tests.test_casework import (
    act,
    make_request,
    publish_case_form,
    row,
    staff,
    staff_user,
    to_proposed,
)

ME, COLLEAGUE, APPLICANT = 1, 2, "demandeur@example.nc"

# Every staff action, written out by hand, with the request it is tried on: its state,
# whether it is assigned to the user trying it, and who proposed its decision.
SITUATIONS = {
    "take": ("submitted", None),
    "release": ("in_review", ME),
    "assign": ("submitted", None),
    "ask_changes": ("in_review", ME),
    "propose": ("in_review", ME),
    "close": ("in_review", ME),
    "approve": ("proposed", COLLEAGUE),
    "send_back": ("proposed", COLLEAGUE),
    "reject": ("proposed", COLLEAGUE),
    "cancel": ("submitted", None),
    "add_note": ("in_review", COLLEAGUE),
    "change_bank_details": ("in_review", ME),
    "issue_act": ("approved", COLLEAGUE),
    "sign": ("act_issued", COLLEAGUE),
    "pay": ("signed", COLLEAGUE),
    "cancel_act": ("act_issued", COLLEAGUE),
    "reject_payment": ("signed", COLLEAGUE),
}
AGENT = {"take", "release", "ask_changes", "propose", "close", "add_note", "change_bank_details"}
EXPECTED = {
    Role.AGENT: AGENT,
    Role.ADMIN: AGENT | {"assign", "cancel"},
    Role.APPROVER: {"approve", "send_back", "reject"},
    Role.FINANCE: {"sign", "pay", "cancel_act", "reject_payment"},
    Role.DESIGNER: set(),
    None: set(),  # a user holding no role
}


@pytest.fixture(scope="module")
def bare_app():
    """An app that is never given a database: these checks read none."""
    return create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": "sqlite:///unused"})


@pytest.fixture
def context(bare_app):
    """A request context, for the French messages."""
    with bare_app.test_request_context():
        yield


def user(*roles: Role, user_id: int = ME, email: str = "moi@example.nc") -> User:
    person = User(id=user_id, email=email, name="Moi", password_hash="!", active=True)
    person.grant(*roles)
    return person


def request_for(action: str, *, applicant: str = APPLICANT, assignee: int | None = None):
    state, other = SITUATIONS[action]
    assigned = assignee if assignee is not None else (other if state == "in_review" else None)
    return Submission(
        id=None,
        state=state,
        applicant_email=applicant,
        assignee_id=assigned,
        proposed_by_id=COLLEAGUE if state != "in_review" else None,
        proposal="accept",
        proposed_amount=1000,
    )


def test_the_matrix_lists_every_staff_action():
    assert set(SITUATIONS) == permissions.STAFF_ACTIONS


@pytest.mark.parametrize("role", list(EXPECTED), ids=lambda r: r or "no-role")
@pytest.mark.parametrize("action", list(SITUATIONS))
def test_role_action_matrix(context, role, action):
    person = user(role) if role else user()
    reason = refusal(person, action, request_for(action))
    if action in EXPECTED[role]:
        assert reason is None
        assert allowed(person, action, request_for(action))
    else:
        assert reason and isinstance(reason, str), "a refusal says why, in French"
        assert not allowed(person, action, request_for(action))


def test_anonymous_and_inactive_users_may_do_nothing(context):
    inactive = user(*Role)
    inactive.active = False
    for action in SITUATIONS:
        assert "Connectez-vous" in refusal(None, action, request_for(action))
        assert "Connectez-vous" in refusal(inactive, action, request_for(action))


@pytest.mark.parametrize("action", sorted(EXPECTED[Role.ADMIN] | EXPECTED[Role.APPROVER]))
def test_nobody_acts_on_their_own_request(context, action):
    everything = user(*Role, email=" Demandeur@Example.NC")
    reason = refusal(everything, action, request_for(action))
    assert reason == "Vous ne pouvez pas traiter une demande que vous avez déposée vous-même."


@pytest.mark.parametrize("action", sorted(AGENT - {"add_note"}))
def test_only_the_assignee_or_an_admin_works_an_assigned_request(context, action):
    assigned_elsewhere = request_for(action, assignee=COLLEAGUE)
    assert "suivie par" in refusal(user(Role.AGENT), action, assigned_elsewhere)
    assert refusal(user(Role.ADMIN), action, assigned_elsewhere) is None
    # A private note is not working the request: any agent may leave one.
    assert refusal(user(Role.AGENT), "add_note", assigned_elsewhere) is None


@pytest.mark.parametrize("action", ["approve", "send_back", "reject"])
def test_whoever_proposed_does_not_decide(context, action):
    mine = request_for(action)
    mine.proposed_by_id = ME
    assert "Vous avez proposé" in refusal(user(Role.AGENT, Role.APPROVER), action, mine)


def test_actions_fit_the_state(context):
    in_review = request_for("propose")
    assert "« En instruction »" in refusal(user(Role.AGENT), "take", in_review)
    assert "« En instruction »" in refusal(user(Role.APPROVER), "approve", in_review)
    paid = request_for("pay")
    paid.state = "paid"
    assert refusal(user(Role.ADMIN), "change_bank_details", paid) is not None
    assert refusal(user(Role.ADMIN), "assign", paid) is not None


# -- Rules that read the approvals (database) ----------------------------------------------


def test_the_same_approver_cannot_approve_twice(app):
    publish_case_form(app, threshold=10)
    users = staff(app)
    reference = make_request(app, 500)
    to_proposed(app, users, reference)
    act(app, casework.approve, reference, users["approver"])
    with app.test_request_context():
        db = get_session()
        found = db.scalar(select(Submission).where(Submission.reference == reference))
        assert "déjà validé" in refusal(db.get(User, users["approver"]), "approve", found)
        assert refusal(db.get(User, users["approver2"]), "approve", found) is None


def test_above_the_threshold_apply_itself_refuses_a_single_approver(app):
    """Even bypassing casework, the approve transition needs two distinct approvers."""
    publish_case_form(app, threshold=100_000)
    users = staff(app)
    above, at = make_request(app, 100_001), make_request(app, 100_000, email="b@example.nc")
    for reference in (above, at):
        to_proposed(app, users, reference)
    with app.test_request_context():
        db = get_session()
        approver = db.get(User, users["approver"])
        found = db.scalar(select(Submission).where(Submission.reference == above))
        with pytest.raises(PermissionRefused, match="approve") as refused:
            found.apply(db, "approve", approver)
        assert "deux personnes distinctes" in refused.value.reason
        db.rollback()
        found = db.scalar(select(Submission).where(Submission.reference == at))
        found.apply(db, "approve", approver)
        db.commit()
    assert (row(app, above).state, row(app, at).state) == ("proposed", "approved")


def test_the_signer_is_not_an_approver_of_the_request(app):
    publish_case_form(app)
    users = staff(app)
    approver_and_finance = staff_user(app, Role.APPROVER, Role.FINANCE, email="double@example.nc")
    reference = make_request(app, 500)
    to_proposed(app, users, reference)
    act(app, casework.approve, reference, approver_and_finance)
    with app.test_request_context():
        db = get_session()
        found = db.scalar(select(Submission).where(Submission.reference == reference))
        found.apply(db, "issue_act")  # the system (a job) issues the act: no user
        db.commit()
        reason = refusal(db.get(User, approver_and_finance), "sign", found)
        assert (
            reason
            == "Vous avez validé cette demande : une autre personne doit signer son paiement."
        )
        assert refusal(db.get(User, users["finance"]), "sign", found) is None


def test_a_refused_apply_changes_nothing(app):
    publish_case_form(app)
    users = staff(app)
    reference = make_request(app)
    with app.test_request_context():
        db = get_session()
        found = db.scalar(select(Submission).where(Submission.reference == reference))
        with pytest.raises(PermissionRefused):
            found.apply(db, "take", db.get(User, users["designer"]))
        db.rollback()
    assert (row(app, reference).state, row(app, reference).revision) == ("submitted", 0)


# -- The applicant space: another applicant's request is not there -------------------------


def test_an_applicant_cannot_act_on_another_applicants_request(app, client):
    publish_space_form(app)
    mine = make_submission(app, "moi@example.nc")
    theirs = make_submission(app, "voisin@example.nc")
    sign_in(app, client, "moi@example.nc")

    def event_count() -> int:
        with app.app_context():
            return get_session().scalar(select(func.count()).select_from(Event))

    before = event_count()
    for method, path, data in (
        ("get", f"/mon-espace/demandes/{theirs}", None),
        ("get", f"/mon-espace/demandes/{theirs}/retrait", None),
        ("post", f"/mon-espace/demandes/{theirs}/retrait", {"reason": "Je retire"}),
        ("post", f"/mon-espace/demandes/{theirs}/messages", {"body": "Bonjour"}),
    ):
        response = getattr(client, method)(path, data=data)
        assert response.status_code == 404, path
    assert row(app, theirs).state == "submitted"
    assert event_count() == before
    # The same withdrawal of the applicant's own request goes through.
    response = client.post(f"/mon-espace/demandes/{mine}/retrait", data={"reason": ""})
    assert response.status_code == 302
    assert (row(app, mine).state, row(app, theirs).state) == ("withdrawn", "submitted")
