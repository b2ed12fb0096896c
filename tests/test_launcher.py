"""`make run` end to end: migrate, demo accounts, embedded Redis, web and worker over real HTTP."""

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest
from redis import Redis

from forms_app.cli import DEMO_PASSWORD
from forms_app.embedded_redis import free_port, is_listening
from tests.support import ROOT, wait_until


class Browser:
    """A tiny HTTP client with cookies, enough to sign in through the real form."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode()
        return self._open(urllib.request.Request(self.base + path, data=body))

    def _open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            return 0, ""


@pytest.fixture
def launched(empty_database_url, tmp_path):
    """Run what `make run` runs, on free ports, with no Redis answering at REDIS_URL."""
    port, redis_port = free_port(), free_port()
    env = dict(
        os.environ,
        DATABASE_URL=empty_database_url,
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        GUICHET_INSTANCE_PATH=str(tmp_path / "instance"),
        PORT=str(port),
    )
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for args in (["db", "upgrade"], ["demo", "load"]):
        done = subprocess.run(
            [*flask, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
    log_path = tmp_path / "launcher.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "forms_app.launcher"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    browser = Browser(f"http://127.0.0.1:{port}")
    try:
        wait_until(lambda: browser.get("/healthz")[0] == 200, timeout=60)
        yield process, browser, redis_port, log_path
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_make_run_serves_french_pages_and_stops_cleanly(launched):
    process, browser, redis_port, log_path = launched
    assert "Guichet is running: http://127.0.0.1:" in log_path.read_text()
    assert "Started an embedded Redis" in log_path.read_text()

    status, page = browser.get("/")
    assert status == 200
    assert '<html lang="fr">' in page

    status, body = browser.get("/readyz")
    assert status == 200, body
    assert json.loads(body)["redis"]["ok"] is True

    status, page = browser.get("/agents/connexion")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    status, page = browser.post(
        "/agents/connexion",
        {"email": "agent@demo.guichet.nc", "password": DEMO_PASSWORD, "csrf_token": token},
    )
    assert status == 200
    assert "Bonjour Agnès Instructrice" in page

    # Redis goes away: readiness says so, liveness does not; then it comes back by itself.
    Redis(port=redis_port).shutdown(nosave=True)
    status, body = browser.get("/readyz")
    assert status == 503
    assert json.loads(body)["redis"]["ok"] is False
    assert browser.get("/healthz")[0] == 200
    wait_until(lambda: browser.get("/readyz")[0] == 200, timeout=30)

    # SIGTERM to the process group stops everything the launcher started.
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(30) == 0
    port = int(browser.base.rsplit(":", 1)[1])
    assert not is_listening(port)
    assert not is_listening(redis_port)
    assert "Stopped." in log_path.read_text()
