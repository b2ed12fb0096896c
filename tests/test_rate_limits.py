"""Rate limits: counted in Redis per client address, in memory when Redis is away."""

from html import unescape

import pytest
from redis import Redis
from sqlalchemy import func, select

from forms_app import create_app
from forms_app.db import get_db, get_session
from forms_app.models import OutboxMessage, ProblemReport, Role, Submission
from tests.support import PASSWORD, make_user, publish_form, submit_answers

REPORT = "/signaler-un-probleme"
DESCRIPTION = "La page ne s’affiche pas sur mon téléphone."
CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def app_config(app_config):
    return dict(
        app_config,
        PROBLEM_REPORT_RATE_LIMIT="2 per hour",
        LOGIN_RATE_LIMIT="3 per minute",
        MAGIC_LINK_RATE_LIMIT="2 per hour",
        SUBMIT_RATE_LIMIT="2 per minute",
    )


def stored(app) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(ProblemReport))


def post_report(client, address: str = "203.0.113.7"):
    return client.post(
        REPORT, data={"description": DESCRIPTION}, environ_base={"REMOTE_ADDR": address}
    )


def test_reports_beyond_the_limit_get_the_french_429_page(app, client):
    assert [post_report(client).status_code for _ in range(2)] == [302, 302]
    refused = post_report(client)
    assert refused.status_code == 429
    assert "Trop d’envois en peu de temps" in unescape(refused.text)
    assert "n’a pas été enregistré" in unescape(refused.text)
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert "Signaler un problème" in refused.text  # the page still has its footer
    assert stored(app) == 2

    assert client.get(REPORT, environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 200
    assert post_report(client, address="198.51.100.20").status_code == 302  # another visitor
    assert stored(app) == 3
    redis = Redis.from_url(app.config["REDIS_URL"])
    assert redis.keys("LIMITS*"), "the counters live in the app's Redis"
    redis.close()


def test_the_429_page_follows_the_language(app, client):
    for _ in range(2):
        post_report(client)
    refused = client.post(
        REPORT + "?lang=en",
        data={"description": DESCRIPTION},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert refused.status_code == 429
    assert '<html lang="en">' in refused.text


def test_only_views_naming_a_limit_are_limited(app, client):
    for _ in range(5):
        assert client.get(REPORT).status_code == 200
        assert client.get("/").status_code == 200
        assert client.get("/mon-espace/connexion").status_code == 200  # only its POST is
        assert client.post("/agents/deconnexion").status_code == 302


def test_sign_in_attempts_beyond_the_limit_are_refused_before_any_check(app, client):
    make_user(app, Role.AGENT)
    attempts = [
        client.post(
            "/agents/connexion",
            data={"email": "agent@example.nc", "password": "wrong"},
            environ_base={"REMOTE_ADDR": "203.0.113.7"},
        ).status_code
        for _ in range(4)
    ]
    assert attempts == [401, 401, 401, 429]
    refused = client.post(
        "/agents/connexion",
        data={"email": "agent@example.nc", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert refused.status_code == 429  # even the right password waits
    assert client.get("/agents/").status_code == 302
    other = client.post(
        "/agents/connexion",
        data={"email": "agent@example.nc", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.20"},
    )
    assert other.status_code == 302  # another address; the account was not locked by them


def test_e_mailed_links_beyond_the_limit_send_nothing(app, client):
    def ask() -> int:
        return client.post(
            "/mon-espace/connexion",
            data={"email": "lea@exemple.nc"},
            environ_base={"REMOTE_ADDR": "203.0.113.7"},
        ).status_code

    assert [ask(), ask(), ask()] == [200, 200, 429]
    with app.app_context():
        jobs = get_session().scalar(select(func.count()).select_from(OutboxMessage))
    assert jobs == 0  # no such applicant: nothing sent either way, and the answer is the same


def test_submits_beyond_the_limit_keep_the_draft(app):
    slug = publish_form(app, [{"key": "nom", "type": "text", "label": "Nom", "required": True}])
    statuses = []
    for number in range(3):
        browser = app.test_client()
        submit_answers(browser, slug, {"nom": f"Personne {number}"}, submit=False)
        statuses.append(browser.post(f"/demarches/{slug}/verification").status_code)
    assert statuses == [302, 302, 429]
    with app.app_context():
        states = get_session().scalars(select(Submission.state).order_by(Submission.id)).all()
    assert states == ["submitted", "submitted", "draft"]  # refused, not lost: sent again later


def test_with_redis_away_reports_are_accepted_and_limited_in_memory(
    app_config, tmp_path, monkeypatch
):
    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(dict(app_config, REDIS_URL=CLOSED_PORT_REDIS))
    try:
        assert app.config["RATELIMIT_STORAGE_URI"] == CLOSED_PORT_REDIS
        client = app.test_client()
        assert [post_report(client).status_code for _ in range(2)] == [302, 302]
        assert stored(app) == 2
        refused = post_report(client)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        assert stored(app) == 2
    finally:
        get_db(app).dispose()
    redis = Redis.from_url(app_config["REDIS_URL"])
    assert redis.keys("LIMITS*") == []  # nothing counted where the app was not pointed
    redis.close()


def test_a_dedicated_storage_wins_over_redis_url(app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(dict(app_config, RATELIMIT_STORAGE_URI=CLOSED_PORT_REDIS))
    try:
        assert app.config["RATELIMIT_STORAGE_URI"] == CLOSED_PORT_REDIS
        client = app.test_client()
        assert [post_report(client).status_code for _ in range(3)] == [302, 302, 429]
    finally:
        get_db(app).dispose()
    redis = Redis.from_url(app_config["REDIS_URL"])
    assert redis.keys("LIMITS*") == []
    redis.close()


def test_an_app_made_after_an_outage_counts_in_its_redis_again(app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path / "instance"))
    away = create_app(dict(app_config, REDIS_URL=CLOSED_PORT_REDIS))
    try:
        assert post_report(away.test_client()).status_code == 302  # counted in memory
    finally:
        get_db(away).dispose()
    app = create_app(app_config)
    try:
        assert post_report(app.test_client()).status_code == 302
    finally:
        get_db(app).dispose()
    redis = Redis.from_url(app_config["REDIS_URL"])
    assert redis.keys("LIMITS*")
    redis.close()


def test_behind_a_trusted_proxy_each_visitor_has_their_own_count(app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(dict(app_config, TRUSTED_PROXIES=1))
    try:
        client = app.test_client()

        def via_proxy(visitor: str) -> int:
            return client.post(
                REPORT,
                data={"description": DESCRIPTION},
                environ_base={"REMOTE_ADDR": "10.0.0.2"},  # the reverse proxy
                headers={"X-Forwarded-For": visitor},
            ).status_code

        assert [via_proxy("203.0.113.7") for _ in range(3)] == [302, 302, 429]
        assert via_proxy("198.51.100.20") == 302  # another visitor behind the same proxy
    finally:
        get_db(app).dispose()
