"""Liveness and readiness probes for load balancers and operators."""

from flask import Blueprint, current_app, jsonify
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from forms_app.db import get_session, utcnow
from forms_app.models import OutboxMessage, OutboxStatus
from workflows.queue import get_queue, get_redis

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Answer 200 while the process is up, whatever its dependencies do."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Report whether the database and Redis answer, and how far behind the queue is."""
    checks = {"database": _check_database(), "redis": _check_redis()}
    ready = all(check["ok"] for check in checks.values())
    return jsonify(status="ok" if ready else "unavailable", **checks), 200 if ready else 503


def _check_database() -> dict:
    session = get_session()
    try:
        session.execute(text("SELECT 1"))
        pending, oldest = session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.status == OutboxStatus.PENDING
            )
        ).one()
        session.rollback()
    except SQLAlchemyError as exc:
        session.rollback()
        current_app.logger.warning("readyz: database check failed: %s", type(exc).__name__)
        return {"ok": False, "error": type(exc).__name__}
    lag = round((utcnow() - oldest).total_seconds(), 1) if oldest is not None else 0.0
    return {"ok": True, "outbox_pending": pending, "outbox_oldest_pending_seconds": lag}


def _check_redis() -> dict:
    try:
        get_redis().ping()
        return {"ok": True, "queued_jobs": get_queue().count}
    except Exception as exc:  # any failure to talk to Redis means "not ready"
        current_app.logger.warning("readyz: Redis check failed: %s", type(exc).__name__)
        return {"ok": False, "error": type(exc).__name__}
