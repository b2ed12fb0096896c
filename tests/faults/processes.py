"""Real processes the fault-injection tests start, stop and kill: gunicorn, workers, PostgreSQL.

Everything listens on 127.0.0.1 only, runs in its own process group (so a kill reaches its
children) and is stopped by the fixture that started it, even when the test fails.
"""

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from forms_app.embedded_redis import free_port, is_listening
from tests.support import ROOT, wait_until

PG_BIN = Path(os.environ.get("GUICHET_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def kill_group(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """Send `sig` to the process's group, then SIGKILL whatever of the group lingers.

    The group outlives its leader: a worker killed with -9 may leave children behind.
    """
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        process.poll()
        return  # nothing left in the group
    deadline = time.monotonic() + timeout
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout)
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _group_alive(process.pid):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


class Web:
    """`gunicorn wsgi:app` with two sync workers on a free port of 127.0.0.1."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 2):
        self.env = env
        self.log_path = log_path
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> "Web":
        command = [
            sys.executable, "-m", "gunicorn", "wsgi:app",
            "--workers", str(self.workers), "--threads", "1",
            "--bind", f"127.0.0.1:{self.port}",
            "--timeout", "60", "--graceful-timeout", "5",
        ]  # fmt: skip
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                command,
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(self._healthy, timeout=timeout, interval=0.2)
        return self

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {self.log()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            kill_group(self.process, signal.SIGQUIT)  # gunicorn's quick shutdown


class Worker:
    """A real `python -m workflows.worker` (RQ worker plus its outbox dispatcher)."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "workflows.worker"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """kill -9 the worker process alone: its dispatcher child must notice by itself."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def children(self) -> list[int]:
        """Pids of the worker's direct children (the dispatcher, a work horse)."""
        found = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in found.read_text().split()]
        except OSError:
            return []

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            kill_group(self.process)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port, ours to stop and restart.

    As root, the server runs as the `postgres` OS user (PostgreSQL refuses root) in a
    directory that user owns.
    """

    def __init__(self):
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="guichet-pg-"))
        self.data = self.directory / "data"
        self.logfile = self.directory / "server.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str, timeout: float = 120) -> None:
        result = subprocess.run(
            [*self.as_user, *command], capture_output=True, text=True, timeout=timeout, check=False
        )
        assert result.returncode == 0, f"{command[0]} failed: {result.stdout}{result.stderr}"

    def init(self) -> "PrivatePostgres":
        self._run(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        return self.start()

    def start(self) -> "PrivatePostgres":
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.directory} -c fsync=off"
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip
        wait_until(lambda: is_listening(self.port), timeout=30)
        return self

    def stop(self) -> None:
        """Stop the server the way an operator restarting it does (fast: sessions cut)."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*self.as_user, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m",
                 "immediate", "-w", "stop"],
                capture_output=True, timeout=60, check=False,
            )  # fmt: skip
        shutil.rmtree(self.directory, ignore_errors=True)


def stop_all(*processes) -> None:
    """Stop every started process (web, worker), whatever the others do."""
    for process in processes:
        try:
            process.stop()
        except Exception as exc:  # one that fails to stop must not keep the others running
            print(f"could not stop {process!r}: {exc}")


def wait_gone(pid: int, timeout: float = 15) -> None:
    """Wait until `pid` has exited (zombies count as gone)."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            raise AssertionError(f"process {pid} ({command!r}) still alive after {timeout}s")
        time.sleep(0.1)
