"""The incident timeline: evidence per bucket, detected outage windows, declared announcements."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from forms_app import charts, ops_evidence, outages
from forms_app.announcements import level_label
from forms_app.db import get_session, utcnow
from forms_app.models import Announcement, AnnouncementLevel, Role
from forms_app.ops import bp
from forms_app.permissions import roles_required

TIMELINE_ROLES = (Role.ADMIN, Role.AGENT)
# Choice in the URL → (length of the period, minutes per bar, label).
PERIODS = {
    "24h": (timedelta(hours=24), 15, _l("24 dernières heures")),
    "3j": (timedelta(days=3), 60, _l("3 derniers jours")),
    "7j": (timedelta(days=7), 120, _l("7 derniers jours")),
}
DEFAULT_PERIOD = "3j"
DECLARED_LEVELS = (AnnouncementLevel.DEGRADED, AnnouncementLevel.UNAVAILABLE)
REASON_LABELS = {
    "server_errors": _l("erreurs du serveur (5xx)"),
    "failed_submissions": _l("dépôts en échec"),
    "problem_reports": _l("signalements"),
    "heartbeats": _l("processus de traitement silencieux"),
}
# The charts, in order: (signal, title, the reason that highlights a bar).
CHARTS = (
    ("server_errors", _l("Réponses en erreur du serveur (5xx)"), "server_errors"),
    ("failed_submissions", _l("Dépôts en échec"), "failed_submissions"),
    ("problem_reports", _l("Signalements reçus"), "problem_reports"),
    ("heartbeats", _l("Signaux de vie des processus de traitement"), "heartbeats"),
)


@dataclass
class Slot:
    """One bar of the charts: the sum of the detection buckets it covers."""

    start: datetime
    counts: dict[str, int]
    reasons: set[str]


def reasons_text(reasons) -> str:
    return ", ".join(str(REASON_LABELS.get(r, r)) for r in reasons)


@bp.get("/incidents", endpoint="timeline")
@roles_required(*TIMELINE_ROLES)
def timeline():
    """Charts of the evidence of trouble, detected outage windows beside announcements."""
    choice = request.args.get("periode") or DEFAULT_PERIOD
    error = None
    if choice not in PERIODS:
        choice, error = DEFAULT_PERIOD, _("Choisissez une période de la liste.")
    span, minutes, _label = PERIODS[choice]
    config = current_app.config
    session = get_session()
    now = utcnow()
    first = ops_evidence.bucket_start(now - span, minutes)
    assessment = outages.assess(session, first, now, config)
    slots = _slots(assessment, first, minutes)
    declared = session.scalars(
        select(Announcement)
        .options(selectinload(Announcement.form))
        .where(Announcement.level.in_(DECLARED_LEVELS), Announcement.starts_at < now)
        .where(or_(Announcement.ends_at.is_(None), Announcement.ends_at > first))
        .order_by(Announcement.starts_at)
    ).all()
    bands = [
        (*_indexes(w.start, w.end, first, minutes, len(slots)), _("Incident détecté"), "outage")
        for w in assessment.windows
    ] + [
        (
            *_indexes(a.starts_at, a.ends_at or now, first, minutes, len(slots)),
            _("Annoncé : %(level)s", level=level_label(a.level).lower()),
            "announced",
        )
        for a in declared
    ]
    page = render_template(
        "ops/timeline.html",
        periods=PERIODS,
        choice=choice,
        period_error=error,
        minutes=minutes,
        charts=_charts(slots, minutes, bands),
        windows=assessment.windows,
        declared=declared,
        now=now,
        first=first,
        describe=outages.describe,
        reasons_text=reasons_text,
        level_label=level_label,
        extensions_url=(
            url_for("ops.extensions") if "ops.extensions" in current_app.view_functions else None
        ),
    )
    return page, 400 if error else 200


def _slots(assessment: outages.Assessment, first: datetime, minutes: int) -> list[Slot]:
    """Group the detection buckets into bars of `minutes`, keeping what was abnormal."""
    width = timedelta(minutes=minutes)
    slots: list[Slot] = []
    for bucket, verdict in zip(assessment.buckets, assessment.verdicts, strict=True):
        index = int((bucket.start - first) / width)
        while len(slots) <= index:
            start = first + len(slots) * width
            slots.append(Slot(start=start, counts=dict.fromkeys(outages.REASONS, 0), reasons=set()))
        for signal in outages.REASONS:
            slots[index].counts[signal] += getattr(bucket, signal)
        slots[index].reasons |= verdict
    return slots


def _indexes(start: datetime, end: datetime, first: datetime, minutes: int, count: int):
    """The first and last bars a time range [start, end) covers, within the chart."""
    width = timedelta(minutes=minutes)
    first_index = max(0, math.floor((start - first) / width))
    last_index = min(count - 1, math.ceil((end - first) / width) - 1)
    return first_index, last_index


def _charts(slots: list[Slot], minutes: int, bands: list) -> list[charts.Chart]:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    labels = [slot.start.astimezone(zone).strftime("%d/%m %H:%M") for slot in slots]
    description = _(
        "Une barre par tranche de %(num)s minutes, heure de Nouméa ; "
        "les barres en alerte sont anormalement hautes (ou vides pour les signaux de vie).",
        num=minutes,
    )
    return [
        charts.bar_chart(
            str(title),
            [(label, slot.counts[signal]) for label, slot in zip(labels, slots, strict=True)],
            description=description,
            highlight={i for i, slot in enumerate(slots) if reason in slot.reasons},
            bands=bands,
            category=_("Tranche (heure de Nouméa)"),
        )
        for signal, title, reason in CHARTS
    ]
