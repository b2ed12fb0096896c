"""The API's doors: tokens (hashed, scoped, revocable, last use), roles, rate limits, errors
as problem documents, and an OpenAPI document that names every route."""

import hashlib

from sqlalchemy import select

from forms_app.db import get_session
from forms_app.models import ApiToken, Role
from tests.api_support import bearer, make_token
from tests.finance_support import AGENT, approved_request, publish_payment_form, staff_users
from tests.support import make_user

PROBLEM = "application/problem+json"


def test_the_openapi_document_names_every_api_route_and_nothing_else(app, client):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200 and document.json["openapi"].startswith("3.")
    documented = {
        (path, method.upper())
        for path, operations in document.json["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api-docs.openapi_json":
            path = rule.rule
            for argument in rule.arguments:
                path = path.replace(f"<id:{argument}>", f"{{{argument}}}")
                path = path.replace(f"<{argument}>", f"{{{argument}}}")
            routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed
    security = document.json["components"]["securitySchemes"]
    assert security == {"token": {"type": "http", "scheme": "bearer"}}
    assert document.json["security"] == [{"token": []}]


def test_without_a_live_token_every_route_answers_401_as_a_problem(app, client):
    staff_users(app)
    secret = make_token(app, AGENT)
    with app.app_context():
        db = get_session()
        revoked = db.scalar(select(ApiToken))
        assert revoked.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in str([revoked.name, revoked.prefix]) and revoked.prefix == secret[:12]
    for headers in ({}, bearer("gch_wrong"), bearer(secret[:-1]), {"Authorization": secret}):
        answer = client.get("/api/v1/submissions", headers=headers)
        assert answer.status_code == 401 and answer.mimetype == PROBLEM
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="guichet"'
        assert answer.json == {
            "type": "about:blank",
            "title": "Unauthorized",
            "status": 401,
            "detail": "A valid API token is required.",
        }
    assert client.get("/api/v1/submissions", headers=bearer(secret)).status_code == 200
    with app.app_context():
        db = get_session()
        token = db.scalar(select(ApiToken))
        assert token.last_used_at is not None
        token.user.active = False  # a deactivated account takes its tokens with it
        db.commit()
    assert client.get("/api/v1/submissions", headers=bearer(secret)).status_code == 401


def test_a_token_sees_its_forms_only_and_acts_only_when_it_may_write(app, client):
    publish_payment_form(app)
    publish_payment_form(app, slug="autre")
    mine, other = approved_request(app), approved_request(app, slug="autre")
    reader = make_token(app, AGENT, forms=["aide"])
    listed = client.get("/api/v1/submissions", headers=bearer(reader)).json["items"]
    assert [item["reference"] for item in listed] == [mine]
    assert client.get(f"/api/v1/submissions/{other}", headers=bearer(reader)).status_code == 404
    assert client.get("/api/v1/forms/autre", headers=bearer(reader)).status_code == 404
    forms = client.get("/api/v1/forms", headers=bearer(reader)).json["items"]
    assert [form["slug"] for form in forms] == ["aide"]
    answer = client.post(f"/api/v1/submissions/{mine}/take", json={}, headers=bearer(reader))
    assert answer.status_code == 403 and answer.json["detail"] == "This token may only read."

    make_user(app, Role.DESIGNER, email="conception@example.nc")
    designer = make_token(app, "conception@example.nc")
    answer = client.get("/api/v1/submissions", headers=bearer(designer))
    assert answer.status_code == 403 and answer.mimetype == PROBLEM


def test_bad_parameters_get_422_with_the_fields_named(app, client):
    staff_users(app)
    secret = make_token(app, AGENT)
    answer = client.get(
        "/api/v1/submissions?state=bogus&limit=0&updated_since=hier", headers=bearer(secret)
    )
    assert answer.status_code == 422 and answer.mimetype == PROBLEM
    assert set(answer.json["errors"]["query"]) == {"state", "limit", "updated_since"}
    answer = client.get("/api/v1/submissions?cursor=%25%25", headers=bearer(secret))
    assert answer.status_code == 422
    assert answer.json["errors"] == {"query": {"cursor": ["Invalid cursor."]}}
    answer = client.get("/api/v1/submissions?cursor=bm90LWEtY3Vyc29y", headers=bearer(secret))
    assert answer.status_code == 422
    assert answer.json["errors"] == {"query": {"cursor": ["Invalid cursor."]}}
    assert client.get("/api/v1/nulle-part", headers=bearer(secret)).mimetype == PROBLEM
    answer = client.delete("/api/v1/submissions", headers=bearer(secret))
    assert answer.status_code == 405 and answer.headers["Allow"]


def test_each_token_has_its_rate_limit(app, client):
    staff_users(app)
    app.config["API_RATE_LIMIT"] = "3 per minute"
    first, second = make_token(app, AGENT), make_token(app, AGENT, name="Comptabilité")
    paths = ("/api/v1/forms", "/api/v1/submissions", "/api/v1/forms", "/api/v1/submissions")
    statuses = [client.get(path, headers=bearer(first)).status_code for path in paths]
    assert statuses == [200, 200, 200, 429]  # one count across the whole API
    refused = client.get("/api/v1/forms", headers=bearer(first))
    assert refused.mimetype == PROBLEM and int(refused.headers["Retry-After"]) > 0
    assert client.get("/api/v1/forms", headers=bearer(second)).status_code == 200


def test_the_api_takes_no_cookie_and_needs_no_csrf_token(app, client, auth):
    publish_payment_form(app)
    reference = approved_request(app)
    app.config["WTF_CSRF_ENABLED"] = True
    auth.login(email=AGENT)  # a staff session cookie opens nothing here
    assert client.get(f"/api/v1/submissions/{reference}").status_code == 401
    writer = make_token(app, AGENT, write=True)
    answer = client.post(
        f"/api/v1/submissions/{reference}/messages",
        json={"body": "Merci de nous envoyer le RIB."},
        headers=bearer(writer),
    )
    assert answer.status_code == 201, answer.json
