"""The public status page: announcements running now, those to come, and the dated archive."""

from itertools import groupby
from zoneinfo import ZoneInfo

from flask import current_app, render_template

from forms_app import announcements
from forms_app.db import get_session, utcnow
from forms_app.public import bp

ARCHIVE_DAYS = 90


@bp.get("/etat-du-service")
def service_status():
    """Show current and scheduled announcements, then past ones grouped by day (Noumea time)."""
    now = utcnow()
    found = announcements.history(get_session(), now, days=ARCHIVE_DAYS)
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])

    def day(announcement):
        return announcement.starts_at.astimezone(zone).date()

    archive = [(date, list(items)) for date, items in groupby(found.past, key=day)]
    return render_template(
        "public/status.html",
        history=found,
        archive=archive,
        archive_days=ARCHIVE_DAYS,
        level_label=announcements.level_label,
        form_title=announcements.form_title,
        period=announcements.period,
    )
