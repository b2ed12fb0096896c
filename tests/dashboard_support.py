"""Dashboard test data: a known dataset, bulk generation, and the figures of a period."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from forms_app import dashboards
from forms_app.db import get_session, utcnow
from forms_app.models import Event, Form, PaymentAct, ProblemReport, Role, Submission, User
from tests.support import make_user, publish_form

NOW = datetime(2026, 3, 20, 1, 0, tzinfo=UTC)  # 12:00 in Nouméa
FIELDS = [{"key": "nom", "type": "text", "label": "Nom"}]
URL = "/agents/pilotage/"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make_form(app, slug: str, envelope: int | None = None) -> int:
    settings = {"reference_prefix": "AIDE"}
    if envelope is not None:
        settings["budget_envelope"] = envelope
    publish_form(app, FIELDS, slug=slug, title=f"Aide {slug}", settings=settings)
    with app.app_context():
        return get_session().scalar(select(Form.id).where(Form.slug == slug))


class Data:
    """Writes rows as the chain leaves them, at chosen times (UTC)."""

    def __init__(self, app):
        self.app, self.numbers = app, iter(range(1, 10**6))

    def request(self, form_id, state, submitted=None, *, created=None, approved=None, **extra):
        with self.app.app_context():
            db = get_session()
            form = db.get(Form, form_id)
            number = next(self.numbers)
            found = Submission(
                form_id=form_id,
                form_version_id=form.current_version_id,
                state=state,
                reference=None if state == "draft" else f"DONNEE-{number:06d}",
                answers={"nom": f"Demandeur {number}"},
                created_at=utc(created or submitted),
                submitted_at=utc(submitted) if submitted and state != "draft" else None,
                approved_amount=approved,
                **extra,
            )
            db.add(found)
            db.commit()
            return found.id

    def act(self, submission_id, amount, *, state="paid", paid=None, ridet="1234567.001", **extra):
        with self.app.app_context():
            db = get_session()
            found = db.get(Submission, submission_id)
            sequence = next(self.numbers)
            act = PaymentAct(
                number=f"2026-{sequence:06d}",
                budget_code="budget-principal",
                year=2026,
                sequence=sequence,
                submission_id=submission_id,
                live_submission_id=None if state == "cancelled" else submission_id,
                form_id=found.form_id,
                state=state,
                amount=amount,
                beneficiary={"name": f"SARL NUMÉRO {sequence}", "ridet": ridet},
                bank={"iban": "FR7699999000010001234567809"},
                details={"objet": "Aide exceptionnelle", "form_title": found.form.title},
                issued_at=extra.pop("issued", utc(paid) if paid else NOW),
                paid_at=utc(paid) if paid else None,
                **extra,
            )
            db.add(act)
            db.commit()
            return act.id

    def event(self, submission_id, action, actor_id, at):
        with self.app.app_context():
            db = get_session()
            db.add(
                Event(
                    subject_type="submission",
                    subject_id=submission_id,
                    action=action,
                    actor_id=actor_id,
                    created_at=utc(at),
                )
            )
            db.commit()

    def report(self, at, form_id=None):
        with self.app.app_context():
            db = get_session()
            db.add(
                ProblemReport(form_id=form_id, page="/", description="Erreur", created_at=utc(at))
            )
            db.commit()


def known_dataset(app):
    """Two forms, ten requests, three payments, agents' events and problem reports."""
    a, b = make_form(app, "aide-a", envelope=1_000_000), make_form(app, "aide-b")
    alice = make_user(app, Role.AGENT, email="alice@example.nc")
    bob = make_user(app, Role.APPROVER, email="bob@example.nc")
    with app.app_context():
        db = get_session()
        db.get(User, alice).name, db.get(User, bob).name = "Alice Agent", "Bob Valideur"
        db.commit()
    d = Data(app)
    d.request(a, "draft", created="2026-03-19 10:00")
    d.request(a, "submitted", "2026-03-19 12:30")  # 23:30 in Nouméa: 19 March
    d.request(a, "submitted", "2026-03-19 13:30")  # 00:30 in Nouméa: 20 March
    reviewed = d.request(a, "in_review", "2026-03-05 00:00")
    proposed = d.request(
        a, "proposed", "2026-03-10 00:00", proposal="accept", proposed_amount=200_000
    )
    paid = d.request(a, "paid", "2026-03-01 00:00", approved=300_000)
    d.act(paid, 300_000, paid="2026-03-11 12:00")  # 10.5 days
    quick = d.request(a, "paid", "2026-03-02 00:00", approved=100_000)
    d.act(quick, 100_000, paid="2026-03-06 12:00")  # 4.5 days
    d.request(a, "approved", "2026-01-01 00:00", approved=50_000)  # before the period
    other = d.request(b, "submitted", "2026-03-19 12:30")
    slow = d.request(b, "paid", "2026-03-03 00:00", approved=80_000)
    d.act(slow, 80_000, paid="2026-03-20 00:00")  # 17 days
    d.event(reviewed, "take", alice, "2026-03-05 01:00")  # Thursday: week of 2 March
    d.event(proposed, "propose", alice, "2026-03-10 02:00")  # week of 9 March
    d.event(paid, "approve", bob, "2026-03-08 20:00")  # Sunday in UTC, Monday 9 in Nouméa
    d.event(other, "take", alice, "2026-03-19 13:00")  # Friday 20: week of 16 March
    d.event(paid, "submit", None, "2026-03-01 00:00")  # the applicant's: not staff work
    d.event(reviewed, "take", alice, "2026-01-02 00:00")  # before the period
    d.report("2026-03-19 12:00", a)
    d.report("2026-03-19 12:00")
    d.report("2026-02-18 13:30")  # 00:30 on 19 February, the first day
    d.report("2026-02-18 12:30")  # 23:30 on 18 February: before the period
    return {"a": a, "b": b, "alice": alice, "bob": bob}


