"""Alembic environment: migrate the database the app is configured for."""

from logging.config import fileConfig

from alembic import context

from forms_app import models  # noqa: F401  (registers every table on Base.metadata)
from forms_app.db import Base

config = context.config
if config.config_file_name and not config.attributes.get("engine"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _engine():
    """The engine given by `flask db ...`, or the app's when alembic runs on its own."""
    engine = config.attributes.get("engine")
    if engine is None:
        from forms_app import create_app
        from forms_app.db import get_db

        engine = get_db(create_app()).engine
    return engine


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, enabled=False)
        try:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    _check_sqlite_foreign_keys(connection)
        finally:
            if sqlite:
                connection.rollback()
                _sqlite_foreign_keys(connection, enabled=True)


def _sqlite_foreign_keys(connection, *, enabled: bool) -> None:
    """Switch SQLite's foreign keys outside any transaction (inside one it is a no-op).

    Batch migrations rebuild a table by copying it and dropping the original; with foreign
    keys on, that DROP deletes its rows first and ON DELETE CASCADE empties every child
    table (SQLite's documented procedure for altering a table switches them off).
    """
    cursor = connection.connection.driver_connection.cursor()
    cursor.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")
    cursor.close()


def _check_sqlite_foreign_keys(connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:5]}")


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported: run against a database.")
run_migrations_online()
