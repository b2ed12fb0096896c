"""A throw-away PostgreSQL database for one benchmark run, on the server of BENCH_DATABASE_URL."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text

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
