"""/metrics: who may read it, what moves after a submission and a worker run, outages, gunicorn."""

import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from forms_app.db import get_session
from forms_app.embedded_redis import free_port, is_listening
from forms_app.models import OutboxMessage
from tests.support import (
    ROOT,
    latest_submission,
    process_env,
    publish_form,
    run_worker_burst,
    stop_process,
    submit_answers,
    submit_directly,
    wait_until,
)
from workflows import outbox

TOKEN = "metrics-token-0123456789"
FIELDS = [
    {"key": "nom", "type": "text", "label": "Nom", "required": True},
    {"key": "courriel", "type": "email", "label": "Adresse e-mail", "required": True},
]
ANSWERS = {"nom": "Lagon Bleu", "courriel": "gerant@lagon-bleu.nc"}


def figures(text: str) -> dict[tuple, float]:
    """Every sample of a scrape, keyed by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client, **headers) -> dict[tuple, float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.status_code
    return figures(response.text)


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_a_token_is_required_when_one_is_set(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 404
    response = client.get(
        "/metrics",
        headers={"Authorization": f"Bearer {TOKEN}"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert "guichet_http_request_duration_seconds" in response.text


def test_without_a_token_only_loopback_requests_are_answered(client):
    assert client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    ipv6 = client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"})
    assert ipv6.status_code == 200
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert outside.status_code == 404
    assert "guichet_" not in outside.text
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
    assert proxied.status_code == 404
    assert "Set-Cookie" not in client.get("/metrics").headers


def test_a_submission_and_its_jobs_move_the_figures(app, client):
    publish_form(app, FIELDS, slug="aide")
    before = scrape(client)
    assert value(before, "guichet_scrape_error", source="database") == 0
    assert value(before, "guichet_scrape_error", source="redis") == 0

    response = submit_answers(client, "aide", ANSWERS)
    assert response.status_code == 302, response.status_code
    after = scrape(client)
    assert (
        value(after, "guichet_submissions_received_total")
        - value(before, "guichet_submissions_received_total")
        == 1
    )
    changes = "guichet_state_changes_total"
    assert value(after, changes, action="submit") - value(before, changes, action="submit") == 1
    assert value(after, "guichet_submissions", state="submitted") == 1
    assert value(after, "guichet_submitted_requests") == 1
    # Receipt and checks: committed with the submission, pushed to RQ after the commit.
    assert value(after, "guichet_outbox_messages", status="enqueued") == 2
    assert value(after, "guichet_queue_length", queue="default") == 2
    assert value(after, "guichet_queue_lag_seconds", queue="default") >= 0
    assert value(after, "guichet_outbox_oldest_age_seconds", status="enqueued") >= 0
    posts = [
        n
        for (name, labels), n in after.items()
        if name == "guichet_http_request_duration_seconds_count"
        and ("method", "POST") in labels
        and dict(labels)["endpoint"].startswith("public.")
    ]
    assert sum(posts) >= 3  # start, the page, the submission

    run_worker_burst(app)
    drained = scrape(client)
    assert value(drained, "guichet_queue_length", queue="default") == 0
    assert value(drained, "guichet_queue_lag_seconds", queue="default") == 0
    for status in ("pending", "enqueued", "running", "failed"):
        assert value(drained, "guichet_outbox_messages", status=status) == 0


def test_jobs_are_counted_by_outcome(app, client):
    publish_form(app, FIELDS, slug="aide")
    submit_directly(app, "aide", ANSWERS)
    submission = latest_submission(app)
    jobs = "guichet_jobs_total"
    before = scrape(client)
    with app.app_context():
        session = get_session()
        missing = outbox.add(session, "send_receipt", submission_id=submission.id + 1000)
        session.commit()
        check = session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.job == "check_submission")
        )
        session.commit()  # SQLite: the jobs' sessions must not wait on this one
        assert outbox.execute(check) == "done"
        assert outbox.execute(missing.id) == "pending"  # no such request: retried later
    after = scrape(client)
    done = {"job": "check_submission", "outcome": "done"}
    retry = {"job": "send_receipt", "outcome": "retry"}
    assert value(after, jobs, **done) - value(before, jobs, **done) == 1
    assert value(after, jobs, **retry) - value(before, jobs, **retry) == 1
    assert value(after, "guichet_outbox_messages", status="pending") == 1


@pytest.fixture
def closed_port_redis(app_config):
    return {**app_config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}


def test_redis_down_leaves_its_figures_out(closed_port_redis, tmp_path, monkeypatch):
    from forms_app import create_app

    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path / "instance"))
    client = create_app(closed_port_redis).test_client()
    found = scrape(client)
    assert value(found, "guichet_scrape_error", source="redis") == 1
    assert value(found, "guichet_scrape_error", source="database") == 0
    assert not any(name == "guichet_queue_length" for name, _ in found)
    assert ("guichet_outbox_messages", (("status", "pending"),)) in found


def test_database_down_leaves_its_figures_out(
    app_config, empty_database_url, tmp_path, monkeypatch
):
    from forms_app import create_app

    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path / "instance"))
    client = create_app({**app_config, "DATABASE_URL": empty_database_url}).test_client()
    found = scrape(client)  # no tables at all: every query fails
    assert value(found, "guichet_scrape_error", source="database") == 1
    assert value(found, "guichet_scrape_error", source="redis") == 0
    assert not any(name == "guichet_submissions" for name, _ in found)
    assert ("guichet_queue_length", (("queue", "default"),)) in found


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


@pytest.mark.timeout(240)
def test_gunicorn_processes_and_the_worker_add_up_in_one_scrape(app, tmp_path):
    """Two gunicorn workers and a worker process share PROMETHEUS_MULTIPROC_DIR."""
    publish_form(app, FIELDS, slug="aide")
    multiproc = tmp_path / "prometheus"
    env = process_env(app, PROMETHEUS_MULTIPROC_DIR=str(multiproc))
    port = free_port()
    command = [
        *(sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"),
        *("--workers", "2", "--no-control-socket", "wsgi:app"),
    ]
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: is_listening(port, "127.0.0.1"), timeout=60)
        base = f"http://127.0.0.1:{port}"
        sent = 0

        def both_workers_answered() -> bool:
            nonlocal sent
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda _: _get(f"{base}/healthz"), range(20)))
            sent += 20
            pids = {path.stem.rsplit("_", 1)[-1] for path in multiproc.glob("histogram_*.db")}
            return len(pids) == 2

        wait_until(both_workers_answered, timeout=60)
        found = figures(_get(f"{base}/metrics"))
        count = "guichet_http_request_duration_seconds_count"
        labels = {"endpoint": "health.healthz", "method": "GET", "status": "2xx"}
        assert value(found, count, **labels) == sent

        submit_directly(app, "aide", ANSWERS)
        run_worker_burst(app, PROMETHEUS_MULTIPROC_DIR=str(multiproc))
        found = figures(_get(f"{base}/metrics"))
        assert value(found, "guichet_jobs_total", job="send_receipt", outcome="done") == 1
        assert value(found, "guichet_jobs_total", job="check_submission", outcome="done") == 1
        assert value(found, "guichet_submissions", state="submitted") == 1
    finally:
        stop_process(server)
        log.close()


def test_make_run_gives_its_processes_an_emptied_multiprocess_dir(tmp_path):
    from forms_app.launcher import metrics_env

    instance = tmp_path / "instance"
    env = metrics_env({"PATH": "/usr/bin"}, instance)
    directory = instance / "prometheus"
    assert env == {"PATH": "/usr/bin", "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    (directory / "counter_123.db").write_bytes(b"stale")
    (directory / "notes.txt").write_text("kept")
    chosen = tmp_path / "chosen"
    assert metrics_env({"PROMETHEUS_MULTIPROC_DIR": str(chosen)}, instance)[
        "PROMETHEUS_MULTIPROC_DIR"
    ] == str(chosen)
    metrics_env({}, instance)
    assert [p.name for p in directory.iterdir()] == ["notes.txt"]


def test_state_changes_count_only_when_committed(app, client):
    from forms_app import audit
    from forms_app.models import Submission

    publish_form(app, FIELDS, slug="aide")
    submit_directly(app, "aide", ANSWERS)
    before = scrape(client)
    with app.app_context():
        session = get_session()
        submission = session.scalar(select(Submission))
        audit.record(session, submission, "take", None, from_state="a", to_state="b")
        session.rollback()  # a refused request: nothing happened
        savepoint = session.begin_nested()
        audit.record(session, submission, "propose", None, from_state="a", to_state="b")
        savepoint.rollback()  # one refused item of a batch
        audit.record(session, submission, "close", None, from_state="a", to_state="b")
        audit.record(session, submission, "note", None)  # not a state change
        session.commit()
    after = scrape(client)
    changes = "guichet_state_changes_total"
    for action, moved in (("take", 0), ("propose", 0), ("close", 1), ("note", 0)):
        delta = value(after, changes, action=action) - value(before, changes, action=action)
        assert delta == moved, action
