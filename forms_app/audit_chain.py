"""The audit log's hash chain: every sealed event carries the hash of the one before it.

Events are written unsealed, in the transaction of the change they record, with no global
lock on that path (a surge of submissions does not queue on the chain). The sealer (the
worker's dispatcher every AUDIT_SEAL_INTERVAL seconds, or `flask audit seal`) takes the
unsealed events in id order, as the only sealer (an advisory lock on PostgreSQL; a unique
position elsewhere), and gives each the next position, the hash of the event before it and
its own hash: SHA-256 of that previous hash and of the event's content as read back from the
database. `flask audit verify` recomputes the chain and reports the first broken link: a
changed event, a changed hash, a missing or reordered position.

The database refuses to delete an event or to change a sealed one (triggers, see
forms_app.models.event), so breaking the chain takes someone able to drop the triggers, and
the verification finds them out. Only the newest event could be rewritten together with its
hash unnoticed: `verify` prints the head of the chain, for the operators to record elsewhere.
"""

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from forms_app.models import Event

GENESIS = "0" * 64  # the "previous hash" of the first event
SEAL_BATCH = 5000
# pg_advisory_xact_lock key of the sealer ("audit" in ASCII).
_SEALER_LOCK = 0x6175646974

EVENTS = Event.__table__
CONTENT = (
    EVENTS.c.id,
    EVENTS.c.subject_type,
    EVENTS.c.subject_id,
    EVENTS.c.action,
    EVENTS.c.from_state,
    EVENTS.c.to_state,
    EVENTS.c.actor_id,
    EVENTS.c.details,
    EVENTS.c.created_at,
)
_SEAL = (
    update(EVENTS)
    .where(EVENTS.c.id == bindparam("event_id"), EVENTS.c.chain_position.is_(None))
    .values(
        chain_position=bindparam("position"),
        prev_hash=bindparam("previous"),
        hash=bindparam("digest"),
    )
)


@dataclass(frozen=True)
class Break:
    """The first link of the chain that does not hold."""

    position: int
    event_id: int | None
    reason: str


@dataclass(frozen=True)
class Verification:
    checked: int
    head: str  # the hash of the last event checked (GENESIS when none)
    broken: Break | None


def canonical(row) -> bytes:
    """An event's content as hashed: its columns in a fixed order, as compact JSON."""
    values = [
        row.id,
        row.subject_type,
        row.subject_id,
        row.action,
        row.from_state,
        row.to_state,
        row.actor_id,
        row.details,
        row.created_at.isoformat(),
    ]
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(previous: str, row) -> str:
    """The hash of an event that follows the event hashed `previous`."""
    return hashlib.sha256(previous.encode() + b"\n" + canonical(row)).hexdigest()


def seal(session: Session, limit: int = SEAL_BATCH) -> int:
    """Seal up to `limit` unsealed events, oldest first; the caller commits. How many sealed."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEALER_LOCK})
    head = session.execute(
        select(EVENTS.c.chain_position, EVENTS.c.hash)
        .where(EVENTS.c.chain_position.is_not(None))
        .order_by(EVENTS.c.chain_position.desc())
        .limit(1)
    ).first()
    position, previous = (head.chain_position, head.hash) if head is not None else (0, GENESIS)
    rows = session.execute(
        select(*CONTENT).where(EVENTS.c.chain_position.is_(None)).order_by(EVENTS.c.id).limit(limit)
    ).all()
    sealed = []
    for row in rows:
        position += 1
        digest = link(previous, row)
        sealed.append({"event_id": row.id, "position": position, "previous": previous,
                       "digest": digest})  # fmt: skip
        previous = digest
    if sealed:
        session.execute(_SEAL, sealed)
    return len(sealed)


def seal_all(session_factory, limit: int = SEAL_BATCH) -> int:
    """Seal every event written so far, a batch per transaction; how many were sealed."""
    total = 0
    while True:
        with session_factory() as session:
            count = seal(session, limit)
            session.commit()
        total += count
        if count < limit:
            return total


def unsealed(session: Session) -> int:
    """How many events wait for their seal."""
    return session.scalar(
        select(func.count()).select_from(EVENTS).where(EVENTS.c.chain_position.is_(None))
    )


def verify(session: Session, batch: int = SEAL_BATCH) -> Verification:
    """Recompute the chain from its first event; the first link that does not hold, if any."""
    previous, expected = GENESIS, 1
    rows = session.execute(
        select(*CONTENT, EVENTS.c.chain_position, EVENTS.c.prev_hash, EVENTS.c.hash)
        .where(EVENTS.c.chain_position.is_not(None))
        .order_by(EVENTS.c.chain_position)
        .execution_options(yield_per=batch)
    )
    with rows:  # a server-side cursor on PostgreSQL: closed even when a link breaks
        for row in rows:
            broken = _broken_link(row, expected, previous)
            if broken is not None:
                return Verification(expected - 1, previous, broken)
            previous, expected = row.hash, expected + 1
    return Verification(expected - 1, previous, None)


def _broken_link(row, expected: int, previous: str) -> Break | None:
    if row.chain_position != expected:
        return Break(expected, None, f"position {expected} is missing (an event was deleted)")
    if row.prev_hash != previous:
        return Break(
            expected, row.id, f"event {row.id} does not follow the event at {expected - 1}"
        )
    if link(previous, row) != row.hash:
        return Break(expected, row.id, f"event {row.id} was changed after it was sealed")
    return None
