"""Figures read at each scrape from the database and Redis: the ones that hold across hosts.

A few bounded queries per scrape: the outbox backlog by status with the age of the oldest
row of each (one grouped query on the status index, done rows left out), the requests by
state (one grouped query on an index), and from Redis the queue's length, the age of its
oldest job, RQ's failed jobs and the workers listening. When the database or Redis does not
answer, its figures are left out and `guichet_scrape_error{source=...}` is 1: a scrape never
fails because of them.
"""

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Flask
from prometheus_client.core import GaugeMetricFamily, Metric
from rq import Queue, Worker
from rq.utils import str_to_date
from sqlalchemy import func, select

from forms_app.db import get_db, utcnow
from forms_app.models import OutboxMessage, OutboxStatus, Submission
from workflows.queue import get_redis

log = logging.getLogger("guichet.metrics")

BACKLOG_STATUSES = (
    OutboxStatus.PENDING,
    OutboxStatus.ENQUEUED,
    OutboxStatus.RUNNING,
    OutboxStatus.FAILED,
)
SOURCES = ("database", "redis")


class ScrapeCollector:
    """A prometheus_client collector reading the app's database and Redis when scraped."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self) -> Iterator[Metric]:
        errors = GaugeMetricFamily(
            "guichet_scrape_error",
            "1 when this scrape could not read the source (its figures are left out).",
            labels=["source"],
        )
        duration = GaugeMetricFamily(
            "guichet_scrape_duration_seconds",
            "Time this scrape spent reading the source.",
            labels=["source"],
        )
        families: list[Metric] = []
        for source, read in (("database", self._database), ("redis", self._redis)):
            started = time.perf_counter()
            try:
                families.extend(read())
                failed = 0
            except Exception as exc:  # any failure: leave the source out, say so
                log.warning("metrics: %s unreadable: %s", source, type(exc).__name__)
                failed = 1
            errors.add_metric([source], failed)
            duration.add_metric([source], time.perf_counter() - started)
        yield from families
        yield errors
        yield duration

    def _database(self) -> list[Metric]:
        now = utcnow()
        with get_db(self.app).sessionmaker() as session:
            outbox = session.execute(
                select(OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
                .where(OutboxMessage.status.in_(BACKLOG_STATUSES))
                .group_by(OutboxMessage.status)
            ).all()
            states = session.execute(
                select(Submission.state, func.count()).group_by(Submission.state)
            ).all()
            session.rollback()
        backlog = GaugeMetricFamily(
            "guichet_outbox_messages",
            "Outbox messages not done, by status (failed: gave up, waiting for an admin).",
            labels=["status"],
        )
        oldest = GaugeMetricFamily(
            "guichet_outbox_oldest_age_seconds",
            "Age of the oldest outbox message in each status (0 when there is none).",
            labels=["status"],
        )
        found = {OutboxStatus(status): (n, first) for status, n, first in outbox}
        for status in BACKLOG_STATUSES:
            n, first = found.get(status, (0, None))
            backlog.add_metric([status.value], n)
            oldest.add_metric([status.value], (now - first).total_seconds() if first else 0.0)
        by_state = GaugeMetricFamily(
            "guichet_submissions",
            "Requests in the database by state (drafts included).",
            labels=["state"],
        )
        for state, n in sorted(states):
            by_state.add_metric([state], n)
        submitted = GaugeMetricFamily(
            "guichet_submitted_requests",
            "Requests in the database that were submitted (every state but draft).",
            value=sum(n for state, n in states if state != "draft"),
        )
        return [backlog, oldest, by_state, submitted]

    def _redis(self) -> list[Metric]:
        connection = get_redis(self.app)
        queue = Queue(self.app.config["QUEUE_NAME"], connection=connection)
        name = [queue.name]
        length = connection.llen(queue.key)
        lag = 0.0
        first = connection.lindex(queue.key, 0)
        if first is not None:
            job_id = first.decode()
            enqueued = connection.hget(queue.job_class.key_for(job_id), "enqueued_at")
            if enqueued:
                lag = max(0.0, (utcnow() - _aware(str_to_date(enqueued))).total_seconds())
        failed = queue.failed_job_registry.get_job_count(cleanup=False)
        workers = Worker.count(connection=connection, queue=queue)
        families = []
        for metric, text, value in (
            ("guichet_queue_length", "Jobs waiting in the RQ queue.", length),
            (
                "guichet_queue_lag_seconds",
                "Age of the oldest job waiting in the RQ queue (0 when it is empty).",
                lag,
            ),
            ("guichet_rq_failed_jobs", "Jobs in RQ's failed job registry.", failed),
            ("guichet_rq_workers", "RQ workers listening on the queue.", workers),
        ):
            family = GaugeMetricFamily(metric, text, labels=["queue"])
            family.add_metric(name, value)
            families.append(family)
        return families


def _aware(moment: datetime) -> datetime:
    """RQ's times are UTC, naive or aware depending on the version."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
