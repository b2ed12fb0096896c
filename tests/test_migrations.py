"""Migrations: one head, upgrade from an empty database, models equal migrations."""

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy import table as table_clause

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


def test_upgrading_a_database_with_requests_keeps_every_row(empty_database_url):
    """Changing a column type rebuilds SQLite tables: no cascade may empty their children."""
    app = _app_on(empty_database_url)
    config = alembic_config(app)
    command.upgrade(config, "591cba84287a")  # before amounts became 64-bit
    engine = get_db(app).engine
    now = "2026-03-23 08:00:00"
    with engine.begin() as connection:
        for statement in (
            "INSERT INTO form (id, slug, status, draft, created_at, updated_at)"
            " VALUES (1, 'aide', 'published', '{}', :now, :now)",
            "INSERT INTO form_version (id, form_id, number, definition, sha256, published_at)"
            " VALUES (1, 1, 1, '{}', 'x', :now)",
            "INSERT INTO submission (id, reference, form_id, form_version_id, state, answers,"
            " rule_results, computed_amount, created_at, revision)"
            " VALUES (1, 'AIDE-2026-000001', 1, 1, 'submitted', '{}', '{}', 150000, :now, 0)",
            "INSERT INTO attachment (id, submission_id, field_key, original_name, content_type,"
            " size, sha256, storage_key, created_at)"
            " VALUES (1, 1, 'kbis', 'kbis.pdf', 'application/pdf', 10, 'y', 'k', :now)",
            'INSERT INTO "user" (id, email, name, password_hash, active, failed_logins,'
            " created_at) VALUES (1, 'v@example.nc', 'V', 'x', :yes, 0, :now)",
            "INSERT INTO approval (id, submission_id, approver_id, amount, created_at)"
            " VALUES (1, 1, 1, 150000, :now)",
        ):
            connection.execute(text(statement), {"now": now, "yes": True})

    command.upgrade(config, "head")
    command.check(config)
    with engine.begin() as connection:
        counts = {
            table: connection.scalar(select(func.count()).select_from(table_clause(table)))
            for table in ("form", "form_version", "submission", "attachment", "approval")
        }
        assert counts == dict.fromkeys(counts, 1)
        connection.execute(text("UPDATE approval SET amount = 3000000000"))
        connection.execute(text("UPDATE submission SET approved_amount = 3000000000"))
        assert connection.scalar(text("SELECT amount FROM approval")) == 3_000_000_000
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    get_db(app).dispose()
