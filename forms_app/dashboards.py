"""The dashboards' figures: aggregate queries over requests, acts, audit events and reports.

Each figure is one GROUP BY query, so a dashboard runs the same number of statements whether
the platform holds twenty requests or a hundred thousand; Python only folds the grouped rows
(at most one per day, state or agent). Days are New Caledonian days: Pacific/Noumea is
UTC+11 all year, so the database numbers them as (UTC seconds − the period's first local
midnight) // 86 400, the same way on SQLite and PostgreSQL.
The result is plain JSON, cached in Redis for DASHBOARD_CACHE_SECONDS per form and period;
labels are added when it is shown, in the reader's language.
"""

import contextlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import BigInteger, Integer, and_, case, cast, extract, func, or_, select
from sqlalchemy.orm import Session, joinedload

from forms_app import budget
from forms_app.models import ActState, Event, Form, PaymentAct, ProblemReport, Submission, User
from workflows.queue import get_redis
from workflows.states import Action, State

LOCAL_OFFSET = timedelta(hours=11)  # Pacific/Noumea, no daylight saving
DAY = 86_400
PERIODS = (7, 30, 90, 365)  # days a dashboard may cover
DEFAULT_PERIOD = 30
FUNNEL = ("draft", "submitted", "approved", "paid")
# Requests not finished: open, or accepted and waiting for their payment.
BACKLOG_STATES = (
    State.SUBMITTED,
    State.IN_REVIEW,
    State.CHANGES_REQUESTED,
    State.PROPOSED,
    State.APPROVED,
    State.ACT_ISSUED,
    State.SIGNED,
)
AGE_CLASSES = (7, 14, 30)  # days since submission: < 7, 7–14, 14–30, ≥ 30
DELAY_CLASSES = (7, 14, 30, 60)  # days from submission to payment, same reading
# Audit actions that are decisions (the rest of a staff member's events are other actions).
DECISIONS = frozenset(
    {Action.PROPOSE, Action.CLOSE, Action.APPROVE, Action.REJECT, Action.SEND_BACK, "approval"}
)
CACHE_KEY = "guichet:dashboard:{scope}:{days}"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def figures(session: Session, now: datetime, form_id: int | None = None, *, days: int = 30):
    """The figures of the last `days` days (all forms, or one), from the cache when fresh.

    Redis away or failing: they are computed directly, and not kept.
    """
    key = CACHE_KEY.format(scope=form_id or "all", days=days)
    ttl = current_app.config["DASHBOARD_CACHE_SECONDS"]
    try:
        cached = get_redis().get(key) if ttl > 0 else None
    except RedisError:
        return compute(session, now, form_id, days=days)
    if cached is not None:
        return json.loads(cached)
    result = compute(session, now, form_id, days=days)
    if ttl > 0:
        with contextlib.suppress(RedisError):
            get_redis().set(key, json.dumps(result), ex=ttl)
    return result


def compute(session: Session, now: datetime, form_id: int | None = None, *, days: int = 30):
    """Every figure of the last `days` local days up to `now`, uncached (8 statements)."""
    local_today = (now.astimezone(UTC) + LOCAL_OFFSET).date()
    first_day = local_today - timedelta(days=days - 1)
    start = datetime.combine(first_day, datetime.min.time(), UTC) - LOCAL_OFFSET
    period = _Period(session, start, days, form_id)
    median, delays = payment_delays(session, start, now, form_id)
    return {
        "period": {"first": first_day.isoformat(), "last": local_today.isoformat(), "days": days},
        "generated_at": now.astimezone(UTC).isoformat(),
        "submissions_per_day": period.per_day(Submission.submitted_at, Submission.form_id),
        "funnel": funnel(session, start, form_id),
        "backlog": backlog(session, now, form_id),
        "median_days_to_payment": median,
        "payment_delays": delays,
        "throughput": throughput(period),
        "amounts": amounts(session, form_id),
        "problem_reports_per_day": period.per_day(ProblemReport.created_at, ProblemReport.form_id),
    }


