"""The factory: configuration from the environment, no I/O, production safety."""

import pytest

from forms_app import create_app
from forms_app.config import ConfigError


def test_create_app_does_no_io(tmp_path, monkeypatch):
    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    app = create_app()
    assert app.config["DATABASE_URL"].endswith("127.0.0.1:1/none")
    assert not (tmp_path / "instance").exists()


def test_sqlite_in_instance_folder_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path / "inst"))
    app = create_app()
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'inst' / 'guichet.sqlite3'}"
    assert app.config["MAIL_DIR"] == str(tmp_path / "inst" / "mail")


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://queue.example:6380/2")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("GUICHET_LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("GUICHET_ORGANISATION_NAME", "Province Nord")
    app = create_app()
    assert app.config["REDIS_URL"] == "redis://queue.example:6380/2"
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["LOGIN_MAX_FAILURES"] == 3
    assert app.config["ORGANISATION_NAME"] == "Province Nord"


def test_test_config_wins_over_environment(monkeypatch):
    monkeypatch.setenv("GUICHET_LOGIN_MAX_FAILURES", "3")
    assert create_app({"LOGIN_MAX_FAILURES": 7}).config["LOGIN_MAX_FAILURES"] == 7


@pytest.mark.parametrize("secret", [None, "dev-only-secret-key-change-me", "short"])
def test_production_refuses_weak_or_default_secret(monkeypatch, secret):
    monkeypatch.setenv("GUICHET_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    if secret:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError):
        create_app()


def test_production_starts_with_a_real_secret(monkeypatch):
    monkeypatch.setenv("GUICHET_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
