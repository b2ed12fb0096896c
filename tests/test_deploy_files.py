"""The deployment examples (docs/deploy/): the environment file, the systemd units, Redis.

Each file is checked by the program that reads it where it is installed (systemd-analyze,
redis-server, create_app in a process of its own), and its settings against the app's.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from redis import Redis
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError

from forms_app.config import Config
from forms_app.db import get_session
from forms_app.embedded_redis import find_server_binary, free_port
from forms_app.models import OutboxMessage, OutboxStatus
from tests.deploy_support import DEPLOY, DOC, directives, read_env_file, seconds, unit_settings
from tests.support import ROOT, run_worker_burst, sent_mails, wait_until
from workflows import outbox

ENV_FILE = DEPLOY / "guichet.env.example"
PLAIN_KEYS = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PROMETHEUS_MULTIPROC_DIR"}
READ_FROM_ENVIRON = {"GUICHET_INSTANCE_PATH"}  # read by create_app itself, not a config key
BIN = Path(sys.executable).parent
FILES = [
    "nginx.conf",
    "maintenance.html",
    "guichet-web.service",
    "guichet-worker@.service",
    "guichet.env.example",
    "redis.conf",
]


def test_the_guide_shows_every_example_file_as_it_is():
    guide = DOC.read_text()
    assert sorted(p.name for p in DEPLOY.iterdir()) == sorted(FILES)
    for name in FILES:
        assert (DEPLOY / name).read_text() in guide, f"{name} differs from docs/deploy.md"


def test_every_key_of_the_environment_file_is_one_the_app_reads():
    keys = read_env_file(ENV_FILE, commented=True)
    assert len(keys) > 30
    source = (ROOT / "forms_app" / "__init__.py").read_text()
    for key in keys:
        if key.startswith("GUICHET_") and key not in READ_FROM_ENVIRON:
            assert hasattr(Config, key.removeprefix("GUICHET_")), f"{key}: no such setting"
        elif key in READ_FROM_ENVIRON:
            assert f'"{key}"' in source
        else:
            assert key in PLAIN_KEYS or key.startswith("AWS_"), f"{key}: read by nothing"


def _app_config(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """Build the app from this environment alone, in a process of its own; its settings."""
    code = (
        "import json; from forms_app import create_app; c = create_app().config; "
        "print(json.dumps({k: c[k] for k in c if k.isupper()}, default=str))"
    )
    environ = {"PATH": "/usr/bin:/bin", **env, "GUICHET_INSTANCE_PATH": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_environment_file_configures_production_once_its_secrets_are_filled_in(tmp_path):
    env = read_env_file(ENV_FILE)
    refused = _app_config(env, tmp_path)
    assert refused.returncode != 0 and "SECRET_KEY" in refused.stderr  # the placeholder
    env["SECRET_KEY"] = "k" * 48
    result = _app_config(env, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    config = json.loads(result.stdout.splitlines()[-1])
    assert config["ENV"] == "production" and config["SESSION_COOKIE_SECURE"] is True
    assert config["TRUSTED_PROXIES"] == 1
    assert config["WORKER_CLASS"] == "simple" and config["LOG_FORMAT"] == "json"
    assert config["STORAGE_BACKEND"] == "s3" and config["S3_BUCKET"] == "guichet-documents"
    assert config["S3_PREFIX"] == "production/"
    assert config["MAIL_BACKEND"] == "smtp" and config["SMTP_PORT"] == 587
    assert config["SMTP_STARTTLS"] is True
    assert config["MAIL_FROM"] == "Guichet <ne-pas-repondre@guichet.example.nc>"
    assert config["COLLECTIVITE"] == "PROVINCE SUD — Nouvelle-Calédonie"
    assert config["SCDL_ATTRIBUTOR_ID"] == "0000000000"  # text, not a number
    assert config["DATABASE_URL"].startswith("postgresql+psycopg://")


UNITS = {"guichet-web.service": "gunicorn", "guichet-worker@.service": "guichet-worker"}


@pytest.mark.parametrize("name", UNITS)
def test_the_units_run_the_app_hardened_from_the_environment_file(name):
    settings = unit_settings(DEPLOY / name)
    [command] = settings["ExecStart"]
    assert command.split()[0] == f"/opt/guichet/venv/bin/{UNITS[name]}"
    assert settings["EnvironmentFile"] == ["/etc/guichet/guichet.env"]
    assert settings["Restart"] == ["always"] and settings["User"] == ["guichet"]
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ReadWritePaths": "/var/lib/guichet",
        "KillSignal": "SIGTERM",
    }.items():
        assert settings[key] == [value], key


def test_the_web_unit_runs_gunicorn_with_a_metrics_directory_of_its_own():
    settings = unit_settings(DEPLOY / "guichet-web.service")
    [command] = settings["ExecStart"]
    words = command.split()
    assert words[-1] == "wsgi:app" and "--workers" in words and "--bind" in words
    graceful = int(words[words.index("--graceful-timeout") + 1])
    assert seconds(settings["TimeoutStopSec"][0]) > graceful
    assert settings["RuntimeDirectory"] == ["guichet-web"]
    assert settings["Environment"] == ["PROMETHEUS_MULTIPROC_DIR=/run/guichet-web/metrics"]
    # The environment file would override it (and the workers share that file).
    assert "PROMETHEUS_MULTIPROC_DIR" not in read_env_file(ENV_FILE)


def test_a_worker_is_given_the_time_to_finish_its_job_when_stopped():
    settings = unit_settings(DEPLOY / "guichet-worker@.service")
    assert settings["ExecStart"] == ["/opt/guichet/venv/bin/guichet-worker"]
    assert settings["KillMode"] == ["mixed"]  # SIGTERM to the worker, not to a work horse
    stop = seconds(settings["TimeoutStopSec"][0])
    assert stop > Config.PDF_JOB_TIMEOUT and stop > Config.JOB_TIMEOUT


@pytest.mark.parametrize("name", UNITS)
def test_systemd_accepts_the_units(name, tmp_path):
    """`systemd-analyze verify` on the units, pointed at this virtualenv's programs."""
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing (Debian's systemd)"
    unit = tmp_path / name
    text = (DEPLOY / name).read_text().replace("/opt/guichet/venv/bin/", f"{BIN}/")
    unit.write_text(text)
    assert (BIN / UNITS[name]).exists()
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # Unknown keys and bad values are only warnings: none may concern the unit.
    assert name.split("@")[0] not in output and str(unit) not in output, output


def test_redis_is_configured_as_a_durable_queue():
    settings = {words[0]: words[1:] for words in directives((DEPLOY / "redis.conf").read_text())}
    assert settings["maxmemory-policy"] == ["noeviction"]
    assert settings["appendonly"] == ["yes"] and settings["appendfsync"] == ["everysec"]
    assert settings["save"] == ['""']
    assert settings["protected-mode"] == ["yes"]


@pytest.fixture
def redis_from_the_example(tmp_path):
    """redis-server started with docs/deploy/redis.conf (address, port and folder changed)."""
    port = free_port()
    process = subprocess.Popen(
        [
            *(find_server_binary(), str(DEPLOY / "redis.conf")),
            *("--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path)),
            *("--user", "operator", "on", ">operator-password", "~*", "&*", "+@all"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    operator = Redis(port=port, username="operator", password="operator-password")
    try:
        wait_until(lambda: _answers(operator), timeout=20)
        yield port, operator
    finally:
        operator.close()
        process.terminate()
        process.wait(timeout=20)


def _answers(client: Redis) -> bool:
    try:
        return client.ping()
    except Exception:
        return False


def test_the_example_redis_runs_as_configured_and_the_worker_uses_it(app, redis_from_the_example):
    port, operator = redis_from_the_example
    assert operator.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    assert operator.config_get("appendonly") == {"appendonly": "yes"}
    with pytest.raises((AuthenticationError, ResponseError)):
        Redis(port=port).ping()  # the default user is off
    # The application's user of redis.conf, as REDIS_URL of the environment file names it,
    # runs the queue but can neither administer nor empty Redis.
    url = urlsplit(read_env_file(ENV_FILE)["REDIS_URL"])
    user, password = url.username, url.password
    assert (user, password) == ("guichet", _redis_password())
    client = Redis(port=port, username=user, password=password)
    assert client.ping()
    for refused in (client.flushall, client.flushdb, lambda: client.config_get("*")):
        with pytest.raises(NoPermissionError):
            refused()
    client.close()

    app.config["REDIS_URL"] = f"redis://{user}:{password}@127.0.0.1:{port}/0"
    with app.app_context():
        session = get_session()
        message = outbox.add(
            session, "send_email", to="demandeur@example.nc", subject="Essai", body="Bonjour."
        )
        session.commit()
        message_id = message.id
    run_worker_burst(app)
    with app.app_context():
        assert get_session().get(OutboxMessage, message_id).status is OutboxStatus.DONE
    assert len(sent_mails(app)) == 1


def _redis_password() -> str:
    """The application user's password as written in redis.conf."""
    for words in directives((DEPLOY / "redis.conf").read_text()):
        if words[:3] == ["user", "guichet", "on"]:
            return next(w[1:] for w in words if w.startswith(">"))
    raise AssertionError("no 'user guichet on' line in redis.conf")
