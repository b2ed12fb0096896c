"""A job that keeps failing ends in the admins' failed list with its error; "retry" runs it."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from forms_app.db import get_session
from forms_app.models import Event, OutboxMessage, OutboxStatus, Role
from tests.faults import ledger
from tests.faults.client import CSRF, Client
from tests.support import PASSWORD, make_user, wait_until

ADMIN = "admin@example.nc"
JOBS_PAGE = "/agents/pilotage/travaux"


def receipt_row(app, submission_id: int) -> SimpleNamespace:
    """The submission's receipt row, as it stands now."""
    with app.app_context():
        session = get_session()
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.job == "send_receipt"))
        [row] = [r for r in rows if r.args["submission_id"] == submission_id]
        found = SimpleNamespace(
            id=row.id, status=row.status, attempts=row.attempts, last_error=row.last_error
        )
        session.rollback()
        return found


@pytest.mark.timeout(240)
def test_a_failing_job_is_listed_with_its_error_and_an_admin_retries_it(fleet, tmp_path):
    app = fleet.app
    web = fleet.web()
    not_a_directory = tmp_path / "courriels"
    not_a_directory.write_text("a file where the mail directory should be")
    broken = fleet.worker(
        "broken-worker", GUICHET_MAIL_DIR=str(not_a_directory), GUICHET_OUTBOX_MAX_ATTEMPTS="3"
    )
    applicant = Client(web.url)
    reference = applicant.submit()
    submission_id = ledger.read(app).stored[reference]

    def failed():
        row = receipt_row(app, submission_id)
        return row if row.status is OutboxStatus.FAILED else None

    row = wait_until(failed, timeout=90, interval=0.5)
    assert row.attempts == 3 and "FileExistsError" in row.last_error

    make_user(app, Role.ADMIN, email=ADMIN)
    admin = Client(web.url)
    admin.login(ADMIN, PASSWORD)
    listed = admin.get(JOBS_PAGE)
    assert listed.status == 200, listed.text
    assert "Accusé de réception" in listed.text and "FileExistsError" in listed.text
    assert f"{JOBS_PAGE}/{row.id}/relancer" in listed.text

    broken.stop()  # the cause is fixed: the mail directory is right again
    fleet.worker("fixed-worker")
    csrf = CSRF.search(listed.text).group(1)
    retried = admin.post(f"{JOBS_PAGE}/{row.id}/relancer", {"csrf_token": csrf})
    assert retried.status == 302 and retried.location == JOBS_PAGE, retried.text

    wait_until(lambda: ledger.all_processed(app, [reference]), timeout=90, interval=0.5)
    found = ledger.read(app)
    ledger.report(
        "failing job",
        1,
        [reference],
        found,
        failed_row=f"#{row.id} after {row.attempts} attempts: {row.last_error[:60]}…",
        after_retry=receipt_row(app, submission_id).status.value,
    )
    ledger.assert_exactly_once([reference], found)
    with app.app_context():
        retried = select(Event).where(Event.action == "job_retried", Event.subject_id == row.id)
        assert len(get_session().scalars(retried).all()) == 1  # audited
    assert f"{JOBS_PAGE}/{row.id}/relancer" not in admin.get(JOBS_PAGE).text
