"""Evidence of trouble: request counts per bucket, worker heartbeats, and series to read them.

Every web process counts its answers in memory, per bucket of OPS_BUCKET_MINUTES (UTC):
`requests`, `server_errors` (status 500 and above, the 503 page of a lost database included)
and `failed_submissions` (5xx answers to a POST on a form-filling page). The counts are added
to the `ops_counter` table at most every OPS_COUNTER_FLUSH_SECONDS, after the response went
out, on a connection of their own; when the database is away they stay in memory and are
written once it answers again, so an outage's errors are recorded after it. Workers write a
`Heartbeat` row every HEARTBEAT_INTERVAL seconds. `series` reads all of it back per bucket.
"""

import atexit
import logging
import os
import threading
import time
import weakref
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from flask import Flask, Response, current_app, request
from sqlalchemy import BigInteger, Integer, cast, delete, extract, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from forms_app.db import get_db, utcnow
from forms_app.models import Heartbeat, OpsCounter, ProblemReport

log = logging.getLogger("guichet.ops")

REQUESTS = "requests"
SERVER_ERRORS = "server_errors"
FAILED_SUBMISSIONS = "failed_submissions"
COUNTERS = (REQUESTS, SERVER_ERRORS, FAILED_SUBMISSIONS)
EXTENSION_KEY = "guichet.ops_evidence"
SKIPPED_PATHS = ("/healthz", "/readyz", "/metrics")
FILLING_PREFIX = "/demarches/"  # the public blueprint's form-filling pages
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_start(moment: datetime, minutes: int) -> datetime:
    """The UTC start of the bucket of `minutes` holding `moment` (buckets align on the epoch)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use an aware UTC time")
    delta = moment - EPOCH
    seconds = delta.days * 86400 + delta.seconds
    return EPOCH + timedelta(seconds=seconds - seconds % (minutes * 60))


class Recorder:
    """One process's counts not yet written, keyed by (bucket start, counter name)."""

    def __init__(self, app: Flask):
        self.app = app
        self.reset()

    def reset(self) -> None:
        self.lock = threading.Lock()
        self.flush_lock = threading.Lock()
        self.counts: defaultdict[tuple[datetime, str], int] = defaultdict(int)
        self.last_flush = time.monotonic()

    def add(self, key: tuple[datetime, str], n: int) -> None:
        with self.lock:
            self.counts[key] += n

    def take(self) -> dict[tuple[datetime, str], int]:
        with self.lock:
            taken, self.counts = dict(self.counts), defaultdict(int)
        return taken

    def give_back(self, counts: dict[tuple[datetime, str], int]) -> None:
        with self.lock:
            for key, n in counts.items():
                self.counts[key] += n

    def flush_due(self) -> bool:
        """Whether a flush is due now; claims it, so one request per period schedules it."""
        now = time.monotonic()
        with self.lock:
            if now - self.last_flush < self.app.config["OPS_COUNTER_FLUSH_SECONDS"]:
                return False
            self.last_flush = now
            return True


_RECORDERS: "weakref.WeakSet[Recorder]" = weakref.WeakSet()


def init_app(app: Flask) -> None:
    """Count every answer of the app (but static files and probes) per bucket."""
    app.extensions[EXTENSION_KEY] = recorder = Recorder(app)
    _RECORDERS.add(recorder)
    app.after_request(_after_request)


def _after_request(response: Response) -> Response:
    try:
        path = request.path
        if path.startswith("/static/") or path in SKIPPED_PATHS:
            return response
        app = current_app._get_current_object()
        now = utcnow()
        count(app, REQUESTS, at=now)
        if response.status_code >= 500:
            count(app, SERVER_ERRORS, at=now)
            rule = request.url_rule.rule if request.url_rule is not None else ""
            if (
                request.method == "POST"
                and request.blueprint == "public"
                and rule.startswith(FILLING_PREFIX)
            ):
                count(app, FAILED_SUBMISSIONS, at=now)
        if app.extensions[EXTENSION_KEY].flush_due():
            # After the answer went out: the visitor never waits for the database.
            response.call_on_close(partial(_flush_quietly, app, wait=False))
    except Exception as exc:  # counting must never break an answer
        log.error("ops evidence: counting failed: %s", type(exc).__name__)
    return response


def count(app: Flask, name: str, n: int = 1, at: datetime | None = None) -> None:
    """Add `n` to counter `name` in the bucket of `at` (default: now), in this process."""
    if name not in COUNTERS:
        raise ValueError(f"unknown counter {name!r}")
    bucket = bucket_start(at or utcnow(), app.config["OPS_BUCKET_MINUTES"])
    app.extensions[EXTENSION_KEY].add((bucket, name), n)


