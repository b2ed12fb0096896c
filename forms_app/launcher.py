"""`make run`: start Redis (if none answers), the web server and the worker; stop them together.

Ctrl-C, or SIGTERM to the process group, stops everything this started. If the web server or
the worker dies, the rest is stopped and the launcher exits with an error. If the embedded
Redis dies, it is restarted after a few seconds: meanwhile the site keeps answering and
committed work waits in the outbox, as it would in production.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from redis import Redis
from redis.exceptions import RedisError

from forms_app import create_app
from forms_app.embedded_redis import EmbeddedRedis, is_listening

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
REDIS_RESTART_DELAY = 5


def redis_answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except RedisError:
        return False


def main() -> int:
    """Start and supervise the platform's processes until interrupted."""
    app = create_app()
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    redis_url = app.config["REDIS_URL"]
    embedded = None
    if not redis_answers(redis_url):
        parts = urlsplit(redis_url)
        if parts.hostname not in LOCAL_HOSTS:
            print(f"Redis at {parts.hostname} does not answer; start it or fix REDIS_URL.")
            return 1
        embedded = EmbeddedRedis(Path(app.instance_path) / "redis", parts.port or 6379).start()
        print(f"Started an embedded Redis ({embedded.binary}) on port {embedded.port}.")

    web_command = [
        *(sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}"),
        *("--workers", "2", "--threads", "4", "--no-control-socket"),
        "wsgi:app",
    ]
    env = metrics_env(os.environ, Path(app.instance_path))
    processes = {
        "web": subprocess.Popen(web_command, env=env),
        "worker": subprocess.Popen([sys.executable, "-m", "workflows.worker"], env=env),
    }

    stopping = False

    def _stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    announced = False
    exit_code = 0
    redis_down_since: float | None = None
    try:
        while not stopping:
            if embedded is not None and embedded.process.poll() is not None:
                redis_down_since = _revive(embedded, redis_down_since)
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"The {name} process exited ({process.returncode}); stopping the rest.")
                    exit_code = 1
                    stopping = True
            if not announced and is_listening(port, host if host != "0.0.0.0" else "127.0.0.1"):  # noqa: S104
                print(
                    f"\nGuichet is running: http://{host}:{port}/  (Ctrl-C to stop)\n", flush=True
                )
                announced = True
            time.sleep(0.2)
    finally:
        _terminate(processes.values())
        if embedded is not None:
            embedded.stop()
    print("Stopped.")
    return exit_code


def metrics_env(environ, instance: Path) -> dict[str, str]:
    """The environment with a PROMETHEUS_MULTIPROC_DIR emptied for this run.

    The web processes and the worker write their counters there and /metrics adds them up;
    figures left by a previous run's processes are removed first.
    """
    env = dict(environ)
    directory = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or instance / "prometheus")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return env


def _revive(embedded: EmbeddedRedis, down_since: float | None) -> float | None:
    """Restart a dead embedded Redis after a delay; return when it went down, or None."""
    if down_since is None:
        print(f"Redis stopped; restarting it in {REDIS_RESTART_DELAY}s.", flush=True)
        return time.monotonic()
    if time.monotonic() - down_since < REDIS_RESTART_DELAY:
        return down_since
    try:
        embedded.start()
    except (RuntimeError, TimeoutError) as exc:
        print(f"Redis did not restart ({exc}); trying again.", flush=True)
        return time.monotonic()
    print("Redis restarted.", flush=True)
    return None


def _terminate(processes) -> None:
    """SIGTERM every process still running, then SIGKILL whatever lingers after 15 s."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    raise SystemExit(main())
