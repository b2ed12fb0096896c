"""The worker process: RQ worker plus the outbox dispatcher, sharing one preloaded app.

`guichet-worker` (or `python -m workflows.worker`) loads the app and WeasyPrint once, then
runs jobs in its own process (WORKER_CLASS "simple", the default: warm app, fonts and
connections) or forks a work horse per job ("fork", RQ's default: a crash stays in the
horse). The outbox dispatcher runs in its own spawned process, so a committed row reaches
the queue even when Redis was down at commit time; it exits when its worker is gone. The
dispatcher also writes the worker's heartbeat (evidence for outage detection), asks for
deadline extensions after outages, seals the audit log and applies the retention periods.
"""

import argparse
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from datetime import timedelta

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, SimpleWorker, Worker

from workflows import jobs, queue

log = logging.getLogger("guichet.worker")
HEARTBEAT_KEEP_DAYS = 30
PRUNE_EVERY = 24 * 3600  # seconds between two prunings of old heartbeats


def preload() -> None:
    """Import what jobs need before forking, so each work horse starts warm."""
    import weasyprint  # noqa: F401


def dispatch_once() -> None:
    """Recover lost rows and push every due one; used by burst runs and the loop."""
    from forms_app import create_app
    from workflows import outbox

    app = create_app()
    outbox.reconcile(app)
    while outbox.dispatch(app):
        pass


def dispatch_forever(interval: float, parent: int | None = None) -> None:
    """Run the outbox dispatcher, heartbeats and periodic passes until terminated.

    One failure never stops the loop: each pass logs the exception's class and goes on.
    `parent` is the worker's pid, given by the worker itself: the worker may die while this
    process is still starting, before it could read its parent's pid.
    """
    from forms_app import create_app
    from workflows import outbox

    _configure_logging()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    app = create_app()
    log.info("outbox dispatcher started (every %.1fs)", interval)
    next_sweep = next_reminders = next_beat = next_prune = next_detect = time.monotonic()
    next_seal = next_retention = time.monotonic()
    source = f"{socket.gethostname()}:{os.getpid()}"
    parent = parent or os.getppid()
    while os.getppid() == parent:  # a worker killed with -9 leaves no dispatcher behind
        try:
            outbox.reconcile(app)
            while outbox.dispatch(app):
                pass
        except Exception:
            log.exception("outbox dispatcher pass failed; retrying")
        if time.monotonic() >= next_sweep:
            next_sweep = time.monotonic() + app.config["DRAFT_SWEEP_INTERVAL"]
            sweep_drafts(app)
        if time.monotonic() >= next_reminders:
            hours = app.config["REMINDER_INTERVAL_HOURS"] if remind_agents(app) else 0.1
            next_reminders = time.monotonic() + hours * 3600
        if time.monotonic() >= next_beat:
            next_beat = time.monotonic() + app.config["HEARTBEAT_INTERVAL"]
            beat(app, source)
        if time.monotonic() >= next_prune:
            next_prune = time.monotonic() + (PRUNE_EVERY if prune_heartbeats(app) else 600)
        if time.monotonic() >= next_detect:
            next_detect = time.monotonic() + app.config["OUTAGE_DETECT_INTERVAL"]
            propose_extensions(app)
        if time.monotonic() >= next_seal:
            next_seal = time.monotonic() + app.config["AUDIT_SEAL_INTERVAL"]
            seal_audit_log(app)
        if time.monotonic() >= next_retention:
            next_retention = time.monotonic() + app.config["RETENTION_SWEEP_INTERVAL"]
            apply_retention(app)
        time.sleep(interval)


def seal_audit_log(app) -> None:
    """Seal the audit log's new events; never raise (the next pass seals what is left)."""
    from forms_app import audit_chain
    from forms_app.db import get_db

    try:
        audit_chain.seal_all(get_db(app).sessionmaker)
    except Exception:
        log.exception("audit seal failed; retrying at the next pass")


def beat(app, source: str) -> None:
    """Record this worker's heartbeat and commit; never raise (a missed beat is evidence)."""
    from forms_app import ops_evidence
    from forms_app.db import get_session, utcnow

    try:
        with app.app_context():
            session = get_session()
            ops_evidence.beat(session, source, utcnow())
            session.commit()
    except Exception as exc:
        log.error("heartbeat failed: %s", type(exc).__name__)


def prune_heartbeats(app) -> bool:
    """Delete heartbeats older than HEARTBEAT_KEEP_DAYS and commit; never raise, say if done."""
    from forms_app import ops_evidence
    from forms_app.db import get_session, utcnow

    try:
        with app.app_context():
            session = get_session()
            ops_evidence.prune(session, utcnow() - timedelta(days=HEARTBEAT_KEEP_DAYS))
            session.commit()
        return True
    except Exception as exc:
        log.error("heartbeat pruning failed: %s", type(exc).__name__)
        return False


def propose_extensions(app) -> None:
    """Propose deadline extensions for detected outage windows and commit; never raise."""
    from forms_app import extensions
    from forms_app.db import get_session, utcnow

    try:
        with app.app_context():
            session = get_session()
            proposed = extensions.propose_for_outages(session, utcnow())
            session.commit()
        if proposed:
            log.info("outage detection: %d extension(s) proposed", len(proposed))
    except Exception as exc:
        log.error("outage detection failed: %s", type(exc).__name__)


