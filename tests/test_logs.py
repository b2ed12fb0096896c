"""JSON logs: request and job ids, one access line per answer, and never personal data."""

import json
import logging
import re
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest

from forms_app import logs
from tests.support import publish_form, run_worker_burst, sent_mails, submit_answers

FIELDS = [
    {"key": "nom", "type": "text", "label": "Nom et prénom", "required": True},
    {"key": "courriel", "type": "email", "label": "Adresse e-mail", "required": True},
    {"key": "telephone", "type": "phone", "label": "Téléphone", "region": "NC"},
    {"key": "iban", "type": "iban", "label": "IBAN", "required": True},
]
TYPED = {
    "nom": "Hortense Wadrawane",
    "courriel": "hortense.wadrawane@lagon-bleu.nc",
    "telephone": "75.12.34",
    "iban": "fr76 9999 9000 0100 0123 4567 809",
}
# What must never reach a log: what was typed, and what the fields made of it.
PERSONAL = [
    "Hortense",
    "Wadrawane",
    "hortense.wadrawane",
    "lagon-bleu.nc",
    "75.12.34",
    "751234",
    "9999 9000",
    "FR7699999000010001234567809",
    "0001234567809",
]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOG_FORMAT": "json"}


@pytest.fixture(autouse=True)
def _text_logs_afterwards():
    yield
    logs.use_text()  # the next tests' apps log as before


def json_lines(text: str) -> list[dict]:
    """Every line of `text` parsed as JSON (fails on the first line that is not)."""
    lines = [line for line in text.splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line[:300]}")
    return parsed


def assert_no_personal_data(text: str, *secrets: str) -> None:
    for value in (*PERSONAL, *secrets):
        assert value.lower() not in text.lower(), f"{value!r} is in the logs"


def test_request_ids_are_kept_when_safe_and_made_otherwise(client):
    given = "abc-DEF-12345678"
    assert client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"] == given
    for unsafe in ("short", "a" * 65, "abc def 1234", "abc\u00e9def12345", "../../etc/passwd"):
        answered = client.get("/healthz", headers={"X-Request-ID": unsafe}).headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", answered), answered
    first = client.get("/healthz").headers["X-Request-ID"]
    assert first != client.get("/healthz").headers["X-Request-ID"]


def test_one_access_line_per_answer_with_the_route_not_the_path(client, capsys):
    capsys.readouterr()
    response = client.get(
        "/mon-espace/acces/secret-token-value?lang=en&email=x@example.nc",
        headers={"X-Request-ID": "req-0123456789"},
    )
    assert response.status_code == 400  # an altered link
    lines = json_lines(capsys.readouterr().err)
    [access] = [line for line in lines if line["logger"] == "guichet.access"]
    assert access["request_id"] == "req-0123456789"
    assert access["endpoint"] == "public.space_access"
    assert access["rule"] == "/mon-espace/acces/<token>"
    assert access["method"] == "GET" and access["status"] == 400
    assert access["duration_ms"] >= 0
    assert access["level"] == "INFO" and access["time"].endswith("+00:00")
    assert access["message"] == "GET /mon-espace/acces/<token> 400"
    assert all(line["request_id"] == "req-0123456789" for line in lines)
    everything = json.dumps(lines)
    assert "secret-token-value" not in everything and "example.nc" not in everything


def test_exceptions_are_logged_without_their_message(app, client, capsys):
    @app.get("/boum/<reference>")
    def boom(reference):
        raise ValueError(" ".join((reference, *PERSONAL)))  # a message full of personal data

    app.config["PROPAGATE_EXCEPTIONS"] = False  # the error handler answers, as in production
    capsys.readouterr()
    assert client.get("/boum/AIDE-2026-000123").status_code == 500
    lines = json_lines(capsys.readouterr().err)
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert error["message"] == "Exception on boom [GET]"
    assert error["exc_info"].rstrip().endswith("ValueError")
    assert "raise ValueError" in error["exc_info"]  # the frames stay
    assert "AIDE-2026" not in json.dumps(lines)
    assert_no_personal_data(json.dumps(lines))


def test_text_format_leaves_the_process_logging_alone(app, app_config, tmp_path, monkeypatch):
    from forms_app import create_app

    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path / "other"))
    root = logging.getLogger()
    assert any(isinstance(h.formatter, logs.JsonLineFormatter) for h in root.handlers)
    create_app({**app_config, "LOG_FORMAT": "text"})
    assert not any(isinstance(h.formatter, logs.JsonLineFormatter) for h in root.handlers)
    with pytest.raises(RuntimeError, match="LOG_FORMAT"):
        create_app({**app_config, "LOG_FORMAT": "xml"})


def test_format_from_environ_reads_plain_and_json_values():
    assert logs.format_from_environ({}) == "text"
    assert logs.format_from_environ({"GUICHET_LOG_FORMAT": "json"}) == "json"
    assert logs.format_from_environ({"GUICHET_LOG_FORMAT": '"json"'}) == "json"


@pytest.mark.timeout(240)
def test_a_submission_and_its_jobs_log_ids_and_no_personal_data(app, client, capsys):
    publish_form(app, FIELDS, slug="aide", settings={"reference_prefix": "AIDE"})
    capsys.readouterr()
    response = submit_answers(client, "aide", TYPED)
    assert response.status_code == 302, response.status_code
    asked = client.post("/mon-espace/connexion", data={"email": TYPED["courriel"]})
    assert asked.status_code == 200
    web = capsys.readouterr().err

    worker = run_worker_burst(app, GUICHET_LOG_FORMAT="json")
    worker_lines = json_lines(worker.stdout + worker.stderr)
    [mail] = [
        m
        for m in (
            message_from_bytes(p.read_bytes(), policy=policy.default) for p in sent_mails(app)
        )
        if "suivre vos demandes" in m["Subject"]
    ]
    link = re.search(r"https?://\S+/mon-espace/acces/(\S+)", mail.get_content())
    token = link.group(1)
    opened = client.get(urlsplit(link.group(0)).path)
    assert opened.status_code == 302
    web += capsys.readouterr().err

    web_lines = json_lines(web)
    access = [line for line in web_lines if line["logger"] == "guichet.access"]
    assert len(access) >= 6  # start, page, check page, submission, sign-in, link
    assert all(re.fullmatch(r"[0-9a-f]{32}", line["request_id"]) for line in access)
    assert len({line["request_id"] for line in access}) == len(access)
    assert {"/mon-espace/acces/<token>", "/mon-espace/connexion"} <= {a["rule"] for a in access}

    jobs = [line for line in worker_lines if line["logger"] == "guichet.jobs"]
    assert len(jobs) == 3  # receipt, checks, the e-mail with the link
    for line in jobs:
        assert line["job_id"] == f"outbox-{line['outbox_id']}"
        assert line["message"] == f"outbox message {line['outbox_id']}: done"
    assert all(line["level"] and line["time"] and line["logger"] for line in worker_lines)

    assert_no_personal_data(web, token)
    assert_no_personal_data(worker.stdout + worker.stderr, token)
