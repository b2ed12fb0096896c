"""The append-only audit log: who did what to which record, when."""

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forms_app.db import Base, UTCDateTime, utcnow
from forms_app.models.form import JSONType


class Event(Base):
    """One audited action, written in the same transaction as the change it records."""

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_subject", "subject_type", "subject_id", "id"),
        Index("ix_event_created_at", "created_at"),  # dashboards: agents' throughput
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(50))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The hash chain (forms_app.audit_chain): set once, by the sealer, after the commit.
    chain_position: Mapped[int | None] = mapped_column(unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped["User | None"] = relationship()  # noqa: F821


# Append-only: no event is deleted, and a sealed one never changes; an unsealed one changes
# only by being sealed. Migration 0011 creates the same triggers.
_WRITTEN = ("id", "subject_type", "subject_id", "action", "from_state", "to_state", "actor_id")
_WRITTEN += ("details", "created_at")
_REFUSAL = "the audit log is append-only"
_OLD, _NEW = (", ".join(f"{row}.{name}" for name in _WRITTEN) for row in ("OLD", "NEW"))
_CHANGED = " OR ".join(f"NEW.{name} IS NOT OLD.{name}" for name in _WRITTEN)
POSTGRESQL_APPEND_ONLY = (
    "CREATE FUNCTION event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP = 'DELETE' OR OLD.chain_position IS NOT NULL OR ({_OLD}) IS DISTINCT FROM "
    f"({_NEW}) THEN RAISE EXCEPTION '{_REFUSAL}'; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event "
    "FOR EACH ROW EXECUTE FUNCTION event_append_only()",
)
SQLITE_APPEND_ONLY = (
    f"CREATE TRIGGER event_no_delete BEFORE DELETE ON event BEGIN SELECT RAISE(ABORT, "
    f"'{_REFUSAL}'); END",
    "CREATE TRIGGER event_no_change BEFORE UPDATE ON event "
    f"WHEN OLD.chain_position IS NOT NULL OR {_CHANGED} "
    f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END",
)
for _statement in POSTGRESQL_APPEND_ONLY:
    event.listen(Event.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SQLITE_APPEND_ONLY:
    event.listen(Event.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
