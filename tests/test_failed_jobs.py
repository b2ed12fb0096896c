"""Failed jobs in the ops area: listed with their error, retried by an admin, run by a worker."""

import re
from email import message_from_bytes, policy

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forms_app.db import get_session, utcnow
from forms_app.models import Event, OutboxMessage, OutboxStatus, Role, Submission
from tests.backoffice_support import staff
from tests.inbox_support import StatementCounter
from tests.support import publish_form, run_worker_burst, sent_mails, submit_directly
from workflows import outbox

URL = "/agents/pilotage/travaux"
SMTP_DOWN = {"GUICHET_MAIL_BACKEND": "smtp", "GUICHET_SMTP_PORT": "1"}
FIELDS = [{"key": "courriel", "type": "email", "label": "Adresse e-mail", "required": True}]


def admin(app):
    return staff(app, "admin@example.nc", Role.ADMIN)


def a_request(app) -> tuple[int, str]:
    """A submitted request (its receipt and checks queued); its id and reference."""
    publish_form(app, FIELDS)
    reference = submit_directly(app, "essai", {"courriel": "demandeur@example.nc"})
    with app.app_context():
        found = get_session().scalar(select(Submission).where(Submission.reference == reference))
        return found.id, reference


def failed(app, job: str = "send_email", error: str = "SMTPError: refused", **args) -> int:
    """A committed outbox row that gave up, as `workflows.outbox` leaves one; its id."""
    args = args or {"to": "demandeur@example.nc", "subject": "Essai", "body": "Bonjour."}
    with app.app_context():
        session = get_session()
        message = OutboxMessage(
            job=job,
            args=args,
            status=OutboxStatus.FAILED,
            attempts=5,
            last_error=error,
            started_at=utcnow(),
            finished_at=utcnow(),
        )
        session.add(message)
        session.commit()
        return message.id


def load(app, message_id: int) -> OutboxMessage:
    with app.app_context():
        return get_session().get(OutboxMessage, message_id)


def retry_events(app) -> list[Event]:
    with app.app_context():
        query = (
            select(Event)
            .where(Event.action == "job_retried")
            .options(joinedload(Event.actor))
            .order_by(Event.id)
        )
        return list(get_session().scalars(query))


def listed_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="travail-(\d+)">', html)]


def test_only_admins_see_and_retry_failed_jobs(app, client):
    message_id = failed(app)
    response = client.get(URL)
    assert response.status_code == 302 and "/agents/connexion" in response.headers["Location"]
    assert client.post(f"{URL}/{message_id}/relancer").status_code == 302
    agent = staff(app, "agent@example.nc", Role.AGENT)
    assert agent.get(URL).status_code == 403
    assert agent.post(f"{URL}/{message_id}/relancer").status_code == 403
    assert agent.post(f"{URL}/relancer-tout", data={"travail": "send_email"}).status_code == 403
    assert "Travaux en échec" not in agent.get("/agents/pilotage/").text
    assert load(app, message_id).status is OutboxStatus.FAILED
    page = admin(app).get(URL)
    assert page.status_code == 200
    assert listed_ids(page.text) == [message_id]
    assert retry_events(app) == []


def test_the_list_shows_the_job_its_request_and_its_error_escaped(app):
    submission_id, reference = a_request(app)
    error = 'TemplateError: <script>alert("x")</script> & co'
    receipt = failed(app, "send_receipt", error, submission_id=submission_id)
    other = failed(app, "no_longer_a_job", "KeyError: 'gone'", id=3)
    page = admin(app).get(URL).text
    assert listed_ids(page) == [other, receipt]  # newest first
    assert "Accusé de réception" in page and "no_longer_a_job" in page
    assert f'<a href="/agents/demandes/{reference}">{reference}</a>' in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co</pre>" in page
    assert "<details" in page and "Travaux en échec (2)" in page
    # The rows still to run: the request's receipt and checks were queued when it was sent.
    figures = re.findall(
        r'key-figure__value">([^<]+)</span><span class="key-figure__label">([^<]+)', page
    )
    assert ("2", "Dans la file") in figures and ("2", "En échec") in figures


def test_filter_by_job_and_keyset_pages(app):
    emails = [failed(app) for _ in range(52)]
    checks = [failed(app, "check_submission", "LookupError: no submission 9", submission_id=9)]
    client = admin(app)
    first = client.get(URL).text
    assert listed_ids(first) == (checks + emails[::-1])[:50]
    following = re.search(r'href="([^"]+)" rel="next"', first)[1].replace("&amp;", "&")
    second = client.get(following).text
    assert listed_ids(second) == emails[2::-1]
    assert 'rel="next"' not in second and "Première page" in second
    only = client.get(URL, query_string={"travail": "check_submission"}).text
    assert listed_ids(only) == checks and "Contrôles" in only
    assert listed_ids(client.get(URL, query_string={"travail": "nope"}).text)[:1] == checks


