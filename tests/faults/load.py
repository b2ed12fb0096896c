"""A load generator: threads submitting complete demo requests through the web processes.

Each thread is a visitor with its own cookie jar, filling the demo business form page by
page and submitting it, again and again, until it is told to stop or its time is up. Every
attempt is recorded: the reference the acknowledgement page showed, or how it failed.
"""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from tests.faults.client import Client, Refused


@dataclass
class Attempt:
    base: str
    started: float
    reference: str | None = None
    status: int | None = None  # the failing answer's HTTP status
    error: str | None = None  # the failing step, or the connection error's class
    body: str = ""


@dataclass
class LoadGenerator:
    """Submit through `bases` (round robin per attempt) from `threads` visitors at once."""

    bases: list[str]
    threads: int = 2
    max_seconds: float = 120
    limit: int | None = None  # stop once this many submissions were acknowledged
    pause_after_failure: float = 0.5
    attempts: list[Attempt] = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._count = 0

    def start(self) -> "LoadGenerator":
        self._deadline = time.monotonic() + self.max_seconds
        for number in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"load-{number}", daemon=True)
            thread.start()
            self._workers.append(thread)
        return self

    def stop(self) -> list[Attempt]:
        """Let each visitor finish the submission under way, then return every attempt."""
        self._stop.set()
        for thread in self._workers:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in self._workers), "a load thread did not finish"
        return self.attempts

    def wait_for(self, acknowledged: int, timeout: float) -> None:
        """Block until that many submissions were acknowledged (fail after `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.acknowledged()) < acknowledged:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"only {len(self.acknowledged())} acknowledged in {timeout}s: {self.summary()}"
                )
            time.sleep(0.2)

    def acknowledged(self) -> list[str]:
        with self._lock:
            return [a.reference for a in self.attempts if a.reference]

    def failures(self) -> list[Attempt]:
        with self._lock:
            return [a for a in self.attempts if not a.reference]

    def summary(self) -> str:
        kinds = Counter(f"{a.error} {a.status}" for a in self.failures())
        return f"{len(self.attempts)} attempts, {len(self.acknowledged())} acknowledged, " + (
            ", ".join(f"{kind}: {count}" for kind, count in kinds.items()) or "no failure"
        )

    def _next_base(self) -> str:
        with self._lock:
            self._count += 1
            return self.bases[self._count % len(self.bases)]

    def _loop(self) -> None:
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            if self.limit is not None and len(self.acknowledged()) >= self.limit:
                return
            attempt = Attempt(self._next_base(), time.monotonic())
            client = Client(attempt.base)
            try:
                attempt.reference = client.submit()
            except Refused as exc:
                attempt.status, attempt.error, attempt.body = exc.status, exc.step, exc.body
            except requests.RequestException as exc:
                attempt.error = type(exc).__name__
            finally:
                client.close()
            with self._lock:
                self.attempts.append(attempt)
            if attempt.reference is None:
                self._stop.wait(self.pause_after_failure)
