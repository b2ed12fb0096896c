"""Migrations: one head, upgrade from an empty database, models equal migrations."""

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from forms_app import create_app
from forms_app.cli import alembic_config
from forms_app.db import Base, get_db


def _app_on(url: str):
    return create_app({"DATABASE_URL": url, "ENV": "test"})


def test_single_head(app):
    script = ScriptDirectory.from_config(alembic_config(app))
    assert len(script.get_heads()) == 1


def test_upgrade_from_empty_matches_models(empty_database_url):
    app = _app_on(empty_database_url)
    config = alembic_config(app)
    command.upgrade(config, "head")
    command.check(config)  # raises if the models and the migrated schema differ
    tables = set(inspect(get_db(app).engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    get_db(app).dispose()


def test_downgrade_to_base_and_up_again(empty_database_url):
    app = _app_on(empty_database_url)
    config = alembic_config(app)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = create_engine(empty_database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    command.upgrade(config, "head")
    command.check(config)
    get_db(app).dispose()


def test_cli_upgrade(empty_database_url):
    app = _app_on(empty_database_url)
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "user" in inspect(get_db(app).engine).get_table_names()
    get_db(app).dispose()
