"""A throw-away PostgreSQL database for one benchmark run, and the app the benchmarks drive."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import create_engine, make_url, select, text

from forms_app import create_app
from forms_app.db import Base, get_db

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def throwaway_database(name: str) -> Iterator[str]:
    """Create database `name` (dropping a leftover one), yield its URL, drop it afterwards.

    The app's instance folder (uploads, PDFs, e-mails) is a temporary directory meanwhile.
    """
    server = make_url(os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["GUICHET_INSTANCE_PATH"] = tmp
            yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_app(url: str, **config) -> Flask:
    """The app on the throw-away database at `url`, its tables created; `config` overrides."""
    app = create_app(
        {
            "DATABASE_URL": url,
            "ENV": "test",
            "TESTING": True,
            "SECRET_KEY": "bench-secret-key",
            "WTF_CSRF_ENABLED": False,
            **config,
        }
    )
    Base.metadata.create_all(get_db(app).engine)
    return app


# The benchmarks' authenticator app, for staff who give a second factor when signing in.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 (a throw-away app)


def signed_in(app: Flask, email: str, password: str):
    """A test client signed in as `email` through the real pages, the second factor included."""
    import pyotp

    from forms_app.db import get_session
    from forms_app.models import User

    with app.app_context():
        session = get_session()
        user = session.scalar(select(User).where(User.email == email))
        user.totp_secret, user.totp_last_step = TOTP_SECRET, None
        session.commit()
    client = app.test_client()
    answer = client.post("/agents/connexion", data={"email": email, "password": password})
    if answer.headers.get("Location") == "/agents/connexion/code":
        answer = client.post("/agents/connexion/code", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert answer.status_code == 302 and "/connexion" not in answer.headers["Location"], email
    return client
