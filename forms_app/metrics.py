"""Figures counted in-process for Prometheus: request latency, submissions, state changes, jobs.

Counters and histograms live in prometheus_client's registry of this process. Under gunicorn
(several processes) set PROMETHEUS_MULTIPROC_DIR to an empty directory, cleared before the
server starts, shared by the processes of one host: each process writes its figures there
and /metrics adds them up (prometheus_client's multiprocess mode). Without it, /metrics shows
the figures of the process that answers.

State changes and submissions are counted once, where every one of them is recorded: the
audit `Event` of a submission with a `to_state`, counted when its transaction commits (a
rolled back transaction or savepoint counts nothing). Jobs are counted by
`workflows.outbox.execute` as they end. The figures read from the database and Redis at each
scrape (backlogs, lags, requests by state) are in `metrics_gauges`; those are the ones that
hold across hosts.
"""

import logging
import os
import time

from flask import Flask, Response, g, request
from prometheus_client import Counter, Histogram, disable_created_metrics
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from forms_app.models import Event

log = logging.getLogger("guichet.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROC_ENV):  # each process writes its figures there: it must exist
    os.makedirs(os.environ[MULTIPROC_ENV], exist_ok=True)

disable_created_metrics()  # no `_created` series beside each counter: nobody reads them

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_DURATION = Histogram(
    "guichet_http_request_duration_seconds",
    "Time to answer a web request, by Flask endpoint, method and status class.",
    ["endpoint", "method", "status"],
)
SUBMISSIONS = Counter(
    "guichet_submissions_received",
    "Requests submitted (drafts sent with the submit action), counted at commit.",
)
STATE_CHANGES = Counter(
    "guichet_state_changes",
    "Requests moved from one state to another, by action, counted at commit.",
    ["action"],
)
JOBS = Counter(
    "guichet_jobs",
    "Outbox jobs run, by job and outcome (done, retry: failed and rescheduled, failed: "
    "failed for good).",
    ["job", "outcome"],
)

_PENDING_EVENTS = "guichet.metrics.events"


def init_app(app: Flask) -> None:
    """Time every answer of `app` (the count of state changes is global, see module doc)."""
    app.before_request(_start_timer)
    app.after_request(_observe_request)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe_request(response: Response) -> Response:
    try:
        started = g.get("metrics_started")
        if started is not None:
            method = request.method if request.method in METHODS else "other"
            REQUEST_DURATION.labels(
                endpoint=request.endpoint or "none",
                method=method,
                status=f"{response.status_code // 100}xx",
            ).observe(time.perf_counter() - started)
    except Exception as exc:  # counting must never break an answer
        log.error("metrics: request not counted: %s", type(exc).__name__)
    return response


def job_finished(job: str, outcome: str) -> None:
    """Count one run of outbox job `job`: "done", "pending" (to be retried) or "failed"."""
    try:
        JOBS.labels(job=job, outcome="retry" if outcome == "pending" else outcome).inc()
    except Exception as exc:
        log.error("metrics: job not counted: %s", type(exc).__name__)


def state_change_written(session: Session, action: str) -> None:
    """Count at commit a submission state change a statement wrote with its audit event."""
    session.info.setdefault(_PENDING_EVENTS, []).append(action)


@event.listens_for(Session, "after_flush")
def _remember_state_events(session: Session, _flush_context) -> None:
    """Keep the submission state-change events this flush wrote, to count them at commit."""
    found = [
        obj
        for obj in session.new
        if isinstance(obj, Event) and obj.subject_type == "submission" and obj.to_state
    ]
    if found:
        session.info.setdefault(_PENDING_EVENTS, []).extend(found)


@event.listens_for(Session, "after_commit")
def _count_state_events(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the real commit comes later
    events = session.info.pop(_PENDING_EVENTS, None)
    if not events:
        return
    try:
        for item in events:
            if isinstance(item, str):
                action = item  # written by a statement (state_change_written)
            elif inspect(item).persistent:
                action = item.action
            else:
                continue  # added in a savepoint that was rolled back
            STATE_CHANGES.labels(action=action).inc()
            if action == "submit":
                SUBMISSIONS.inc()
    except Exception as exc:
        log.error("metrics: state changes not counted: %s", type(exc).__name__)


@event.listens_for(Session, "after_rollback")
def _forget_state_events(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING_EVENTS, None)
