"""A double click or a replayed POST creates one submission."""

import re
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from forms_app.db import get_session
from forms_app.models import Submission
from tests.support import publish_form, submit_answers

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