def compute(app, form_id=None):
    with app.app_context():
        return dashboards.compute(get_session(), NOW, form_id, days=30)


def generate(app, form_id: int, rows: int, agent_id: int) -> None:
    """Many requests in every state, with payments and events, in a few bulk INSERTs."""
    now = utcnow()
    states = ["draft", "submitted", "in_review", "proposed", "approved", "paid", "rejected"]
    with app.app_context():
        db = get_session()
        version = db.get(Form, form_id).current_version_id
        first = (db.scalar(select(Submission.id).order_by(Submission.id.desc())) or 0) + 1
        db.execute(
            insert(Submission),
            [
                {
                    "form_id": form_id,
                    "form_version_id": version,
                    "state": states[i % len(states)],
                    "answers": {},
                    "created_at": now - timedelta(hours=i % 900),
                    "submitted_at": now - timedelta(hours=i % 900),
                    "approved_amount": 10_000,
                }
                for i in range(rows)
            ],
        )
        paid = [first + i for i in range(rows) if states[i % len(states)] == "paid"]
        base = 10_000 + first
        db.execute(
            insert(PaymentAct),
            [
                {
                    "number": f"2026-{base + n:06d}",
                    "budget_code": "b",
                    "year": 2026,
                    "sequence": base + n,
                    "submission_id": sid,
                    "live_submission_id": sid,
                    "form_id": form_id,
                    "state": "paid",
                    "amount": 10_000,
                    "beneficiary": {"name": "X", "ridet": "1234567001"},
                    "bank": {},
                    "details": {},
                    "issued_at": now,
                    "paid_at": now - timedelta(minutes=n),
                }
                for n, sid in enumerate(paid)
            ],
        )
        db.execute(
            insert(Event),
            [
                {
                    "subject_type": "submission",
                    "subject_id": first + i,
                    "action": "take",
                    "actor_id": agent_id,
                    "details": {},
                    "created_at": now - timedelta(hours=i % 700),
                }
                for i in range(rows)
            ],
        )
        db.commit()
