"""Fixtures around the real factory, a real database (SQLite file or PostgreSQL) and real Redis.

Set TEST_DATABASE_URL to a PostgreSQL server to run the suite there: each run creates its own
databases on that server and drops them afterwards. TEST_REDIS_URL defaults to database 15 of
the local Redis, flushed before each test that uses it.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from redis import Redis
from sqlalchemy import create_engine, make_url, text

from forms_app import create_app
from forms_app.db import Base, get_db
from tests.support import PASSWORD, sign_in

# Property-based tests (hypothesis) run the same examples on every machine: derandomized,
# no example database written to disk. No per-example deadline: the suite shares two cores
# with PostgreSQL, Redis and worker processes, so one slow example says nothing; modules that
# care about time measure it themselves. Each test sets its own max_examples.
settings.register_profile("guichet", derandomize=True, database=None, deadline=None)
settings.load_profile("guichet")

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")


class PostgresServer:
    """Creates and drops throw-away databases on the PostgreSQL server under test."""

    def __init__(self, url: str):
        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self) -> str:
        name = f"guichet_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer | None]:
    if not ON_POSTGRES:
        yield None
        return
    server = PostgresServer(TEST_DATABASE_URL)
    yield server
    server.drop_all()


@pytest.fixture
def empty_database_url(postgres, tmp_path) -> str:
    """URL of a database with no tables at all."""
    if postgres is not None:
        return postgres.create()
    return f"sqlite:///{tmp_path / 'empty.sqlite3'}"


@pytest.fixture(scope="session")
def _shared_postgres_url(postgres) -> str | None:
    if postgres is None:
        return None
    url = postgres.create()
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def database_url(_shared_postgres_url, tmp_path) -> Iterator[str]:
    """URL of a database with the schema and no rows (emptied again after the test)."""
    if _shared_postgres_url is None:
        yield schema_database_url(None, tmp_path)
        return
    yield _shared_postgres_url
    engine = create_engine(_shared_postgres_url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def schema_database_url(postgres: PostgresServer | None, directory: Path) -> str:
    """URL of a new database of its own with the schema and no rows (for module fixtures)."""
    url = f"sqlite:///{directory / 'guichet.sqlite3'}"
    if postgres is not None:
        url = postgres.create()
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


def flushed_redis_url() -> str:
    """The test Redis database, emptied."""
    client = Redis.from_url(TEST_REDIS_URL)
    client.flushdb()
    client.close()
    return TEST_REDIS_URL


@pytest.fixture
def redis_url() -> str:
    """The real Redis, on a database of its own, emptied for this test."""
    return flushed_redis_url()


def base_config(database_url: str, redis_url: str, directory: Path) -> dict:
    """The test app's configuration on this database and Redis, mail written under `directory`."""
    return {
        "ENV": "test",
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,  # tests of CSRF itself turn it back on
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MAIL_DIR": str(directory / "mail"),
        "OUTBOX_DISPATCH_INTERVAL": 0.2,
        # Deterministic statement counts: banners read on every page, evidence stored only
        # when a test asks (tests of the caching and of the flushing set their own values).
        "BANNER_CACHE_SECONDS": 0,
        "OPS_COUNTER_FLUSH_SECONDS": 24 * 3600,
    }


@pytest.fixture
def app_config(database_url, redis_url, tmp_path) -> dict:
    return base_config(database_url, redis_url, tmp_path)


@pytest.fixture
def app(app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(app_config)
    yield app
    get_db(app).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    """Sign in and out through the real login form."""

    def __init__(self, client):
        self._client = client

    def login(self, email: str = "agent@example.nc", password: str = PASSWORD):
        return sign_in(self._client, email, password)

    def logout(self):
        return self._client.post("/agents/deconnexion")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)
