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
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported: run against a database.")
run_migrations_online()
