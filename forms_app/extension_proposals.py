"""The platform's proposals of deadline extensions after a detected outage window.

`extensions.propose_for_outages` finds the forms and their windows; `propose` makes, or
widens, a form's one pending proposal. Nothing here commits.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from forms_app import audit
from forms_app.filters import local_time
from forms_app.models import DeadlineExtension, ExtensionStatus, Form
from forms_app.outages import Window

# The signals of an outage window (`outages.REASONS`), as the reason of a proposal says them.
SIGNS = {
    "server_errors": "erreurs du serveur",
    "failed_submissions": "envois de demandes en échec",
    "problem_reports": "signalements de problèmes",
    "heartbeats": "traitements en arrière-plan arrêtés",
}


def propose(
    session: Session, form: Form, windows: list[Window], now: datetime
) -> DeadlineExtension | None:
    """Create the form's proposal for these windows, or widen its pending one; else None."""
    earlier = session.scalars(
        select(DeadlineExtension).where(
            DeadlineExtension.form_id == form.id,
            DeadlineExtension.outage_start.is_not(None),
            DeadlineExtension.applicant_email.is_(None),
        )
    ).all()
    decided = [e for e in earlier if e.status is not ExtensionStatus.PROPOSED]
    fresh = [w for w in windows if not any(_overlaps(w.start, w.end, e) for e in decided)]
    if not fresh:
        return None  # granted or declined already: never proposed again
    start, end = min(w.start for w in fresh), max(w.end for w in fresh)
    reasons = list(dict.fromkeys(r for w in fresh for r in w.reasons))
    pending = next((e for e in earlier if e.status is ExtensionStatus.PROPOSED), None)
    if pending is not None:
        if pending.previous_closes_at != form.closes_at:
            return None  # stale: the closing date moved since; an admin declines it
        start, end = min(start, pending.outage_start), max(end, pending.outage_end)
        if (start, end) == (pending.outage_start, pending.outage_end):
            return None  # the same window: nothing new
    new_closes_at = form.closes_at + max(
        timedelta(hours=current_app.config["EXTENSION_MIN_HOURS"]), end - start
    )
    if new_closes_at <= now:
        return None  # too late to help anyone
    extension = pending or DeadlineExtension(
        form_id=form.id,
        status=ExtensionStatus.PROPOSED,
        previous_closes_at=form.closes_at,
        proposed_at=now,
    )
    extension.outage_start, extension.outage_end = start, end
    extension.new_closes_at = new_closes_at
    extension.reason = outage_reason(start, end, reasons)
    session.add(extension)
    session.flush()
    audit.record(
        session,
        form,
        "extension_updated" if pending else "extension_proposed",
        None,
        extension_id=extension.id,
        outage_start=start.isoformat(),
        outage_end=end.isoformat(),
        new_closes_at=new_closes_at.isoformat(),
    )
    return extension


def _overlaps(start: datetime, end: datetime, extension: DeadlineExtension) -> bool:
    return start <= extension.outage_end and extension.outage_start <= end


def outage_reason(start: datetime, end: datetime, reasons: list[str]) -> str:
    """The French reason of a proposal, citing the outage window in Noumea time."""
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    text = (
        f"Incident de la plateforme détecté du {local_time(start, zone)} "
        f"au {local_time(end, zone)} (heure de Nouméa)"
    )
    signs = [SIGNS.get(reason, reason) for reason in reasons]
    return f"{text} : {', '.join(signs)}" if signs else text
