"""Act numbers: one gap-free annual series per budget, whatever runs at the same time."""

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import func, select

from forms_app import payment_acts, payment_numbers
from forms_app.db import get_session
from forms_app.models import Event, NumberSeries, PaymentAct, Submission
from tests.conftest import ON_POSTGRES
from tests.finance_support import approved_request, publish_payment_form
from tests.support import run_worker_burst

# PostgreSQL runs the full load; SQLite (one writer at a time) a smaller one.
CONCURRENT = 50 if ON_POSTGRES else 12
ROLLBACKS = 5 if ON_POSTGRES else 2
# Transactions open at once. A commit pushes its outbox rows through a second pooled
# connection while it still holds its own: at most half the pool (5 + 10 overflow) in flight.
IN_FLIGHT = 7


def submission_ids(app, references: list[str]) -> list[int]:
    with app.app_context():
        rows = get_session().execute(
            select(Submission.reference, Submission.id).where(Submission.reference.in_(references))
        )
        by_reference = dict(rows.all())
    return [by_reference[reference] for reference in references]


def issue(app, submission_id: int, *, now: datetime | None = None) -> PaymentAct | None:
    with app.app_context():
        db = get_session()
        act = payment_acts.issue_act(db, submission_id, now=now)
        db.commit()
        if act is not None:
            db.refresh(act)
            db.expunge(act)
        return act


def all_acts(app) -> list[PaymentAct]:
    with app.app_context():
        return list(get_session().scalars(select(PaymentAct).order_by(PaymentAct.id)))


def issue_concurrently(
    app, ids: list[int], rollback_ids: list[int], rolled_back: list[int] | None = None
) -> list[BaseException]:
    """Run issue_act for every id at once, each in its own thread, session and transaction.

    The `rollback_ids` threads take their number, hold it a moment, then roll back; the
    sequences they gave back are added to `rolled_back`.
    """
    everyone = [(i, False) for i in ids] + [(i, True) for i in rollback_ids]
    barrier = threading.Barrier(len(everyone))
    slots = threading.BoundedSemaphore(IN_FLIGHT)
    errors: list[BaseException] = []

    def run(submission_id: int, rollback: bool) -> None:
        try:
            barrier.wait(timeout=60)
            with slots, app.app_context():
                db = get_session()
                act = payment_acts.issue_act(db, submission_id)
                assert act is not None
                if rollback:
                    rolled_back.append(act.sequence)
                    time.sleep(0.05)  # the others queue behind the series row meanwhile
                    db.rollback()
                else:
                    db.commit()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=args) for args in everyone]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=100)
    return errors


def test_concurrent_issues_make_one_gap_free_series(app):
    publish_payment_form(app)
    references = [approved_request(app, name=f"SARL NUMERO {n}") for n in range(CONCURRENT)]
    spare = [approved_request(app, name=f"SARL ANNULEE {n}") for n in range(ROLLBACKS)]
    ids, rollback_ids = submission_ids(app, references), submission_ids(app, spare)

    rolled_back: list[int] = []
    assert issue_concurrently(app, ids, rollback_ids, rolled_back) == []
    assert len(rolled_back) == ROLLBACKS

    acts = all_acts(app)
    year = acts[0].year
    assert sorted(act.sequence for act in acts) == list(range(1, CONCURRENT + 1))
    assert sorted(act.number for act in acts) == [
        f"{year}-{n:06d}" for n in range(1, CONCURRENT + 1)
    ]
    assert sorted(act.submission_id for act in acts) == sorted(ids)  # one act per request
    with app.app_context():
        db = get_session()
        issued = db.scalar(
            select(func.count()).select_from(Event).where(Event.action == "issue_act")
        )
        assert issued == CONCURRENT
        series = db.get(NumberSeries, ("mandat", "budget-principal", year))
        assert series.last_value == CONCURRENT
        states = db.scalars(select(Submission.state).where(Submission.id.in_(rollback_ids)))
        assert set(states) == {"approved"}  # rolled back: no act...
    # ...and their numbers went back: taken again by a committed act, or never handed out.
    taken = {act.sequence for act in acts}
    assert all(number in taken or number > CONCURRENT for number in rolled_back)

    # Running the job again for everyone changes nothing.
    errors = issue_concurrently(app, ids, [])
    assert errors == []
    assert [(a.id, a.number) for a in all_acts(app)] == [(a.id, a.number) for a in acts]
    with app.app_context():
        series = get_session().get(NumberSeries, ("mandat", "budget-principal", year))
        assert series.last_value == CONCURRENT


def test_a_rolled_back_number_is_handed_out_again(app):
    with app.app_context():
        db = get_session()
        assert payment_numbers.next_number(db, "mandat", "budget-principal", 2026) == (
            1,
            "2026-000001",
        )
        db.rollback()
        assert payment_numbers.next_number(db, "mandat", "budget-principal", 2026)[0] == 1
        db.commit()
        assert payment_numbers.next_number(db, "mandat", "budget-principal", 2026)[0] == 2
        assert payment_numbers.next_number(db, "bordereau", "budget-principal", 2026)[0] == 1
        db.commit()


def test_each_budget_has_its_own_series(app):
    publish_payment_form(app, slug="aide")
    publish_payment_form(app, slug="aide-annexe", budget="Budget annexe des aides économiques")
    main = approved_request(app, slug="aide")
    annex = approved_request(app, slug="aide-annexe")
    second = approved_request(app, slug="aide")
    ids = submission_ids(app, [main, annex, second])
    issued = [issue(app, submission_id) for submission_id in ids]
    year = issued[0].year
    assert [(act.budget_code, act.number) for act in issued] == [
        ("budget-principal", f"{year}-000001"),
        ("budget-annexe-des-aides-economiques", f"{year}-000001"),
        ("budget-principal", f"{year}-000002"),
    ]
    assert issued[1].details["budget"] == "Budget annexe des aides économiques"


def test_the_year_in_noumea_starts_a_new_series(app):
    publish_payment_form(app)
    ids = submission_ids(app, [approved_request(app) for _ in range(3)])
    late = issue(app, ids[0], now=datetime(2030, 12, 31, 12, 0, tzinfo=UTC))  # 23:00 in Nouméa
    new_year = issue(app, ids[1], now=datetime(2030, 12, 31, 13, 30, tzinfo=UTC))  # 00:30
    today = issue(app, ids[2])
    assert (late.year, late.number) == (2030, "2030-000001")
    assert (new_year.year, new_year.number) == (2031, "2031-000001")
    assert new_year.details["exercice"] == 2031
    assert new_year.details["date_emission"] == "01/01/2031"
    assert today.number == f"{today.year}-000001"  # this year's series is still untouched
    assert today.year == today.details["exercice"] < 2030


def test_real_workers_issue_and_render_the_acts(app):
    publish_payment_form(app)
    references = [approved_request(app, amount=100_000 + n) for n in range(3)]
    ids = submission_ids(app, references)
    run_worker_burst(app, timeout=110)
    acts = all_acts(app)
    assert sorted(act.submission_id for act in acts) == sorted(ids)
    assert sorted(act.sequence for act in acts) == [1, 2, 3]
    assert all(act.pdf_key and act.pdf_sha256 and act.rendered_at for act in acts)
    with app.app_context():
        states = get_session().scalars(select(Submission.state).where(Submission.id.in_(ids)))
        assert set(states) == {"act_issued"}
        for act in acts:
            assert payment_acts.act_pdf(act).startswith(b"%PDF")
