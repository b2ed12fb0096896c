"""Evidence of trouble: answers counted per bucket, kept while the database is away, series."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select, text

from forms_app import create_app, ops_evidence
from forms_app.db import Base, get_db, get_session, utcnow
from forms_app.models import Heartbeat, OpsCounter, ProblemReport
from tests.support import start_worker, stop_process, wait_until

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
EDGE = T0 + timedelta(minutes=15)
JUST_BEFORE_EDGE = EDGE - timedelta(microseconds=1)


def stored_counts(app) -> dict[tuple[datetime, str], int]:
    with app.app_context():
        session = get_session()
        rows = session.execute(select(OpsCounter.bucket_start, OpsCounter.name, OpsCounter.count))
        return {(bucket, name): count for bucket, name, count in rows}


def totals(app) -> dict[str, int]:
    found: dict[str, int] = {}
    for (_bucket, name), count in stored_counts(app).items():
        found[name] = found.get(name, 0) + count
    return found


def test_bucket_start_floors_to_the_bucket_in_utc():
    assert ops_evidence.bucket_start(JUST_BEFORE_EDGE, 15) == T0
    assert ops_evidence.bucket_start(EDGE, 15) == EDGE
    noumea = EDGE.astimezone(ZoneInfo("Pacific/Noumea")) + timedelta(minutes=14, seconds=59)
    assert ops_evidence.bucket_start(noumea, 15) == EDGE
    assert ops_evidence.bucket_start(noumea, 15).tzinfo is UTC
    assert ops_evidence.bucket_start(T0 + timedelta(minutes=59), 60) == T0
    with pytest.raises(ValueError):
        ops_evidence.bucket_start(datetime(2026, 3, 2, 10, 0), 15)


def test_a_failing_route_is_counted_as_a_server_error(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500 as in production

    def broken():
        raise RuntimeError("boom")

    app.add_url_rule("/essai-panne", "essai_panne", broken)
    assert client.get("/essai-panne").status_code == 500
    assert client.get("/").status_code == 200
    assert client.get("/healthz").status_code == 200  # probes are not counted
    with client.get("/static/guichet.css") as static:
        assert static.status_code == 200
    assert ops_evidence.flush(app) == 3
    assert totals(app) == {"requests": 2, "server_errors": 1}
    assert ops_evidence.flush(app) == 0  # nothing left in memory


@pytest.fixture
def database_away(postgres, tmp_path):
    """A database URL that cannot be opened yet, and a function that brings it up."""
    if postgres is not None:
        name = f"guichet_test_away_{os.urandom(6).hex()}"
        url = postgres.url.set(database=name).render_as_string(hide_password=False)

        def bring_up():
            with postgres.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            postgres.created.append(name)
            _create_schema(url)

    else:
        path = tmp_path / "away" / "guichet.sqlite3"
        path.mkdir(parents=True)  # a directory where the file should be: cannot be opened
        url = f"sqlite:///{path}"

        def bring_up():
            Path(path).rmdir()
            _create_schema(url)

    return url, bring_up


def _create_schema(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()


def test_errors_while_the_database_is_away_are_written_once_it_is_back(
    app_config, database_away, tmp_path, monkeypatch
):
    url, bring_up = database_away
    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(dict(app_config, DATABASE_URL=url))
    client = app.test_client()
    try:
        failed = client.post("/demarches/essai/")  # starting a form: a failed submission
        assert failed.status_code == 503
        assert client.get("/").status_code == 503
        with pytest.raises(Exception):  # noqa: B017 (whatever the driver raises)
            ops_evidence.flush(app)
        bring_up()
        assert ops_evidence.flush(app) == 5  # kept in memory meanwhile
        assert totals(app) == {"requests": 2, "server_errors": 2, "failed_submissions": 1}
    finally:
        get_db(app).dispose()


def test_counts_are_written_after_the_answer_when_a_flush_is_due(app, client):
    app.config["OPS_COUNTER_FLUSH_SECONDS"] = 0
    response = client.get("/")
    assert totals(app) == {}  # nothing written while the answer is being sent
    response.close()  # what the WSGI server does once the answer went out
    assert totals(app) == {"requests": 1}


def test_counts_add_up_in_their_bucket_across_flushes(app):
    ops_evidence.count(app, "server_errors", 3, at=JUST_BEFORE_EDGE)
    ops_evidence.count(app, "server_errors", at=EDGE)
    ops_evidence.flush(app)
    ops_evidence.count(app, "server_errors", 2, at=T0)
    ops_evidence.flush(app)
    assert stored_counts(app) == {(T0, "server_errors"): 5, (EDGE, "server_errors"): 1}
    with pytest.raises(ValueError):
        ops_evidence.count(app, "unknown", at=T0)


def test_series_puts_each_piece_of_evidence_in_its_bucket(app):
    ops_evidence.count(app, "requests", 10, at=T0)
    ops_evidence.count(app, "server_errors", 3, at=JUST_BEFORE_EDGE)
    ops_evidence.count(app, "failed_submissions", 2, at=EDGE)
    ops_evidence.count(app, "server_errors", 7, at=T0 + timedelta(minutes=45))
    ops_evidence.count(app, "server_errors", 9, at=T0 + timedelta(hours=1))  # after the end
    ops_evidence.flush(app)
    with app.app_context():
        session = get_session()
        for moment in (T0, JUST_BEFORE_EDGE, EDGE, EDGE + timedelta(minutes=15)):
            session.add(ProblemReport(page="/", description="Erreur", created_at=moment))
        for moment in (JUST_BEFORE_EDGE, EDGE, EDGE + timedelta(seconds=30)):
            ops_evidence.beat(session, "hote:1", moment)
        before = T0 - timedelta(seconds=1)
        session.add(ProblemReport(page="/", description="Avant", created_at=before))
        session.commit()
        later = T0 + timedelta(minutes=3)
        buckets = ops_evidence.series(session, later, T0 + timedelta(hours=1), 15)
        hourly = ops_evidence.series(session, T0, T0 + timedelta(hours=1), 60)
    assert [b.start for b in buckets] == [T0 + timedelta(minutes=m) for m in (0, 15, 30, 45)]
    first, second = buckets[0], buckets[1]
    assert (first.requests, first.server_errors, first.failed_submissions) == (10, 3, 0)
    assert (first.problem_reports, first.heartbeats) == (2, 1)
    assert (second.requests, second.server_errors, second.failed_submissions) == (0, 0, 2)
    assert (second.problem_reports, second.heartbeats) == (1, 2)
    assert buckets[2].problem_reports == 1
    assert buckets[3].server_errors == 7
    assert len(hourly) == 1
    assert (hourly[0].server_errors, hourly[0].problem_reports, hourly[0].heartbeats) == (10, 4, 3)
    assert hourly[0].end == T0 + timedelta(hours=1)


def test_series_with_no_bucket_is_empty(app):
    with app.app_context():
        assert ops_evidence.series(get_session(), T0, T0, 15) == []


def test_heartbeats_are_pruned(app):
    with app.app_context():
        session = get_session()
        ops_evidence.beat(session, "hote:1", T0 - timedelta(days=31))
        ops_evidence.beat(session, "hote:1", T0)
        session.commit()
        assert ops_evidence.prune(session, T0 - timedelta(days=30)) == 1
        session.commit()
        assert session.scalars(select(Heartbeat.beat_at)).all() == [T0]


def test_a_real_worker_beats(app, tmp_path):
    worker = start_worker(app, tmp_path / "worker.log", GUICHET_HEARTBEAT_INTERVAL="0.5")
    started = utcnow()
    try:
        with app.app_context():

            def beats():
                session = get_session()
                found = session.execute(select(Heartbeat.source, Heartbeat.beat_at)).all()
                session.rollback()
                return len(found) >= 3 and found

            found = wait_until(beats, timeout=45)
    finally:
        stop_process(worker)
    log = (tmp_path / "worker.log").read_text()
    assert worker.returncode == 0, log[-3000:]
    assert "heartbeat failed" not in log
    host, pid = found[0].source.rsplit(":", 1)
    assert host and pid.isdigit()
    assert all(beat.beat_at >= started - timedelta(seconds=1) for beat in found)
