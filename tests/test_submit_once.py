"""A double click or a replayed POST creates one submission."""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select

from forms_app import search
from forms_app.db import get_session, utcnow
from forms_app.formdefs import definition as definitions
from forms_app.models import Event, OutboxMessage, OutboxStatus, ReferenceCounter, Submission
from tests.support import publish_form, submit_answers
from workflows.queue import get_queue

FIELDS = [{"key": "nom", "type": "text", "label": "Nom", "required": True}]


def count(app) -> int:
    with app.app_context():
        submitted = select(func.count()).where(Submission.reference.is_not(None))
        return get_session().scalar(submitted)


def token_of(page: str) -> str:
    return re.search(r'name="_jeton" value="([0-9a-f]{32})"', page).group(1)


def check_page(client, slug: str) -> str:
    """Fill the one-page form and return its check page, ready to submit."""
    page = submit_answers(client, slug, {"nom": "Wamytan"}, submit=False)
    assert page.status_code == 200
    return page.text


def test_replayed_post_gives_the_same_submission(app, client):
    slug = publish_form(app, FIELDS)
    token = token_of(check_page(client, slug))
    url = f"/demarches/{slug}/verification"
    first = client.post(url, data={"_jeton": token})
    second = client.post(url, data={"_jeton": token})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"] == f"/demarches/{slug}/merci"
    assert count(app) == 1
    other = app.test_client()  # the same POST replayed from elsewhere
    assert other.post(url, data={"_jeton": token}).status_code == 302
    assert count(app) == 1
    reference = get_reference(app)
    assert reference in other.get(f"/demarches/{slug}/merci").text


def test_a_submitted_draft_cannot_be_submitted_again_with_a_new_token(app, client):
    slug = publish_form(app, FIELDS)
    check_page(client, slug)
    url = f"/demarches/{slug}/verification"
    assert client.post(url, data={"_jeton": "a" * 32}).status_code == 302
    again = client.post(url, data={"_jeton": "b" * 32})  # e.g. the back button, then submit
    assert again.status_code == 302
    assert count(app) == 1


def test_new_pages_get_new_tokens(app, client):
    slug = publish_form(app, FIELDS)
    text = check_page(client, slug)
    assert token_of(text) != token_of(client.get(f"/demarches/{slug}/verification").text)
    client.post(f"/demarches/{slug}/verification", data={})  # no token: still accepted
    assert count(app) == 1


def test_concurrent_submissions_of_one_draft_make_one_submission(app, client):
    slug = publish_form(app, FIELDS)
    check_page(client, slug)
    url = f"/demarches/{slug}/verification"
    cookie = client.get_cookie("session").value

    def click(index: int) -> int:
        browser = app.test_client()
        browser.set_cookie("session", cookie)  # the same browser, many clicks, many tokens
        return browser.post(url, data={"_jeton": f"{index:032x}"}).status_code

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(pool.map(click, range(10)))
    assert statuses == [302] * 10
    assert count(app) == 1
    with app.app_context():
        reference = get_session().scalar(select(Submission.reference))
        assert reference.endswith("-000001")  # no number burnt by the losers


def test_concurrent_replays_make_one_submission(app, client):
    slug = publish_form(app, FIELDS)
    token = token_of(check_page(client, slug))
    cookie = client.get_cookie("session").value

    def replay(_):
        browser = app.test_client()
        browser.set_cookie("session", cookie)
        return browser.post(f"/demarches/{slug}/verification", data={"_jeton": token}).status_code

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(pool.map(replay, range(10)))
    assert statuses == [302] * 10
    assert count(app) == 1


def get_reference(app) -> str:
    with app.app_context():
        return get_session().scalar(select(Submission.reference))


def test_the_final_post_writes_the_request_its_event_and_its_jobs_together(app, client):
    """What one submit writes, on either database (PostgreSQL writes it in one statement)."""
    slug = publish_form(app, FIELDS)
    token = token_of(check_page(client, slug))
    with app.app_context():
        draft = get_session().scalar(select(Submission))
        draft_id, revision = draft.id, draft.revision
    response = client.post(f"/demarches/{slug}/verification", data={"_jeton": token})
    assert response.status_code == 302

    with app.app_context():
        db = get_session()
        found = db.get(Submission, draft_id)
        assert found.state == "submitted" and found.submit_token == token
        assert re.fullmatch(r"ESSAI-\d{4}-000001", found.reference)
        assert found.answers == {"nom": "Wamytan"} and found.revision == revision + 1
        assert found.draft_data is None and found.resume_token_hash is None
        assert found.expires_at is None
        assert found.submitted_at == found.last_activity_at is not None
        definition = definitions.of_version(found.form_version)
        assert found.search_text == search.search_text(
            definition, found.answers, found.reference, found.applicant_email
        )  # on PostgreSQL the statement puts the reference first itself
        assert (
            found.search_text.startswith(found.reference.lower()) and "wamytan" in found.search_text
        )
        assert found.rule_results["eligible"] is True
        events = db.scalars(select(Event).where(Event.subject_id == draft_id)).all()
        submitted = [e for e in events if e.action == "submit"]
        assert [(e.subject_type, e.from_state, e.to_state, e.actor_id, e.details)
                for e in submitted] == [
            ("submission", "draft", "submitted", None, {"by": "applicant"})
        ]  # fmt: skip
        assert abs(submitted[0].created_at - found.submitted_at) < timedelta(seconds=5)
        jobs = db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(m.job, m.args, m.status, m.attempts) for m in jobs] == [
            ("send_receipt", {"submission_id": draft_id}, OutboxStatus.ENQUEUED, 0),
            ("check_submission", {"submission_id": draft_id}, OutboxStatus.ENQUEUED, 0),
        ]
        for stamp in [m.enqueued_at for m in jobs] + [m.created_at for m in jobs]:
            assert abs(stamp - found.submitted_at) < timedelta(seconds=5)
    queued = get_queue(app).job_ids  # pushed to RQ right after the commit
    assert sorted(queued) == sorted(f"outbox-{m.id}" for m in jobs)


def test_a_reference_past_999999_keeps_every_digit(app, client):
    slug = publish_form(app, FIELDS)
    token = token_of(check_page(client, slug))
    with app.app_context():
        db = get_session()
        db.add(ReferenceCounter(prefix="ESSAI", year=utcnow().year, last_value=999_999))
        db.commit()
    assert client.post(f"/demarches/{slug}/verification", data={"_jeton": token}).status_code == 302
    assert get_reference(app) == f"ESSAI-{utcnow().year}-1000000"
