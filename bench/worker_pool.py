"""A private redis-server and a pool of real `guichet-worker` processes, for the benchmarks.

    with private_redis() as url:
        with WorkerPool(app, url, count=2, worker_class="simple") as pool:
            pool.wait_started()   # the moment the first worker listens to the queue

The Redis server runs on a free port without persistence, so flushing it disturbs nobody.
Workers get bench/ on their PYTHONPATH, so they can run the module-level functions of
the benchmarks (see `noop`).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from redis import Redis
from rq import Queue, Worker

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
NOOP = "worker_pool.noop"


def noop() -> None:
    """The job that does nothing: what a worker costs per job, the work left out."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of our own on a free port, without persistence; yields its URL."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", tmp,
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"redis://127.0.0.1:{port}/0"
        try:
            client = Redis.from_url(url)
            wait_for(lambda: _answers(client), timeout=10, interval=0.05)
            client.close()
            yield url
        finally:
            server.terminate()
            server.wait(timeout=10)


def _answers(client: Redis) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.2):
    """Poll `predicate` until it returns something truthy; raise after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"not done within {timeout:.0f} s")
        time.sleep(interval)


class WorkerPool:
    """`count` real worker processes (RQ worker plus outbox dispatcher each) on `redis_url`."""

    def __init__(self, app: Flask, redis_url: str, count: int, worker_class: str, log_dir: Path):
        self.app, self.count, self.worker_class = app, count, worker_class
        self.redis = Redis.from_url(redis_url)
        self.queue = Queue(app.config["QUEUE_NAME"], connection=self.redis)
        self.env = dict(os.environ)
        self.env.update(
            DATABASE_URL=app.config["DATABASE_URL"],
            REDIS_URL=redis_url,
            SECRET_KEY=app.config["SECRET_KEY"],
            GUICHET_ENV="test",
            GUICHET_INSTANCE_PATH=app.instance_path,
            GUICHET_MAIL_DIR=app.config["MAIL_DIR"],
            GUICHET_WORKER_CLASS=worker_class,
            GUICHET_OUTBOX_DISPATCH_INTERVAL="1",
            PYTHONPATH=os.pathsep.join(filter(None, [str(BENCH), os.environ.get("PYTHONPATH")])),
            PYTHONUNBUFFERED="1",
        )
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []
        self.launched_at = 0.0

    def __enter__(self) -> "WorkerPool":
        self.launched_at = time.perf_counter()
        for i in range(self.count):
            log = (self.log_dir / f"worker-{self.worker_class}-{i}.log").open("a")
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "workflows.worker"],
                    env=self.env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            log.close()
        return self

    def __exit__(self, *_exc) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        wait_for(lambda: Worker.count(connection=self.redis) == 0, timeout=30)

    def wait_started(self, timeout: float = 120) -> float:
        """Block until a worker listens to the queue; return that moment (perf_counter)."""

        def listening() -> bool:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a worker exited with {process.returncode}")
            return Worker.count(queue=self.queue) > 0

        wait_for(listening, timeout, interval=0.01)
        return time.perf_counter()

    def wait_all_started(self, timeout: float = 120) -> None:
        wait_for(lambda: Worker.count(queue=self.queue) >= self.count, timeout, interval=0.05)

    def check_alive(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"a worker exited with {process.returncode}")


def enqueue_noops(queue: Queue, count: int) -> None:
    """Push `count` no-op jobs in batches, as the outbox pushes its rows."""
    for first in range(0, count, 500):
        queue.enqueue_many(
            [
                queue.prepare_data(NOOP, job_id=f"noop-{i}", result_ttl=3600)
                for i in range(first, min(first + 500, count))
            ]
        )


def time_noops(app: Flask, redis_url: str, count: int, workers: int, worker_class: str,
               log_dir: Path) -> float:  # fmt: skip
    """No-op jobs per second drained by `workers` processes of `worker_class`.

    The jobs wait in the queue before the workers start; the clock starts when the first
    worker listens and stops when the last job is finished.
    """
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    queue = Queue(app.config["QUEUE_NAME"], connection=redis)
    enqueue_noops(queue, count)
    with WorkerPool(app, redis_url, workers, worker_class, log_dir) as pool:
        started = pool.wait_started()

        def drained() -> bool:
            pool.check_alive()
            if queue.failed_job_registry.count:
                raise RuntimeError("a no-op job failed: see the worker logs")
            return queue.finished_job_registry.count >= count

        wait_for(drained, timeout=600, interval=0.02)
        elapsed = time.perf_counter() - started
    redis.flushdb()
    return count / elapsed
