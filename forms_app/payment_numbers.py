"""Gap-free annual number series for payment acts and bordereaux (DOMAIN §1.4 and §7).

A number is taken by one upsert that increments the series row and returns the new value.
The row stays locked until the caller's transaction ends: concurrent issuers queue behind it,
and a transaction that rolls back gives its number back, so the series has no gap. A number
that was committed is never handed out again, even if its act is cancelled later.
"""

import re
import unicodedata

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from forms_app.models import NumberSeries

MANDAT = "mandat"
BORDEREAU = "bordereau"
DIGITS = 6


def next_number(session: Session, kind: str, budget_code: str, year: int) -> tuple[int, str]:
    """Take the next number of the series: (sequence, "2026-000001"). The caller commits."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(NumberSeries)
        .values(kind=kind, budget_code=budget_code, year=year, last_value=1)
        .on_conflict_do_update(
            index_elements=["kind", "budget_code", "year"],
            set_={"last_value": NumberSeries.last_value + 1},
        )
        .returning(NumberSeries.last_value)
    )
    sequence = session.execute(statement).scalar_one()
    return sequence, f"{year}-{sequence:0{DIGITS}d}"


def budget_code(label: str) -> str:
    """The series key of a budget label: "Budget principal" -> "budget-principal"."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40] or "budget"
