"""The audit log is append-only and hash-chained; `flask audit verify` finds a broken link."""

import contextlib
import itertools
import threading

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from forms_app import audit_chain, create_app
from forms_app.cli import alembic_config
from forms_app.db import get_db, get_session
from forms_app.models import Event
from tests.support import publish_form, start_worker, stop_process, submit_answers, wait_until

FIELDS = [{"key": "nom", "type": "text", "label": "Nom", "required": True}]


@pytest.fixture
def slug(app) -> str:
    return publish_form(app, FIELDS)  # its publication is the first event


def write_events(app, slug: str, count: int) -> None:
    """Real events: `count` submissions of the form through the web."""
    for number in range(count):
        response = submit_answers(app.test_client(), slug, {"nom": f"Personne {number}"})
        assert response.status_code == 302


def sealed_events(app) -> list[Event]:
    with app.app_context():
        return get_session().scalars(select(Event).order_by(Event.id)).all()


def verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def seal(app) -> int:
    result = app.test_cli_runner().invoke(args=["audit", "seal"])
    assert result.exit_code == 0, result.output
    return int(result.output.rsplit(":", 1)[1])


@contextlib.contextmanager
def unguarded(app):
    """A connection with the append-only triggers off, as someone able to drop them has.

    On PostgreSQL the trigger is disabled inside the transaction only (the database is shared
    by the tests); SQLite's database is the test's own.
    """
    engine = get_db(app).engine
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE event DISABLE TRIGGER event_append_only"))
        else:
            conn.execute(text("DROP TRIGGER event_no_change"))
            conn.execute(text("DROP TRIGGER event_no_delete"))
        yield conn
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE event ENABLE TRIGGER event_append_only"))
        conn.commit()


def test_sealing_chains_every_event_in_order_and_verification_holds(app, slug):
    write_events(app, slug, 3)
    events = sealed_events(app)
    assert len(events) >= 4 and all(e.chain_position is None for e in events)
    assert f"0 events sealed, {len(events)} waiting" in verify(app).output

    assert seal(app) == len(events)
    events = sealed_events(app)
    assert [e.chain_position for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == audit_chain.GENESIS
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash != after.hash
    assert seal(app) == 0  # nothing new: sealed events are left alone

    write_events(app, slug, 1)  # later events go on the same chain
    assert seal(app) >= 1
    result = verify(app)
    assert result.exit_code == 0, result.output
    total = len(sealed_events(app))
    assert f"Chain holds: {total} events sealed, 0 waiting" in result.output
    assert sealed_events(app)[-1].hash in result.output  # the head, to record elsewhere


@pytest.mark.parametrize("tamper", ["content", "content_and_hash", "delete"])
def test_tampering_with_one_sealed_event_is_detected(app, slug, tamper):
    write_events(app, slug, 3)
    seal(app)
    events = sealed_events(app)
    victim = events[2]
    with unguarded(app) as conn:
        if tamper == "content":
            conn.execute(
                text("UPDATE event SET action = 'approve' WHERE id = :id"), {"id": victim.id}
            )
        elif tamper == "content_and_hash":  # rewritten with a hash that matches the new content
            row = (
                conn.execute(select(*audit_chain.CONTENT).where(Event.id == victim.id))
                .one()
                ._asdict()
            )
            row["actor_id"] = 999
            digest = audit_chain.link(victim.prev_hash, type("Row", (), row))
            conn.execute(
                text("UPDATE event SET actor_id = NULL, hash = :hash WHERE id = :id"),
                {"hash": digest, "id": victim.id},
            )
        else:
            conn.execute(text("DELETE FROM event WHERE id = :id"), {"id": victim.id})

    result = verify(app)
    assert result.exit_code == 1
    expected = {
        "content": f"BROKEN at position 3: event {victim.id} was changed after it was sealed",
        "content_and_hash": f"BROKEN at position 3: event {victim.id} was changed after it was",
        "delete": "BROKEN at position 3: position 3 is missing (an event was deleted)",
    }[tamper]
    assert expected in result.output
    assert "The 2 events before it hold." in result.output


def test_the_database_refuses_to_change_or_delete_events(app, slug):
    write_events(app, slug, 1)
    seal(app)
    write_events(app, slug, 1)  # unsealed ones too
    engine = get_db(app).engine
    events = sealed_events(app)
    first, last = events[0], events[-1]
    assert first.chain_position is not None and last.chain_position is None
    refused = [
        ("UPDATE event SET details = '{}' WHERE id = :id", first.id),
        ("UPDATE event SET hash = NULL, chain_position = NULL WHERE id = :id", first.id),
        ("DELETE FROM event WHERE id = :id", first.id),
        ("UPDATE event SET action = 'approve' WHERE id = :id", last.id),
        ("DELETE FROM event WHERE id = :id", last.id),
    ]
    for statement, event_id in refused:
        with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement), {"id": event_id})
    with engine.connect() as conn:  # every row still there
        assert conn.scalar(select(func.count()).select_from(Event)) == len(events)
    assert seal(app) >= 1  # sealing is the one change an event takes
    assert verify(app).exit_code == 0


def test_concurrent_sealers_and_writers_keep_one_chain(app, slug):
    write_events(app, slug, 2)
    errors: list[BaseException] = []

    def sealer() -> None:
        try:
            for _ in range(5):
                # SQLite: the other sealer may take the positions first; the next pass goes on.
                with contextlib.suppress(DBAPIError):
                    audit_chain.seal_all(get_db(app).sessionmaker, limit=3)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sealer) for _ in range(2)]
    for thread in threads:
        thread.start()
    write_events(app, slug, 3)
    for thread in threads:
        thread.join(60)
    assert not errors
    seal(app)
    events = sealed_events(app)
    assert sorted(e.chain_position for e in events) == list(range(1, len(events) + 1))
    assert verify(app).exit_code == 0


def test_the_worker_seals_new_events(app, slug, tmp_path):
    write_events(app, slug, 1)
    worker = start_worker(app, tmp_path / "worker.log", GUICHET_AUDIT_SEAL_INTERVAL="0.2")
    try:
        wait_until(lambda: all(e.chain_position for e in sealed_events(app)), timeout=60)
    finally:
        stop_process(worker)
    assert verify(app).exit_code == 0


def test_a_migrated_database_keeps_its_events_append_only(empty_database_url):
    migrated = create_app({"DATABASE_URL": empty_database_url, "ENV": "test"})
    command.upgrade(alembic_config(migrated), "head")
    get_db(migrated).dispose()
    engine = create_engine(empty_database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO event (subject_type, subject_id, action, details, created_at) "
                "VALUES ('submission', 1, 'submit', '{}', CURRENT_TIMESTAMP)"
            )
        )
    with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text("DELETE FROM event"))
    engine.dispose()