def epoch_seconds(session: Session, column):
    """Whole seconds since the epoch of a stored (naive UTC) time, on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff': cut the fraction (strftime would round it).
        return cast(func.strftime("%s", func.substr(column, 1, 19)), Integer)
    return cast(func.floor(extract("epoch", column)), BigInteger)


class _Period:
    """The local days of a dashboard: a day index per stored time, computed in SQL."""

    def __init__(self, session: Session, start: datetime, days: int, form_id: int | None):
        self.session, self.start, self.days, self.form_id = session, start, days, form_id
        self.end = start + timedelta(days=days)
        self.offset = int((start - _EPOCH).total_seconds())

    def day_of(self, column):
        return ((epoch_seconds(self.session, column) - self.offset) // DAY).label("day")

    def label(self, index: int) -> str:
        return ((self.start + LOCAL_OFFSET).date() + timedelta(days=index)).isoformat()

    def per_day(self, column, form_column) -> list[list[Any]]:
        """[local date, count] for every day of the period, zeros included."""
        rows = select(self.day_of(column)).where(column >= self.start, column < self.end)
        if self.form_id is not None:
            rows = rows.where(form_column == self.form_id)
        rows = rows.subquery()
        counts = dict(
            self.session.execute(select(rows.c.day, func.count()).group_by(rows.c.day)).all()
        )
        return [[self.label(i), int(counts.get(i, 0))] for i in range(self.days)]


def funnel(session: Session, start: datetime, form_id: int | None) -> dict[str, int]:
    """Of the requests started since `start`: how many were submitted, approved, paid."""
    reached_approval = or_(
        Submission.state.in_(budget.COMMITTED_STATES), Submission.approved_amount.is_not(None)
    )
    statement = select(
        func.count(),
        func.count(Submission.submitted_at),
        func.coalesce(func.sum(case((reached_approval, 1), else_=0)), 0),
        func.coalesce(func.sum(case((Submission.state == State.PAID, 1), else_=0)), 0),
    ).where(Submission.created_at >= start)
    if form_id is not None:
        statement = statement.where(Submission.form_id == form_id)
    return dict(zip(FUNNEL, (int(v) for v in session.execute(statement).one()), strict=True))


def _age_class(column, now: datetime, limits: tuple[int, ...]):
    """0 for the youngest class, len(limits) for the oldest: `now - column` against limits."""
    whens = [(column > now - timedelta(days=limit), i) for i, limit in enumerate(limits)]
    return case(*whens, else_=len(limits))


def backlog(session: Session, now: datetime, form_id: int | None) -> dict[str, list[int]]:
    """Unfinished requests today: per state, how many per age class (since submission)."""
    age = _age_class(Submission.submitted_at, now, AGE_CLASSES).label("age")
    rows = select(Submission.state, age).where(Submission.state.in_(BACKLOG_STATES))
    if form_id is not None:
        rows = rows.where(Submission.form_id == form_id)
    rows = rows.subquery()
    result = {state.value: [0] * (len(AGE_CLASSES) + 1) for state in BACKLOG_STATES}
    for state, age_class, count in session.execute(
        select(rows.c.state, rows.c.age, func.count()).group_by(rows.c.state, rows.c.age)
    ):
        result[state][int(age_class)] = int(count)
    return result


def payment_delays(
    session: Session, start: datetime, now: datetime, form_id: int | None
) -> tuple[float | None, list[int]]:
    """Requests paid in the period: median days from submission to payment, and per class.

    The database groups the delays by tenth of a day; the median is read from that
    histogram, so it costs one query and a bounded number of rows at any size.
    """
    paid, submitted = PaymentAct.paid_at, Submission.submitted_at
    seconds = epoch_seconds(session, paid) - epoch_seconds(session, submitted)
    tenths = (seconds // (DAY // 10)).label("tenths")
    rows = (
        select(tenths)
        .join(Submission, Submission.id == PaymentAct.submission_id)
        .where(
            PaymentAct.state == ActState.PAID.value,
            PaymentAct.paid_at >= start,
            PaymentAct.paid_at <= now,
            Submission.submitted_at.is_not(None),
        )
    )
    if form_id is not None:
        rows = rows.where(PaymentAct.form_id == form_id)
    rows = rows.subquery()
    histogram = sorted(
        (max(0, int(value)), int(count))
        for value, count in session.execute(
            select(rows.c.tenths, func.count()).group_by(rows.c.tenths)
        )
    )
    classes = [0] * (len(DELAY_CLASSES) + 1)
    for value, count in histogram:
        classes[sum(value >= limit * 10 for limit in DELAY_CLASSES)] += count
    return median_of(histogram), classes


def median_of(histogram: list[tuple[int, int]]) -> float | None:
    """The median of (tenths of a day, count) pairs, in days to one decimal; None if empty."""
    total = sum(count for _value, count in histogram)
    if not total:
        return None
    middle, seen, lower = (total - 1) // 2, 0, None
    for value, count in histogram:
        if lower is None and seen + count > middle:
            lower = value
        if seen + count > total // 2:
            return round((lower + value) / 20, 1)
        seen += count
    raise AssertionError("unreachable")  # pragma: no cover


def throughput(period: _Period) -> dict[str, Any]:
    """Staff actions and decisions on requests, per agent and local week (Monday first)."""
    session = period.session
    decision = case((Event.action.in_([str(a) for a in DECISIONS]), 1), else_=0).label("decision")
    rows = select(Event.actor_id, period.day_of(Event.created_at), decision).where(
        Event.subject_type == Submission.__tablename__,
        Event.actor_id.is_not(None),
        Event.created_at >= period.start,
        Event.created_at < period.end,
    )
    if period.form_id is not None:
        rows = rows.join(Submission, Submission.id == Event.subject_id).where(
            Submission.form_id == period.form_id
        )
    rows = rows.subquery()
    grouped = (
        select(rows.c.actor_id, User.name, rows.c.day, rows.c.decision, func.count())
        .join(User, User.id == rows.c.actor_id)
        .group_by(rows.c.actor_id, User.name, rows.c.day, rows.c.decision)
    )
    weeks = sorted({_monday(period.label(i)) for i in range(period.days)})
    agents: dict[int, dict[str, Any]] = {}
    for actor_id, name, day, is_decision, count in session.execute(grouped):
        agent = agents.setdefault(
            actor_id, {"name": name, "actions": [0] * len(weeks), "decisions": [0] * len(weeks)}
        )
        week = weeks.index(_monday(period.label(int(day))))
        agent["actions"][week] += int(count)
        if is_decision:
            agent["decisions"][week] += int(count)
    ranked = sorted(agents.values(), key=lambda a: (-sum(a["actions"]), a["name"]))
    return {"weeks": weeks, "agents": ranked}


def _monday(day: str) -> str:
    value = date.fromisoformat(day)
    return (value - timedelta(days=value.weekday())).isoformat()


def amounts(session: Session, form_id: int | None) -> dict[str, int | None]:
    """Proposed, approved and paid amounts now, and the budget envelope (summed over forms).

    Same reading as budget.totals, grouped by form in one query; the envelope is None when
    no form concerned has one.
    """

    def total(condition, column):
        return func.coalesce(func.sum(case((condition, column), else_=0)), 0)

    statement = select(
        total(
            and_(Submission.state == State.PROPOSED, Submission.proposal == "accept"),
            Submission.proposed_amount,
        ),
        total(Submission.state.in_(budget.COMMITTED_STATES), Submission.approved_amount),
        total(Submission.state == State.PAID, Submission.approved_amount),
    ).where(Submission.state.in_((State.PROPOSED, *budget.COMMITTED_STATES)))
    forms = select(Form).where(Form.current_version_id.is_not(None))
    if form_id is not None:
        statement = statement.where(Submission.form_id == form_id)
        forms = forms.where(Form.id == form_id)
    proposed, approved, paid = (int(v) for v in session.execute(statement).one())
    envelopes = [
        budget.envelope(form)
        for form in session.scalars(forms.options(joinedload(Form.current_version)))
    ]
    known = [value for value in envelopes if value is not None]
    return {
        "envelope": sum(known) if known else None,
        "proposed": proposed,
        "approved": approved,
        "paid": paid,
    }
