"""Announcements: service notices admins publish, shown in banners, e-mails and the status page.

An announcement is global (form_id None) or about one form; it is active from `starts_at`
until `ends_at` (None: until someone ends it). Times are UTC; people read them in Noumea
time. Functions here never commit: the request or the job does.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from forms_app import audit, links
from forms_app.db import get_db, get_session
from forms_app.filters import local_time
from forms_app.models import Announcement, AnnouncementLevel, Form, User

MAX_MESSAGE = 2000
# Most severe first: the order banners and lists use.
SEVERITY = {
    AnnouncementLevel.UNAVAILABLE: 0,
    AnnouncementLevel.DEGRADED: 1,
    AnnouncementLevel.INFO: 2,
}
LEVEL_LABELS = {
    AnnouncementLevel.INFO: _l("Information"),
    AnnouncementLevel.DEGRADED: _l("Service perturbé"),
    AnnouncementLevel.UNAVAILABLE: _l("Service indisponible"),
}


class AnnouncementError(ValueError):
    """An announcement cannot be published or ended as asked; the message is French.

    `status` is the HTTP status a view answers with: 422 for wrong input, 409 when the
    announcement's state forbids it; `field` names the input at fault, if one is.
    """

    def __init__(self, message: str, status: int = 422, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.field = field


@dataclass
class History:
    """Announcements as the status page and the ops list show them."""

    current: list[Announcement]
    scheduled: list[Announcement]
    past: list[Announcement]


def level_label(level: str) -> str:
    """The level in words: Information, Service perturbé, Service indisponible."""
    try:
        return str(LEVEL_LABELS[AnnouncementLevel(level)])
    except ValueError:
        return str(LEVEL_LABELS[AnnouncementLevel.INFO])


def form_title(announcement: Announcement) -> str | None:
    """The title of the form an announcement is about, as published; None when global."""
    form = announcement.form
    if form is None:
        return None
    version = form.current_version
    return version.definition.get("title", form.title) if version is not None else form.title


def period(starts_at: datetime, ends_at: datetime | None) -> str:
    """When an announcement applies, in Noumea time, with the zone named."""
    if ends_at is None:
        return _("depuis le %(start)s (heure de Nouméa)", start=local_time(starts_at))
    return _(
        "du %(start)s au %(end)s (heure de Nouméa)",
        start=local_time(starts_at),
        end=local_time(ends_at),
    )


def by_severity(items: list) -> list:
    """Sort announcements (or rows with level, starts_at, id): most severe, then newest."""
    return sorted(
        items,
        key=lambda a: (SEVERITY.get(a.level, 2), -a.starts_at.timestamp(), -a.id),
    )


def _running(now: datetime, until: datetime | None = None):
    """Announcements active at some moment between `now` and `until` (default: now)."""
    return and_(
        Announcement.starts_at <= (until or now),
        or_(Announcement.ends_at.is_(None), Announcement.ends_at > now),
    )


def active(session: Session, now: datetime, form_id: int | None = None) -> list[Announcement]:
    """Active global announcements, plus those of `form_id` when given; most severe first."""
    scope = Announcement.form_id.is_(None)
    if form_id is not None:
        scope = or_(scope, Announcement.form_id == form_id)
    return by_severity(list(session.scalars(select(Announcement).where(_running(now), scope))))


def banner_rows(now: datetime, until: datetime) -> Select:
    """Light rows (no ORM objects) of announcements running between now and `until`.

    Banners cache these for a few seconds: each row carries its form's slug, so a page
    picks its form's announcements without another query.
    """
    return (
        select(
            Announcement.id,
            Announcement.level,
            Announcement.message,
            Announcement.starts_at,
            Announcement.ends_at,
            Form.slug.label("form_slug"),
        )
        .outerjoin(Form, Form.id == Announcement.form_id)
        .where(_running(now, until))
    )


def publish(
    session: Session,
    *,
    level: str,
    message: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    form_id: int | None = None,
    actor: User | None,
    extension_id: int | None = None,
) -> Announcement:
    """Add an announcement and its audit event; raise AnnouncementError on wrong input."""
    try:
        level = AnnouncementLevel(level)
    except ValueError:
        raise AnnouncementError(_("Choisissez le niveau de l’annonce."), field="level") from None
    message = (message or "").strip()
    if not message:
        raise AnnouncementError(_("Saisissez le message de l’annonce."), field="message")
    if len(message) > MAX_MESSAGE:
        reason = _("Le message ne doit pas dépasser 2 000 caractères.")
        raise AnnouncementError(reason, field="message")
    if starts_at is None or starts_at.tzinfo is None:
        raise AnnouncementError(_("Indiquez le début de l’annonce."), field="starts_at")
    if ends_at is not None and ends_at <= starts_at:
        reason = _("La fin de l’annonce doit être postérieure à son début.")
        raise AnnouncementError(reason, field="ends_at")
    if form_id is not None and session.get(Form, form_id) is None:
        raise AnnouncementError(_("Cette démarche n’existe pas."), field="form_id")
    announcement = Announcement(
        level=level,
        message=message,
        starts_at=starts_at,
        ends_at=ends_at,
        form_id=form_id,
        extension_id=extension_id,
        created_by_id=actor.id if actor is not None else None,
    )
    session.add(announcement)
    audit.record(
        session,
        announcement,
        "announce",
        actor,
        level=level.value,
        form_id=form_id,
        starts_at=starts_at.isoformat(),
        ends_at=ends_at.isoformat() if ends_at else None,
        extension_id=extension_id,
    )
    return announcement


def end(session: Session, announcement: Announcement, actor: User | None, now: datetime) -> None:
    """End a running announcement now, or withdraw a scheduled one; audited.

    A scheduled announcement ends at its own start (it is never shown). An announcement that
    is already over raises AnnouncementError (409).
    """
    if announcement.ends_at is not None and announcement.ends_at <= now:
        raise AnnouncementError(_("Cette annonce est déjà terminée."), 409)
    withdrawn = announcement.starts_at > now
    previous = announcement.ends_at
    announcement.ends_at = announcement.starts_at if withdrawn else now
    audit.record(
        session,
        announcement,
        "end_announcement",
        actor,
        ends_at=announcement.ends_at.isoformat(),
        previous_ends_at=previous.isoformat() if previous else None,
        withdrawn=withdrawn,
    )


def history(session: Session, now: datetime, days: int = 90) -> History:
    """Current, scheduled, and past announcements (ended within `days`), newest first.

    Withdrawn announcements (never shown: they end when they start) are left out.
    """
    since = now - timedelta(days=days)
    query = (
        select(Announcement)
        .where(
            or_(Announcement.ends_at.is_(None), Announcement.ends_at > since),
            or_(Announcement.ends_at.is_(None), Announcement.ends_at > Announcement.starts_at),
        )
        .options(
            selectinload(Announcement.form).selectinload(Form.current_version),
            selectinload(Announcement.created_by),
        )
        .order_by(Announcement.starts_at.desc(), Announcement.id.desc())
    )
    found = list(session.scalars(query))
    return History(
        current=by_severity([a for a in found if a.is_active(now)]),
        scheduled=sorted((a for a in found if a.starts_at > now), key=lambda a: a.starts_at),
        past=[a for a in found if a.ends_at is not None and a.ends_at <= now],
    )


def mail_notice(session: Session, now: datetime, form_id: int | None = None) -> str:
    """The plain-text block added to outgoing e-mails while announcements are active."""
    found = active(session, now, form_id)
    if not found:
        return ""
    with force_locale("fr"):
        lines = ["----------", _("Information sur le service :")]
        for announcement in found:
            lines.append(
                f"* {level_label(announcement.level)}, "
                f"{period(announcement.starts_at, announcement.ends_at)} : "
                f"{announcement.message}"
            )
        lines.append(_("État du service : %(url)s", url=links.absolute("public.service_status")))
    return "\n".join(lines)


@contextmanager
def reading() -> Iterator[Session]:
    """A session of the current app to read announcements in, leaving the caller's work be.

    The context's session when it is in a transaction (a second SQLite connection would
    wait for its lock); otherwise a short-lived session, closed after, so a page or an
    e-mail leaves no transaction open and expires none of the caller's objects.
    """
    session = get_session()
    if session.in_transaction():
        yield session
        return
    with Session(get_db().engine) as own:
        yield own
