"""kill -9 a worker in the middle of a PDF job: after recovery every job has run exactly once."""

import os
import signal
import time

import pytest
from sqlalchemy import create_engine, text

from forms_app import approvals, casework, mail
from forms_app.db import get_session
from forms_app.models import OutboxMessage, Role
from tests.backoffice_support import run
from tests.faults import ledger
from tests.faults.load import LoadGenerator
from tests.faults.processes import wait_gone
from tests.support import make_user, sent_mails, wait_until

AGENT, APPROVER = "agent@example.nc", "valideur@example.nc"


def catch_running(app, job: str, timeout: float = 90) -> int:
    """Poll (every 20 ms, bounded) until a `job` row is running; its id.

    A plain engine, without the app's BEGIN IMMEDIATE on SQLite: the job being watched
    holds the write lock, and a reader of the WAL need not wait for it.
    """
    probe = create_engine(app.config["DATABASE_URL"])
    query = text("SELECT id FROM outbox_message WHERE job = :job AND status = 'running'")
    try:
        with probe.connect() as connection:

            def running():
                found = connection.execute(query, {"job": job}).scalar()
                connection.rollback()
                return found

            return wait_until(running, timeout=timeout, interval=0.02)
    finally:
        probe.dispose()


def attempts_of(app, message_id: int) -> tuple[str, int]:
    with app.app_context():
        row = get_session().get(OutboxMessage, message_id)
        return row.status.value, row.attempts


def approve(app, reference: str) -> None:
    """Take, propose and approve a request, as its agent and its approver would."""
    run(app, reference, AGENT, casework.take)
    run(app, reference, AGENT, casework.propose, accept=True, amount=300_000)
    run(app, reference, APPROVER, approvals.approve)


@pytest.mark.timeout(300)
def test_killed_workers_jobs_complete_exactly_once(fleet):
    app = fleet.app
    web = fleet.web()
    first = fleet.worker("worker-1")
    load = LoadGenerator([web.url], threads=2, max_seconds=120, limit=6).start()
    try:
        # 1. The default worker class: kill the worker process while it renders a receipt.
        killed = catch_running(app, "send_receipt")
        children = first.children()  # its outbox dispatcher (and multiprocessing's helper)
        first.kill()
        for child in children:
            wait_gone(child)  # they leave by themselves
        load.wait_for(acknowledged=6, timeout=120)
    finally:
        attempts = load.stop()
    acknowledged = load.acknowledged()

    # 2. The forking worker class: kill the work horse while it renders a payment act.
    second = fleet.worker("worker-2", GUICHET_WORKER_CLASS="fork")
    wait_until(lambda: ledger.all_processed(app, acknowledged), timeout=120, interval=0.5)
    make_user(app, Role.AGENT, email=AGENT)
    make_user(app, Role.APPROVER, email=APPROVER)
    idle = set(second.children())  # the dispatcher alone
    for reference in acknowledged[:3]:
        approve(app, reference)
    render = catch_running(app, "render_payment_act")
    horses = wait_until(lambda: set(second.children()) - idle, timeout=10, interval=0.02)
    time.sleep(0.05)  # well inside the render: WeasyPrint takes a good part of a second
    for horse in horses:
        os.kill(horse, signal.SIGKILL)

    def settled():
        found = ledger.read(app)
        acts_done = len(found.acts) == 3 and all(key for _, _, key in found.acts)
        return acts_done and set(found.outbox) == {"done"} and found

    found = wait_until(settled, timeout=120, interval=0.5)
    ledger.report(
        "worker killed",
        len(attempts),
        acknowledged,
        found,
        killed=f"receipt row #{killed} {attempts_of(app, killed)}, "
        f"act render row #{render} {attempts_of(app, render)}",
        acts=[number for number, _, _ in found.acts],
    )
    ledger.assert_exactly_once(acknowledged, found)
    assert attempts_of(app, killed) == ("done", 2)  # run again after its worker died
    assert attempts_of(app, render) == ("done", 2)
    numbers = sorted(int(number.rsplit("-", 1)[1]) for number, _, _ in found.acts)
    assert numbers == [1, 2, 3]  # gap-free, no number taken twice
    assert len({key for _, _, key in found.acts}) == 3


def test_a_job_run_again_sends_the_same_message_once(app):
    """What makes e-mail of a re-run job single: the same Message-IDs, one file per id."""
    with app.app_context():
        for _run in range(2):
            with mail.deliveries("outbox-41"):
                mail.send(mail.build("a@example.nc", "Accusé de réception", "Bonjour"))
                mail.send(mail.build("a@example.nc", "Accusé de réception", "Bonjour"))
                mail.send(mail.build("b@example.nc", "Accusé de réception", "Bonjour"))
        with mail.deliveries("outbox-42"):
            mail.send(mail.build("a@example.nc", "Accusé de réception", "Bonjour"))
        mail.send(mail.build("a@example.nc", "Accusé de réception", "Bonjour"))
    assert len(sent_mails(app)) == 5  # three of the first job, one of the second, one plain