def test_retry_makes_the_row_pending_audited_and_a_worker_runs_it(app):
    message_id = failed(app)
    client = admin(app)
    response = client.post(f"{URL}/{message_id}/relancer")
    assert response.status_code == 302 and response.headers["Location"].endswith(URL)
    message = load(app, message_id)
    # Committed as pending with fresh attempts, then pushed to the queue at once.
    assert message.status is OutboxStatus.ENQUEUED and message.attempts == 0
    [event] = retry_events(app)
    assert (event.subject_type, event.subject_id) == ("outbox_message", message_id)
    assert (event.from_state, event.to_state) == ("failed", "pending")
    assert event.details == {"message_id": message_id, "job": "send_email"}
    assert event.actor.email == "admin@example.nc"
    assert "Le travail a été relancé." in client.get(URL).text

    again = client.post(f"{URL}/{message_id}/relancer")
    assert again.status_code == 409 and "Ce travail n’est plus en échec." in again.text
    assert len(retry_events(app)) == 1
    run_worker_burst(app)
    message = load(app, message_id)
    assert message.status is OutboxStatus.DONE and message.attempts == 1
    assert len(sent_mails(app)) == 1
    assert client.post(f"{URL}/{message_id}/relancer").status_code == 409
    assert client.post(f"{URL}/999999/relancer").status_code == 404
    assert load(app, message_id).status is OutboxStatus.DONE


def test_retry_all_runs_every_failed_job_of_one_kind(app):
    emails = [failed(app) for _ in range(3)]
    check = failed(app, "check_submission", "LookupError: no submission 9", submission_id=9)
    client = admin(app)
    response = client.post(f"{URL}/relancer-tout", data={"travail": "send_email"})
    assert response.status_code == 302
    assert "3 travaux « Courriel » ont été relancés." in client.get(URL).text
    assert [load(app, i).status for i in emails] == [OutboxStatus.ENQUEUED] * 3
    assert load(app, check).status is OutboxStatus.FAILED
    assert sorted(e.subject_id for e in retry_events(app)) == emails
    nothing = client.post(f"{URL}/relancer-tout", data={"travail": "send_email"})
    assert nothing.status_code == 409
    assert client.post(f"{URL}/relancer-tout", data={"travail": "rm -rf"}).status_code == 400
    assert len(retry_events(app)) == 3
    run_worker_burst(app)
    assert [load(app, i).status for i in emails] == [OutboxStatus.DONE] * 3
    assert len(sent_mails(app)) == 3


def test_a_job_that_keeps_failing_is_listed_then_retried_once_fixed(app):
    """A real failure: the receipt's e-mail meets a mail relay that does not answer."""
    submission_id, reference = a_request(app)
    run_worker_burst(app, GUICHET_OUTBOX_MAX_ATTEMPTS="1", **SMTP_DOWN)
    with app.app_context():
        session = get_session()
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert {m.job: m.status for m in rows} == {
            "send_receipt": OutboxStatus.FAILED,
            "check_submission": OutboxStatus.DONE,
        }
        [receipt] = [m for m in rows if m.job == "send_receipt"]
        assert session.get(Submission, submission_id).receipt_key is None  # rolled back
    assert sent_mails(app) == []

    client = admin(app)
    page = client.get(URL).text
    assert listed_ids(page) == [receipt.id]
    assert reference in page and "ConnectionRefusedError" in page
    # The relay is fixed (here: the worker writes e-mails to files again); the admin retries.
    assert client.post(f"{URL}/{receipt.id}/relancer").status_code == 302
    run_worker_burst(app)
    assert load(app, receipt.id).status is OutboxStatus.DONE
    [mail] = sent_mails(app)
    parsed = message_from_bytes(mail.read_bytes(), policy=policy.default)
    assert reference in parsed["Subject"] and parsed["To"] == "demandeur@example.nc"
    [attachment] = parsed.iter_attachments()
    assert attachment.get_content().startswith(b"%PDF")
    with app.app_context():
        assert get_session().get(Submission, submission_id).receipt_key
    assert listed_ids(client.get(URL).text) == []


def test_retry_needs_the_csrf_token(app):
    message_id = failed(app)
    client = admin(app)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"{URL}/{message_id}/relancer").status_code == 400
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(URL).text)[1]
    response = client.post(f"{URL}/{message_id}/relancer", data={"csrf_token": token})
    assert response.status_code == 302
    assert load(app, message_id).status is not OutboxStatus.FAILED


def test_the_list_runs_the_same_statements_for_5_or_50_rows(app):
    submission_id, _reference = a_request(app)
    client = admin(app)
    counts = []
    for total, more in ((5, 5), (50, 45)):
        for _ in range(more):
            failed(app, "send_receipt", "OSError: broken", submission_id=submission_id)
        with StatementCounter(app) as counter:
            page = client.get(URL)
        assert page.status_code == 200 and len(listed_ids(page.text)) == total
        counts.append(counter.count)
    assert counts[0] == counts[1]
    assert counts[0] <= 10


def test_retry_writes_nothing_when_the_row_moved_on(app):
    message_id = failed(app)
    with app.app_context():
        session = get_session()
        assert outbox.retry(session, message_id)
        session.commit()
    response = admin(app).post(f"{URL}/{message_id}/relancer")
    assert response.status_code == 409
    assert retry_events(app) == []
