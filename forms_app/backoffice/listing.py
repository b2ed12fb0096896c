"""The list of a form's requests: filters read from the query string, sort, keyset pages.

Order: priority (1 first, none last), then age (oldest submitted first), then id. Pages are
cut by keyset on that order: a page's cursor is its last row's (priority, submitted_at, id),
and the next page asks for rows after it, so a deep page costs what the first one does.

To stay on the existing index ix_submission_inbox (form_id, state, priority, submitted_at,
id), a page is the union of one small range scan per selected state and per "has a priority
or not" (each reads at most a page of rows in index order), merged and cut again. Drafts are
never listed.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    exists,
    func,
    literal,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from forms_app import search
from forms_app.db import UTCDateTime
from forms_app.formdefs import nc
from forms_app.models import Flag, Form, Submission, User
from workflows.states import State

PAGE_SIZE = 50
LISTED_STATES = tuple(s.value for s in State if s is not State.DRAFT)
# States in which staff owe the next move: these become overdue when left untouched.
OVERDUE_STATES = frozenset({State.SUBMITTED, State.IN_REVIEW, State.PROPOSED})
FLAG_ANY = "any"
ASSIGNEE_ME, ASSIGNEE_NONE = "me", "none"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FULL_REFERENCE = re.compile(r"[a-z]{2,8}-[0-9]{4}-[0-9]{6}")


@dataclass
class Filters:
    """What the agent asked for; `errors` maps a filter's name to a French message."""

    states: list[str] = field(default_factory=list)
    flag: str = ""
    assignee: str = ""
    submitted_from: date | None = None
    submitted_to: date | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    q: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def query_args(self) -> dict[str, Any]:
        """The filters as query-string arguments, to carry them to other pages and exports."""
        return {k: v for k, v in self.raw.items() if v not in ("", [], None)}


def parse_filters(args: MultiDict) -> Filters:
    """Read the filters from the query string; a value that cannot be read is reported."""
    filters = Filters(
        states=[s for s in args.getlist("etat") if s in LISTED_STATES],
        flag=args.get("signalement", "").strip()[:30],
        assignee=args.get("instructeur", "").strip()[:12],
        q=args.get("q", "").strip()[:200],
    )
    filters.raw = {
        "etat": filters.states,
        "signalement": filters.flag,
        "instructeur": filters.assignee,
        "q": filters.q,
    }
    for name, attribute in (("du", "submitted_from"), ("au", "submitted_to")):
        text = args.get(name, "").strip()[:20]
        filters.raw[name] = text
        if text:
            try:
                setattr(filters, attribute, nc.parse_date(text))
            except nc.InvalidValue as error:
                filters.errors[name] = error.message
    for name, attribute in (("montant_min", "amount_min"), ("montant_max", "amount_max")):
        text = args.get(name, "").strip()[:30]
        filters.raw[name] = text
        if text:
            try:
                setattr(filters, attribute, nc.parse_xpf(text))
            except nc.InvalidValue as error:
                filters.errors[name] = error.message
    if filters.assignee not in ("", ASSIGNEE_ME, ASSIGNEE_NONE) and not filters.assignee.isdigit():
        filters.errors["instructeur"] = _("Choisissez un instructeur dans la liste.")
    return filters


def conditions(filters: Filters, user_id: int, tz: ZoneInfo) -> list[ColumnElement[bool]]:
    """The WHERE conditions of every filter but the form and the state."""
    where: list[ColumnElement[bool]] = []
    if filters.flag:
        flagged = select(Flag.id).where(Flag.submission_id == Submission.id)
        if filters.flag != FLAG_ANY:
            flagged = flagged.where(Flag.kind == filters.flag)
        where.append(exists(flagged))
    if filters.assignee == ASSIGNEE_ME:
        where.append(Submission.assignee_id == user_id)
    elif filters.assignee == ASSIGNEE_NONE:
        where.append(Submission.assignee_id.is_(None))
    elif filters.assignee.isdigit():
        where.append(Submission.assignee_id == int(filters.assignee))
    if filters.submitted_from:
        where.append(Submission.submitted_at >= _local_midnight(filters.submitted_from, tz))
    if filters.submitted_to:
        next_day = filters.submitted_to + timedelta(days=1)
        where.append(Submission.submitted_at < _local_midnight(next_day, tz))
    if filters.amount_min is not None:
        where.append(Submission.computed_amount >= filters.amount_min)
    if filters.amount_max is not None:
        where.append(Submission.computed_amount <= filters.amount_max)
    for term in search.terms(filters.q):
        if FULL_REFERENCE.fullmatch(term):  # the unique index finds it at once
            where.append(Submission.reference == term.upper())
            continue
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(Submission.search_text.like(pattern, escape="\\"))
    return where


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


