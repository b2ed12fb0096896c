"""The ops area: dashboards, incidents, announcements, extensions, reports, failed jobs, staff
accounts, API tokens, webhooks."""

from flask import Blueprint

bp = Blueprint("ops", __name__, url_prefix="/agents/pilotage")

from forms_app.ops import (  # noqa: E402, F401
    account_views,
    announcement_views,
    dashboard_views,
    extension_views,
    job_views,
    report_views,
    timeline_views,
    token_views,
    webhook_views,
)
