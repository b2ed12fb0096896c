"""Fixtures of the fault-injection suite: a private Redis, short recovery delays, a fleet.

The suite's `app` (database of the pass: SQLite file or PostgreSQL) is configured with a
Redis server of the test's own, so stopping it harms nobody else, and with recovery delays
short enough to watch: a job of a killed worker is run again after JOB_TIMEOUT +
OUTBOX_DEAD_WORKER_GRACE seconds.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from forms_app.embedded_redis import EmbeddedRedis, free_port
from tests.faults.processes import Web, Worker, stop_all
from tests.support import process_env

RECOVERY = {
    "JOB_TIMEOUT": 10,
    "PDF_JOB_TIMEOUT": 10,
    "OUTBOX_DEAD_WORKER_GRACE": 2,
    "OUTBOX_STALE_AFTER": 2,
    "OUTBOX_RETRY_BASE_SECONDS": 1,
}


@pytest.fixture
def private_redis(tmp_path) -> Iterator[EmbeddedRedis]:
    """A running Redis server of this test's own (AOF on), stopped at teardown."""
    server = EmbeddedRedis(tmp_path / "redis", free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config, private_redis) -> dict:
    return {**app_config, **RECOVERY, "REDIS_URL": private_redis.url}


@pytest.fixture
def demo_app(app) -> Flask:
    """The app with the demo forms published."""
    from forms_app.forms_cli import load_demo_forms

    with app.app_context():
        load_demo_forms()
    return app


class Fleet:
    """Web and worker processes sharing the app's database, Redis and mail directory."""

    def __init__(self, app: Flask, logs: Path):
        self.app = app
        self.logs = logs
        self.started: list[Web | Worker] = []

    def env(self, **overrides: str) -> dict[str, str]:
        timings = {f"GUICHET_{key}": str(value) for key, value in RECOVERY.items()}
        # The load generator stands for many applicants, all from 127.0.0.1 here.
        crowd = {"GUICHET_SUBMIT_RATE_LIMIT": "100000 per minute"}
        return process_env(self.app, **timings, **crowd, **overrides)

    def web(self, name: str = "web", workers: int = 2, **env: str) -> Web:
        web = Web(self.env(**env), self.logs / f"{name}.log", workers=workers)
        self.started.append(web)
        return web.start()

    def worker(self, name: str = "worker", **env: str) -> Worker:
        worker = Worker(self.env(**env), self.logs / f"{name}.log")
        self.started.append(worker)
        return worker.start()

    def logs_text(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.logs.glob("*.log"))
        )

    def stop(self) -> None:
        stop_all(*reversed(self.started))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, for fixtures that look at the outcome."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def fleet(demo_app, tmp_path, request) -> Iterator[Fleet]:
    """Start processes with `fleet.web()` / `fleet.worker()`; all are stopped at teardown.

    When the test failed, the end of every process's log is printed with the failure.
    """
    logs = tmp_path / "logs"
    logs.mkdir()
    fleet = Fleet(demo_app, logs)
    try:
        yield fleet
    finally:
        fleet.stop()
        outcome = getattr(request.node, "report_call", None)
        if outcome is not None and outcome.failed:
            print(fleet.logs_text())
