"""The database going away at the end of a request: the answer stands, the next one is served.

PostgreSQL runs on every machine the suite runs on, so this module uses it whichever database
the pass is on: only a server can drop a connection under the app's feet.
"""

import logging
import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from forms_app import create_app
from forms_app.db import Base, get_db, get_session
from tests.conftest import PostgresServer

MACHINE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def postgres_app(app_config, tmp_path, monkeypatch) -> Iterator:
    url = os.environ.get("TEST_DATABASE_URL", "")
    server = PostgresServer(url if url.startswith("postgresql") else MACHINE_POSTGRES)
    database_url = server.create()
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(dict(app_config, DATABASE_URL=database_url))
    try:
        yield app, server
    finally:
        get_db(app).dispose()
        server.drop_all()


def _terminate(server: PostgresServer, pid: int) -> None:
    with server.admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()


def test_a_connection_dropped_after_the_last_statement_leaves_the_answer_whole(
    postgres_app, caplog
):
    app, server = postgres_app
    dropped = []

    @app.after_request
    def _drop_the_connection(response):  # the server restarts once the view is done
        if not dropped:
            pid = get_session().execute(text("SELECT pg_backend_pid()")).scalar_one()
            _terminate(server, pid)
            dropped.append(pid)
        return response

    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        first = client.get("/readyz")
    assert dropped, "the view did not use the database"
    assert first.status_code == 200, first.text
    assert first.json["database"]["ok"] is True
    assert "database connection lost while closing a session: AdminShutdown" in caplog.text

    second = client.get("/readyz")  # a fresh connection, not the dead one
    assert second.status_code == 200, second.text


def test_a_session_closed_on_a_dropped_connection_discards_it(postgres_app):
    app, server = postgres_app
    with app.app_context():
        session = get_session()
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        _terminate(server, pid)
    with app.app_context():
        other = get_session().execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert other != pid
