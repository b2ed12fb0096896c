"""Service banners on top of every page: published announcements and the configured one.

Announcements come from the database: the global ones on every page, a form's own on the
pages whose URL names it (a `slug` view argument). Each process keeps them
BANNER_CACHE_SECONDS (one small indexed query per period, not per page); a commit that
changes an announcement in this process clears the cache at once. The configured banner
(GUICHET_SERVICE_BANNER and GUICHET_SERVICE_BANNER_LEVEL) needs no database: when the
database is away (the 503 page) it is the only one shown, and a page is never broken by its
banners.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from forms_app import announcements
from forms_app.db import utcnow
from forms_app.models import Announcement

LEVELS = ("info", "degraded", "unavailable")
CHANGED = "guichet.announcements_changed"

log = logging.getLogger(__name__)
_generation = 0  # bumped to make every app of this process read announcements again


@dataclass(frozen=True)
class _Entry:
    generation: int
    loaded: float  # time.monotonic()
    rows: list


def clear_cache() -> None:
    """Make every app of this process read the announcements again on its next page."""
    global _generation
    _generation += 1


def init_app(app: Flask) -> None:
    app.extensions["guichet.banners"] = {}

    @app.context_processor
    def _banners() -> dict:
        return {
            "service_banners": page_banners(app),
            "service_level_labels": announcements.LEVEL_LABELS,
        }


def page_banners(app: Flask, now: datetime | None = None) -> list[dict]:
    """The banners of the current page: the configured one, then announcements by severity."""
    banners = _config_banner(app)
    try:
        now = now or utcnow()
        slug = _page_slug()
        for row in announcements.by_severity(_rows(app, now)):
            running = row.starts_at <= now and (row.ends_at is None or now < row.ends_at)
            if running and row.form_slug in (None, slug):
                banners.append(
                    {
                        "level": row.level.value,
                        "message": row.message,
                        "period": announcements.period(row.starts_at, row.ends_at),
                    }
                )
    except Exception as exc:  # a banner never breaks a page
        log.error("banners: announcements not shown: %s", type(exc).__name__)
    return banners


def _config_banner(app: Flask) -> list[dict]:
    message = (app.config.get("SERVICE_BANNER") or "").strip()
    if not message:
        return []
    level = app.config.get("SERVICE_BANNER_LEVEL", "info")
    return [{"message": message, "level": level if level in LEVELS else "info"}]


def _page_slug() -> str | None:
    if not has_request_context() or not request.view_args:
        return None
    slug = request.view_args.get("slug")
    return slug if isinstance(slug, str) else None


def _rows(app: Flask, now: datetime) -> list:
    """Announcements running now or within the cache's lifetime, from the cache or the database."""
    lifetime = app.config["BANNER_CACHE_SECONDS"]
    store = app.extensions["guichet.banners"]
    entry: _Entry | None = store.get("entry")
    clock = time.monotonic()
    fresh = entry is not None and clock - entry.loaded < lifetime
    if fresh and entry.generation == _generation:
        return entry.rows
    generation = _generation
    try:
        with announcements.reading() as session:
            query = announcements.banner_rows(now, now + timedelta(seconds=lifetime))
            rows = list(session.execute(query))
    except Exception as exc:  # the database is away: keep to the configured banner a while
        log.warning("banners: announcements unavailable: %s", type(exc).__name__)
        rows = []
    store["entry"] = _Entry(generation, clock, rows)
    return rows


@event.listens_for(Announcement, "after_insert")
@event.listens_for(Announcement, "after_update")
@event.listens_for(Announcement, "after_delete")
def _announcement_written(_mapper, _connection, target: Announcement) -> None:
    session = object_session(target)
    if session is not None:
        session.info[CHANGED] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(CHANGED, False):
        clear_cache()
