"""/healthz says the process is up; /readyz says whether the database and Redis answer."""

import pytest

from forms_app import create_app
from forms_app.embedded_redis import free_port


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["database"]["ok"] is True
    assert response.json["redis"]["ok"] is True
    assert response.json["database"]["outbox_pending"] == 0


@pytest.fixture
def client_without(app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path))

    def make(**overrides):
        return create_app(dict(app_config, **overrides)).test_client()

    return make


def test_readyz_reports_redis_down_while_healthz_stays_up(client_without):
    client = client_without(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["redis"] == {"ok": False, "error": "ConnectionError"}
    assert response.json["database"]["ok"] is True
    assert client.get("/healthz").status_code == 200


def test_readyz_reports_database_down(client_without):
    client = client_without(DATABASE_URL=f"postgresql+psycopg://x@127.0.0.1:{free_port()}/x")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["database"]["ok"] is False
    assert response.json["redis"]["ok"] is True
    assert client.get("/healthz").status_code == 200