def flush(app: Flask) -> int:
    """Add this process's counts to `ops_counter`; return how many were written.

    On failure (the database is away) the counts go back to memory and the error is raised.
    """
    recorder: Recorder = app.extensions[EXTENSION_KEY]
    with recorder.flush_lock:
        counts = recorder.take()
        if not counts:
            return 0
        try:
            _write(app, counts)
        except BaseException:
            recorder.give_back(counts)
            raise
    return sum(counts.values())


def _flush_quietly(app: Flask, wait: bool = True) -> None:
    recorder: Recorder = app.extensions[EXTENSION_KEY]
    if not wait and recorder.flush_lock.locked():
        return  # another thread is writing already
    try:
        flush(app)
    except Exception as exc:
        log.warning("ops evidence kept in memory, database unavailable: %s", type(exc).__name__)


def _write(app: Flask, counts: dict[tuple[datetime, str], int]) -> None:
    """Upsert the counts, adding them to what the bucket already holds, in one transaction."""
    engine = get_db(app).engine
    insert = sqlite_insert if engine.dialect.name == "sqlite" else postgresql_insert
    rows = [{"bucket_start": b, "name": name, "count": n} for (b, name), n in counts.items()]
    statement = insert(OpsCounter).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=[OpsCounter.bucket_start, OpsCounter.name],
        set_={"count": OpsCounter.count + statement.excluded["count"]},
    )
    with engine.begin() as connection:
        connection.execute(statement)


@atexit.register
def _flush_at_exit() -> None:
    for recorder in list(_RECORDERS):
        if not recorder.app.testing:  # tests flush explicitly; their databases are gone
            _flush_quietly(recorder.app)


def _forget_in_child() -> None:
    # A forked child starts with no counts (its parent writes its own) and fresh locks.
    for recorder in list(_RECORDERS):
        recorder.reset()


os.register_at_fork(after_in_child=_forget_in_child)


def beat(session: Session, source: str, now: datetime) -> Heartbeat:
    """Record one worker heartbeat (the caller commits)."""
    heartbeat = Heartbeat(source=source[:100], beat_at=now)
    session.add(heartbeat)
    return heartbeat


def prune(session: Session, before: datetime) -> int:
    """Delete the heartbeats older than `before`; return how many (the caller commits)."""
    result = session.execute(delete(Heartbeat).where(Heartbeat.beat_at < before))
    return result.rowcount or 0


@dataclass
class Bucket:
    """The evidence of one time bucket [start, end)."""

    start: datetime
    end: datetime
    requests: int = 0
    server_errors: int = 0
    failed_submissions: int = 0
    problem_reports: int = 0
    heartbeats: int = 0


def series(session: Session, start: datetime, end: datetime, minutes: int) -> list[Bucket]:
    """One Bucket per `minutes` from the bucket holding `start` up to `end`, in 3 queries.

    `minutes` should be a multiple of OPS_BUCKET_MINUTES: counters are filed by their own
    bucket start. The last bucket is whole even when `end` falls inside it.
    """
    first = bucket_start(start, minutes)
    width = timedelta(minutes=minutes)
    buckets: list[Bucket] = []
    moment = first
    while moment < end:
        buckets.append(Bucket(start=moment, end=moment + width))
        moment += width
    if not buckets:
        return buckets
    stop = buckets[-1].end
    dialect = session.get_bind().dialect.name

    def index(column):
        seconds = _epoch_seconds(column, dialect) - int((first - EPOCH).total_seconds())
        return (seconds // (minutes * 60)).label("idx")

    counters = select(
        index(OpsCounter.bucket_start), OpsCounter.name, OpsCounter.count.label("n")
    ).where(OpsCounter.bucket_start >= first, OpsCounter.bucket_start < stop)
    counters = counters.subquery()
    for idx, name, total in session.execute(
        select(counters.c.idx, counters.c.name, func.sum(counters.c.n)).group_by(
            counters.c.idx, counters.c.name
        )
    ):
        if name in COUNTERS:
            setattr(buckets[idx], name, int(total))
    for column, attribute in (
        (ProblemReport.created_at, "problem_reports"),
        (Heartbeat.beat_at, "heartbeats"),
    ):
        rows = select(index(column)).where(column >= first, column < stop).subquery()
        for idx, total in session.execute(select(rows.c.idx, func.count()).group_by(rows.c.idx)):
            setattr(buckets[idx], attribute, int(total))
    return buckets


def _epoch_seconds(column, dialect: str):
    """Whole seconds since the epoch of a stored UTC time, the same way on both databases."""
    if dialect == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff': cut the fraction (strftime would round it).
        return cast(func.strftime("%s", func.substr(column, 1, 19)), Integer)
    return cast(func.floor(extract("epoch", column)), BigInteger)