# -- Keyset cursor --------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the sort key of its last row."""

    priority: int | None
    submitted_at: datetime
    id: int

    def encode(self) -> str:
        stamp = (self.submitted_at - EPOCH) // timedelta(microseconds=1)  # exact, no float
        return f"{'' if self.priority is None else self.priority}~{stamp}~{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> "Cursor | None":
        """Read a cursor from the query string; anything malformed means the first page."""
        try:
            priority, stamp, row_id = (text or "").split("~")
            moment = EPOCH + timedelta(microseconds=int(stamp))
            return cls(int(priority) if priority else None, moment, int(row_id))
        except (ValueError, OverflowError, OSError):
            return None


def _branches(
    form_id: int, states: list[str], where: list, after: Cursor | None, limit: int
) -> list[Select]:
    """One index range scan per state and per priority segment, each at most `limit` rows."""
    key = (Submission.priority, Submission.submitted_at, Submission.id)
    segments = []
    if after is None or after.priority is not None:
        ranked = [Submission.priority.is_not(None)]
        if after is not None:
            bound = tuple_(
                literal(after.priority, Integer),
                literal(after.submitted_at, UTCDateTime()),
                literal(after.id, Integer),
            )
            ranked.append(tuple_(*key) > bound)
        segments.append(ranked)
    unranked = [Submission.priority.is_(None)]
    if after is not None and after.priority is None:
        bound = tuple_(literal(after.submitted_at, UTCDateTime()), literal(after.id, Integer))
        unranked.append(tuple_(Submission.submitted_at, Submission.id) > bound)
    segments.append(unranked)
    branches = []
    for state in states:
        for segment in segments:
            scan = (
                select(*key)
                .where(Submission.form_id == form_id, Submission.state == state)
                .where(*segment, *where)
                .order_by(*key)
                .limit(limit)
                .subquery()
            )
            branches.append(select(scan))
    return branches


def sort_key(columns) -> list:
    """ORDER BY priority (none last), submitted_at, id of these columns."""
    return [columns.priority.asc().nulls_last(), columns.submitted_at, columns.id]


@dataclass
class Row:
    """One line of the inbox."""

    submission: Submission
    name: str
    assignee_name: str | None
    flag_count: int
    overdue: bool


def flag_count_column():
    """How many flags a request has, as a correlated scalar subquery (one statement)."""
    return (
        select(func.count(Flag.id))
        .where(Flag.submission_id == Submission.id)
        .correlate(Submission)
        .scalar_subquery()
    )


def page(
    session: Session,
    form: Form,
    filters: Filters,
    *,
    user_id: int,
    tz: ZoneInfo,
    after: Cursor | None = None,
    size: int = PAGE_SIZE,
    overdue_before: datetime,
    name_of=lambda answers: "",
) -> tuple[list[Row], Cursor | None]:
    """Return one page of rows and the cursor of the next page (None on the last page).

    One statement: the rows, their assignee's name and their flag count come together.
    """
    states = filters.states or list(LISTED_STATES)
    where = conditions(filters, user_id, tz)
    merged = union_all(*_branches(form.id, states, where, after, size + 1)).subquery()
    statement = (
        select(Submission, User.name, flag_count_column())
        .join(merged, merged.c.id == Submission.id)
        .outerjoin(User, User.id == Submission.assignee_id)
        .order_by(*sort_key(merged.c))
        .limit(size + 1)
    )
    found = session.execute(statement).all()
    rows = [
        Row(
            submission=s,
            name=name_of(s.answers or {}),
            assignee_name=assignee,
            flag_count=count,
            overdue=s.state in OVERDUE_STATES
            and s.last_activity_at is not None
            and s.last_activity_at < overdue_before,
        )
        for s, assignee, count in found[:size]
    ]
    following = None
    if len(found) > size:
        last = rows[-1].submission
        following = Cursor(last.priority, last.submitted_at, last.id)
    return rows, following


def export_statement(form: Form, filters: Filters, *, user_id: int, tz: ZoneInfo) -> Select:
    """Every filtered request in inbox order, as plain columns for an export (no ORM objects)."""
    states = filters.states or list(LISTED_STATES)
    return (
        select(
            Submission.reference,
            Submission.state,
            Submission.submitted_at,
            Submission.computed_amount,
            Submission.priority,
            Submission.applicant_email,
            Submission.answers,
            User.name.label("assignee_name"),
            flag_count_column().label("flag_count"),
        )
        .outerjoin(User, User.id == Submission.assignee_id)
        .where(Submission.form_id == form.id, Submission.state.in_(states))
        .where(*conditions(filters, user_id, tz))
        .order_by(*sort_key(Submission))
    )
