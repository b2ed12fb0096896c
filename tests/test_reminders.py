"""Agents are reminded of requests nobody touched for OVERDUE_AFTER_DAYS, once per interval."""

from datetime import timedelta
from email import message_from_bytes, policy

from sqlalchemy import select, update

from forms_app.db import get_session, utcnow
from forms_app.models import Form, Role, Submission, User
from tests.support import (
    make_user,
    publish_form,
    run_worker_burst,
    sent_mails,
    start_worker,
    stop_process,
    wait_until,
)
from workflows import outbox

FIELDS = [{"key": "nom", "type": "text", "label": "Nom", "required": True}]


def add_request(app, slug, reference, state, idle_days, assignee_id=None) -> int:
    """A request in `state`, last touched `idle_days` ago."""
    with app.app_context():
        session = get_session()
        form = session.scalar(select(Form).where(Form.slug == slug))
        touched = utcnow() - timedelta(days=idle_days)
        submission = Submission(
            form_id=form.id,
            form_version_id=form.current_version_id,
            state=state,
            answers={"nom": "Dupont"},
            reference=reference,
            submitted_at=touched,
            last_activity_at=touched,
            assignee_id=assignee_id,
        )
        session.add(submission)
        session.commit()
        return submission.id


def reminders(app) -> dict[str, str]:
    """The reminder e-mails sent so far: recipient → body (one each at most)."""
    found = {}
    for path in sent_mails(app):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["Subject"].startswith("Demandes en attente"):
            assert message["To"] not in found, f"two reminders for {message['To']}"
            found[message["To"]] = message.get_content()
    return found


def run_reminders(app) -> None:
    with app.app_context():
        session = get_session()
        outbox.add(session, "remind_agents")
        session.commit()
    run_worker_burst(app)


def setup_requests(app) -> dict[str, int]:
    agent = make_user(app, Role.AGENT, email="agent@example.nc")
    make_user(app, Role.AGENT, email="collegue@example.nc")
    make_user(app, Role.ADMIN, email="admin@example.nc")
    make_user(app, Role.DESIGNER, Role.APPROVER, email="concepteur@example.nc")
    gone = make_user(app, Role.AGENT, email="parti@example.nc")
    with app.app_context():
        session = get_session()
        session.get(User, gone).active = False
        session.commit()
    publish_form(app, FIELDS, slug="aides")
    publish_form(app, FIELDS, slug="rapatriement", title="Signalement des résidents bloqués")
    add_request(app, "aides", "ESSAI-2026-000001", "in_review", 6, assignee_id=agent)
    add_request(app, "aides", "ESSAI-2026-000002", "submitted", 9)
    add_request(app, "rapatriement", "ESSAI-2026-000003", "submitted", 5.5)
    add_request(app, "aides", "ESSAI-2026-000004", "in_review", 2, assignee_id=agent)
    add_request(app, "aides", "ESSAI-2026-000005", "changes_requested", 10)
    add_request(app, "aides", "ESSAI-2026-000006", "proposed", 10, assignee_id=agent)
    add_request(app, "aides", "ESSAI-2026-000007", "in_review", 7, assignee_id=gone)
    return {"agent": agent}


def test_each_agent_gets_their_idle_requests_and_the_unassigned_ones(app):
    setup_requests(app)
    run_reminders(app)
    sent = reminders(app)
    assert sorted(sent) == ["admin@example.nc", "agent@example.nc", "collegue@example.nc"]

    mine, unassigned = sent["agent@example.nc"].split("Demandes que personne n’a prises en charge")
    assert "Ces demandes n’ont pas bougé depuis plus de 5 jours." in mine
    assert "ESSAI-2026-000001" in mine
    assert "http://127.0.0.1:5000/agents/demandes/ESSAI-2026-000001" in mine
    # Grouped per form; the request of an agent who left counts as unassigned.
    aides, rapatriement = unassigned.split("Signalement des résidents bloqués :")
    assert "Formulaire d’essai :" in aides
    assert "ESSAI-2026-000002" in aides and "ESSAI-2026-000007" in aides
    assert "ESSAI-2026-000003" in rapatriement
    for colleague in ("collegue@example.nc", "admin@example.nc"):
        body = sent[colleague]
        assert "Demandes qui vous sont attribuées" not in body
        assert all(f"ESSAI-2026-00000{n}" in body for n in (2, 3, 7))
        assert "ESSAI-2026-000001" not in body
    everything = "".join(sent.values())
    for quiet in (4, 5, 6):  # recent, waiting on the applicant, waiting on an approver
        assert f"ESSAI-2026-00000{quiet}" not in everything


def test_a_request_is_listed_once_per_interval(app):
    setup_requests(app)
    run_reminders(app)
    first = len(sent_mails(app))
    assert first == 3
    run_reminders(app)
    assert len(sent_mails(app)) == first  # nothing new: all reminded within the interval

    with app.app_context():
        session = get_session()
        session.execute(
            update(Submission)
            .where(Submission.reference == "ESSAI-2026-000001")
            .values(reminded_at=utcnow() - timedelta(hours=25))
        )
        session.commit()
    run_reminders(app)
    mails = sent_mails(app)
    assert len(mails) == first + 1
    latest = max(mails, key=lambda p: p.stat().st_mtime_ns)
    message = message_from_bytes(latest.read_bytes(), policy=policy.default)
    assert message["To"] == "agent@example.nc"
    assert "ESSAI-2026-000001" in message.get_content()
    assert "ESSAI-2026-000002" not in message.get_content()


def test_the_worker_sends_reminders_on_its_own(app, tmp_path):
    setup_requests(app)
    worker = start_worker(app, tmp_path / "worker.log")
    try:
        wait_until(lambda: len(reminders(app)) == 3, timeout=60)
    finally:
        stop_process(worker)
    with app.app_context():
        reminded = get_session().scalars(
            select(Submission.reference).where(Submission.reminded_at.is_not(None))
        )
        assert sorted(reminded) == [f"ESSAI-2026-00000{n}" for n in (1, 2, 3, 7)]


def test_the_command_queues_the_reminders(app, runner):
    setup_requests(app)
    result = runner.invoke(args=["casework", "remind"])
    assert result.exit_code == 0, result.output
    assert "Queued 3 reminder(s)." in result.output
    again = runner.invoke(args=["casework", "remind"])
    assert "Queued 0 reminder(s)." in again.output
