"""PostgreSQL restarted under load: a French 503 meanwhile, nothing half-written, then service.

The cluster is a private one (initdb on a free port), whatever database the pass uses: the
shared server is not ours to restart.
"""

import time
from collections.abc import Iterator

import pytest
from alembic import command
from flask import Flask

from forms_app import create_app
from forms_app.cli import alembic_config
from forms_app.db import get_db
from tests.faults import ledger
from tests.faults.client import Client
from tests.faults.conftest import RECOVERY, Fleet
from tests.faults.load import LoadGenerator
from tests.faults.processes import PrivatePostgres
from tests.support import wait_until

DOWN_SECONDS = 5


@pytest.fixture
def postgres_app(private_redis, tmp_path, monkeypatch) -> Iterator[tuple[Flask, PrivatePostgres]]:
    """An app on a private, migrated PostgreSQL cluster with the demo forms published."""
    from forms_app.forms_cli import load_demo_forms

    server = PrivatePostgres().init()
    try:
        monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path / "instance"))
        app = create_app(
            {
                "ENV": "test",
                "TESTING": True,
                "SECRET_KEY": "test-secret-key",
                "DATABASE_URL": server.url,
                "REDIS_URL": private_redis.url,
                "MAIL_DIR": str(tmp_path / "mail"),
                "OUTBOX_DISPATCH_INTERVAL": 0.2,
                **RECOVERY,
            }
        )
        with app.app_context():
            command.upgrade(alembic_config(app), "head")
            load_demo_forms()
        yield app, server
        get_db(app).dispose()
    finally:
        server.destroy()


@pytest.mark.timeout(300)
def test_requests_during_a_postgres_restart_get_a_french_503(postgres_app, tmp_path):
    app, server = postgres_app
    (tmp_path / "logs").mkdir()
    fleet = Fleet(app, tmp_path / "logs")
    try:
        web = fleet.web()
        fleet.worker()
        load = LoadGenerator([web.url], threads=2, max_seconds=180).start()
        try:
            load.wait_for(acknowledged=2, timeout=90)
            server.stop()
            get_db(app).dispose()  # the test's own pooled connections died with the server
            down = Client(web.url).get("/demarches/aide-entreprises-covid/")
            time.sleep(DOWN_SECONDS)
            server.start()
            before = len(load.acknowledged())
            load.wait_for(acknowledged=before + 3, timeout=90)  # service resumed by itself
        finally:
            attempts = load.stop()
        acknowledged = load.acknowledged()
        wait_until(lambda: ledger.all_processed(app, acknowledged), timeout=120, interval=0.5)
        found = ledger.read(app)
    finally:
        fleet.stop()
    ledger.report(
        "PostgreSQL restarted",
        len(attempts),
        acknowledged,
        found,
        answer_while_down=down.status,
        failures=load.summary(),
    )
    assert down.status == 503, down.text
    assert "Service momentanément indisponible" in down.text
    assert down.headers.get("Retry-After") == "30"
    assert load.failures(), "no request met the restart"
    for failure in load.failures():  # a clear 503, never a 500 or a reset connection
        assert failure.status == 503, (failure.error, failure.status, failure.body[-2000:])
        assert "Service momentanément indisponible" in failure.body
    ledger.assert_exactly_once(acknowledged, found)  # no submission without its event or jobs
