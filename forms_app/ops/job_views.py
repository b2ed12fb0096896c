"""Failed jobs in the ops area: the list with the queue's state, and the admins' "retry".

A retry is committed with its audit events, then the rows are pushed to the queue at once
(if Redis does not answer, they stay pending and the worker's dispatcher pushes them).
"""

import logging

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from forms_app import failed_jobs
from forms_app.db import get_session, utcnow
from forms_app.models import OutboxMessage, Role
from forms_app.ops import bp
from forms_app.permissions import roles_required
from workflows import outbox
from workflows.jobs import JOBS

log = logging.getLogger(__name__)


class RetryForm(FlaskForm):
    """Only the CSRF token: a retry takes no input but the job in the URL or the form."""


@bp.app_context_processor
def _failed_jobs_count():
    """`failed_jobs_count()` for the ops navigation, queried only when a template calls it."""

    def failed_jobs_count() -> int:
        return failed_jobs.failed_count(get_session())

    return {"failed_jobs_count": failed_jobs_count}


@bp.get("/travaux", endpoint="failed_jobs")
@roles_required(Role.ADMIN)
def list_failed():
    """Failed jobs, newest first, 50 a page; the rows still to run and the oldest one's age."""
    return _list_page()


@bp.post("/travaux/<int:message_id>/relancer", endpoint="retry_job")
@roles_required(Role.ADMIN)
def retry_one(message_id: int):
    """Run one failed job again (fresh attempts), audited."""
    session = get_session()
    message = session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    if not RetryForm().validate_on_submit():
        abort(400)
    if not failed_jobs.retry(session, message, current_user):
        session.rollback()
        return _list_page(refusal=_("Ce travail n’est plus en échec.")), 409
    session.commit()
    _push([message_id])
    flash(_("Le travail a été relancé."), "success")
    return redirect(url_for("ops.failed_jobs"))


@bp.post("/travaux/relancer-tout", endpoint="retry_failed_jobs")
@roles_required(Role.ADMIN)
def retry_all():
    """Run again every failed job of one kind (after its cause was fixed), each audited."""
    session = get_session()
    job = request.form.get("travail", "")
    if job not in JOBS or not RetryForm().validate_on_submit():
        abort(400)
    ids = failed_jobs.retry_job(session, job, current_user)
    if not ids:
        session.rollback()
        return _list_page(refusal=_("Aucun travail de ce type n’est en échec.")), 409
    session.commit()
    _push(ids)
    flash(
        _(
            "%(num)s travaux « %(label)s » ont été relancés.",
            num=len(ids),
            label=failed_jobs.job_label(job),
        ),
        "success",
    )
    return redirect(url_for("ops.failed_jobs"))


def _push(ids: list[int]) -> None:
    """Push retried rows to the queue now; the dispatcher does it later if this fails."""
    try:
        outbox.dispatch(current_app, ids)
    except Exception as exc:
        log.error("retry: dispatch failed (%s); rows wait", type(exc).__name__)


def _list_page(refusal: str | None = None) -> str:
    session = get_session()
    job = request.args.get("travail", "")
    job = job if job in JOBS else None
    before = request.args.get("avant", "")
    rows, following = failed_jobs.failed_page(
        session, job=job, before=int(before) if before.isdigit() else None
    )
    return render_template(
        "ops/jobs.html",
        state=failed_jobs.queue_state(session, utcnow()),
        per_job=failed_jobs.failed_per_job(session),
        rows=rows,
        following=following,
        paged=bool(before),
        job=job,
        job_label=failed_jobs.job_label,
        age_text=failed_jobs.age_text,
        statuses=failed_jobs.WAITING,
        refusal=refusal,
    )
