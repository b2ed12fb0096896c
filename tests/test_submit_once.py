"""A double click or a replayed POST creates one submission."""

import re
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from forms_app.db import get_session
from forms_app.models import Submission
from tests.support import publish_form

FIELDS = [{"key": "nom", "type": "text", "label": "Nom", "required": True}]


def count(app) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(Submission))


def token_of(page: str) -> str:
    return re.search(r'name="_jeton" value="([0-9a-f]{32})"', page).group(1)


def test_replayed_post_gives_the_same_submission(app, client):
    slug = publish_form(app, FIELDS)
    token = token_of(client.get(f"/demarches/{slug}/").text)
    first = client.post(f"/demarches/{slug}/", data={"nom": "Wamytan", "_jeton": token})
    second = client.post(f"/demarches/{slug}/", data={"nom": "Wamytan", "_jeton": token})
    assert first.status_code == second.status_code == 302
    assert count(app) == 1
    other = app.test_client()  # the same POST replayed from elsewhere
    assert (
        other.post(f"/demarches/{slug}/", data={"nom": "Wamytan", "_jeton": token}).status_code
        == 302
    )
    assert count(app) == 1
    reference = get_reference(app)
    assert reference in other.get(f"/demarches/{slug}/merci").text


def test_token_survives_a_validation_error(app, client):
    slug = publish_form(app, FIELDS)
    token = token_of(client.get(f"/demarches/{slug}/").text)
    again = client.post(f"/demarches/{slug}/", data={"nom": "", "_jeton": token})
    assert again.status_code == 400
    assert token_of(again.text) == token


def test_new_pages_get_new_tokens(app, client):
    slug = publish_form(app, FIELDS)
    assert token_of(client.get(f"/demarches/{slug}/").text) != token_of(
        client.get(f"/demarches/{slug}/").text
    )
    client.post(f"/demarches/{slug}/", data={"nom": "A"})  # no token: still accepted
    client.post(f"/demarches/{slug}/", data={"nom": "B", "_jeton": "not-a-token"})
    assert count(app) == 2


def test_concurrent_replays_make_one_submission(app):
    slug = publish_form(app, FIELDS)
    token = token_of(app.test_client().get(f"/demarches/{slug}/").text)

    def replay(_):
        return (
            app.test_client()
            .post(f"/demarches/{slug}/", data={"nom": "Wamytan", "_jeton": token})
            .status_code
        )

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(pool.map(replay, range(10)))
    assert statuses == [302] * 10
    assert count(app) == 1


def get_reference(app) -> str:
    with app.app_context():
        return get_session().scalar(select(Submission.reference))
