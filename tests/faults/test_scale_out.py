"""Two web processes and two workers on one machine, sharing the database and Redis.

The whole chain runs through both hosts in turn: requests submitted on A and B, worked on
the other host, approved, their acts issued and rendered by whichever worker takes the job,
listed on a bordereau, signed with a TOTP code and paid. Nothing is numbered, sent or run
twice.
"""

import re
from collections import Counter
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from forms_app.db import get_session
from forms_app.models import Role, Submission
from tests.faults import chain, ledger
from tests.faults.load import LoadGenerator
from tests.support import make_user, sent_mails, wait_until

REQUESTS = 12
REFERENCE = re.compile(r"[A-Z]+-\d{4}-\d{6}")
AGENT, APPROVER, FINANCE = "agent@example.nc", "valideur@example.nc", "finances@example.nc"


def paid_notices(app) -> Counter:
    """Payment e-mails per dossier reference."""
    found = Counter()
    for path in sent_mails(app):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if "paiement a été effectué" in message.get_body().get_content():
            found[REFERENCE.search(str(message["Subject"])).group(0)] += 1
    return found


@pytest.mark.timeout(420)
def test_two_webs_and_two_workers_run_the_whole_chain(fleet):
    app = fleet.app
    hosts = [fleet.web("web-a").url, fleet.web("web-b").url]
    workers = [fleet.worker("worker-a"), fleet.worker("worker-b")]
    for email, role in ((AGENT, Role.AGENT), (APPROVER, Role.APPROVER), (FINANCE, Role.FINANCE)):
        make_user(app, role, email=email)

    load = LoadGenerator(hosts, threads=2, max_seconds=240, limit=REQUESTS).start()
    try:
        load.wait_for(acknowledged=REQUESTS, timeout=240)
    finally:
        attempts = load.stop()
    references = load.acknowledged()
    wait_until(lambda: ledger.all_processed(app, references), timeout=120, interval=0.5)

    agents = [chain.signed_in(host, AGENT) for host in hosts]
    approvers = [chain.signed_in(host, APPROVER) for host in reversed(hosts)]
    for number, reference in enumerate(references):
        side = number % 2
        chain.casework(agents[side], reference, "take")
        chain.casework(agents[1 - side], reference, "propose_accept", amount="300 000")
        chain.casework(approvers[side], reference, "approve")

    def rendered():
        found = chain.acts(app)
        return len(found) == len(references) and all(key for _, _, key in found) and found

    acts = wait_until(rendered, timeout=180, interval=0.5)
    finance = [chain.signed_in(host, FINANCE) for host in hosts]
    bordereau = chain.build_bordereau(finance[1], [act_id for act_id, _, _ in acts])
    wait_until(lambda: chain.bordereau_rendered(app), timeout=90, interval=0.5)
    chain.sign(finance[0], bordereau)
    chain.mark_paid(finance[1], bordereau)
    wait_until(lambda: len(paid_notices(app)) == len(references), timeout=120, interval=0.5)
    wait_until(lambda: set(ledger.read(app).outbox) == {"done"}, timeout=60, interval=0.5)

    found = ledger.read(app)
    with app.app_context():
        states = Counter(get_session().scalars(select(Submission.state).where(
            Submission.reference.is_not(None))))  # fmt: skip
    jobs_per_worker = [w.log().count("Job OK") for w in workers]
    ledger.report(
        "scale-out: 2 webs, 2 workers",
        len(attempts),
        references,
        found,
        acts=f"{len(found.acts)} numbered {found.acts[0][0]} … {found.acts[-1][0]}",
        states=dict(states),
        paid_e_mails=sum(paid_notices(app).values()),
        jobs_per_worker=jobs_per_worker,
    )
    ledger.assert_exactly_once(references, found)
    numbers = sorted(int(number.rsplit("-", 1)[1]) for number, _, _ in found.acts)
    assert numbers == list(range(1, len(references) + 1))
    assert states == {"paid": len(references)}
    assert set(paid_notices(app).values()) == {1}
    assert all(jobs_per_worker), jobs_per_worker  # both workers took jobs