def sweep_drafts(app) -> None:
    """Expire old drafts and send the draft notices that are due; never raise."""
    from forms_app import draft_notices

    run_pass(app, "draft sweep", draft_notices.sweep)


def apply_retention(app) -> None:
    """Erase the personal data whose retention period is over; never raise."""
    from forms_app import retention

    run_pass(app, "retention pass", retention.sweep)


def run_pass(app, name: str, sweep) -> None:
    """Run `sweep(session)` (it commits and returns counts), log what it did; never raise."""
    from forms_app.db import get_session

    try:
        with app.app_context():
            done = sweep(get_session())
        if any(done.values()):
            log.info("%s: %s", name, done)
    except Exception:
        log.exception("%s failed; retrying at the next pass", name)


def remind_agents(app) -> bool:
    """Queue the agents' reminders about idle requests and commit; never raise, say if done."""
    from forms_app import notifications
    from forms_app.db import get_session

    try:
        with app.app_context():
            session = get_session()
            sent = notifications.remind_agents(session)
            session.commit()
        if sent:
            log.info("reminders: %d agents", sent)
        return True
    except Exception:
        log.exception("reminders failed; retrying in a few minutes")
        return False


def wait_for_redis(connection: Redis, stop_after: float | None = None) -> bool:
    """Block until Redis answers (or `stop_after` seconds pass); return whether it does."""
    started = time.monotonic()
    delay = 0.5
    while True:
        try:
            connection.ping()
            return True
        except (RedisConnectionError, RedisTimeoutError):
            if stop_after is not None and time.monotonic() - started > stop_after:
                return False
            log.warning("Redis unreachable; retrying in %.1fs", delay)
            time.sleep(delay)
            delay = min(delay * 2, 5)


class _StopAware:
    """Remember whether RQ's loop ended because the worker was asked to stop."""

    stop_asked = False

    def request_stop(self, signum, frame):
        self.stop_asked = True
        super().request_stop(signum, frame)


class GuichetWorker(_StopAware, Worker):
    """RQ's forking worker: one work horse per job."""


class GuichetSimpleWorker(_StopAware, SimpleWorker):
    """RQ's worker that runs each job in its own process, without forking."""


WORKER_CLASSES = {"fork": GuichetWorker, "simple": GuichetSimpleWorker}


def worker_class(config) -> type[Worker]:
    """The RQ worker class WORKER_CLASS names."""
    try:
        return WORKER_CLASSES[config["WORKER_CLASS"]]
    except KeyError:
        raise SystemExit(f"WORKER_CLASS must be one of {sorted(WORKER_CLASSES)}") from None


def main(argv: list[str] | None = None) -> int:
    """Start the worker; with --burst, dispatch once, drain the queue and exit."""
    parser = argparse.ArgumentParser(prog="guichet-worker", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="drain the queue, then exit")
    args = parser.parse_args(argv)
    _configure_logging()
    # Stop cleanly (and stop the dispatcher) on SIGTERM even before RQ installs its handlers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    from forms_app import create_app

    app = create_app()
    rq_worker = worker_class(app.config)
    jobs.bind_app(app)
    preload()
    connection = queue.connect(app.config["REDIS_URL"])
    worker_queue = Queue(app.config["QUEUE_NAME"], connection=connection)
    spawn = multiprocessing.get_context("spawn")

    if args.burst:
        dispatcher = spawn.Process(target=dispatch_once, name="outbox-dispatch")
        dispatcher.start()
        dispatcher.join()
        if not wait_for_redis(connection, stop_after=10):
            log.error("Redis unreachable; nothing to drain")
            return 1
        rq_worker([worker_queue], connection=connection).work(burst=True)
        return 0

    interval = app.config["OUTBOX_DISPATCH_INTERVAL"]
    dispatcher = spawn.Process(
        target=dispatch_forever,
        args=(interval, os.getpid()),
        name="outbox-dispatcher",
        daemon=True,
    )
    dispatcher.start()
    try:
        while True:
            wait_for_redis(connection)
            worker = rq_worker([worker_queue], connection=connection)
            # No RQ scheduler: nothing is enqueued for later (the outbox schedules its own
            # retries), and its forked process would outlive a worker killed with -9.
            with contextlib.suppress(RedisConnectionError, RedisTimeoutError):
                worker.work(with_scheduler=False)  # teardown may meet the missing Redis
            if worker.stop_asked:
                return 0
            # RQ's loop gives up on any error, e.g. Redis lost under a running job.
            log.warning("RQ work loop ended without a stop signal; starting it again")
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    finally:
        dispatcher.terminate()
        dispatcher.join(timeout=10)


def _configure_logging() -> None:
    """Log INFO and up: JSON lines with GUICHET_LOG_FORMAT=json, else plain text."""
    from forms_app import logs

    if logs.format_from_environ() == "json":
        logs.use_json()
    else:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
        )
    logging.getLogger("alembic").setLevel(logging.WARNING)


if __name__ == "__main__":
    raise SystemExit(main())
