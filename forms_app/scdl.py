"""Granted aids as open data: the SCDL "subventions" format (OpenDataFrance, schema v2.0.2).

One row per payment act that is not cancelled (an issued act is a granted aid), read from
the act's own snapshot, so the file says what the act says. New Caledonian adaptations
(DOMAIN §1.6): identifiers are RIDETs (10 digits, `^\\d{10}$`) where the schema has SIRETs,
and `montant` is in XPF (the schema speaks of euros; XPF has no minor unit). Natural persons
are never published: an act whose beneficiary has no RIDET (a person, e.g. the repatriation
aid) is left out, whatever the form.
"""

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms_app.models import ActState, PaymentAct

# The 16 columns of the schema, in its order.
COLUMNS = (
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "rnaBeneficiaire",
    "objet",
    "montant",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
    "dispositifAide",
)
NATURE = "aide en numéraire"
CONDITIONS = "unique"  # one payment per act
OBJECT_MAX = 256
RIDET = re.compile(r"^\d{10}$")
NOUMEA = ZoneInfo("Pacific/Noumea")
BATCH = 500


def ridet_digits(value: Any) -> str | None:
    """The 10 digits of a RIDET as stored or printed ("1234567.001"), None if it is not one."""
    digits = re.sub(r"[\s.\-]", "", str(value or ""))
    return digits if RIDET.match(digits) else None


def _local_date(moment: datetime | None) -> str:
    return moment.astimezone(NOUMEA).date().isoformat() if moment is not None else ""


def row(act: PaymentAct, attributor_name: str, attributor_id: str) -> list[Any] | None:
    """The SCDL row of one act, or None when it must not be published (cancelled, a person)."""
    if act.state == ActState.CANCELLED.value:
        return None
    ridet = ridet_digits((act.beneficiary or {}).get("ridet"))
    if ridet is None:  # a natural person: never published
        return None
    details = act.details or {}
    paid = act.state == ActState.PAID.value
    return [
        attributor_name,
        attributor_id,
        _local_date(act.issued_at),
        act.number,
        act.beneficiary.get("name") or "",
        ridet,
        "",  # rnaBeneficiaire: no RNA in New Caledonia
        str(details.get("objet") or "")[:OBJECT_MAX],
        act.amount,
        NATURE,
        CONDITIONS,
        _local_date(act.paid_at) if paid else "",
        "",  # idRAE: the RAE lists metropolitan aids only
        "non",  # notificationUE
        "1.00",  # pourcentageSubvention: one beneficiary per act
        details.get("form_title") or act.form.title,
    ]


def rows(session: Session, attributor_name: str, attributor_id: str) -> Iterator[list[Any]]:
    """Every publishable act's row, by act number, read in batches (bounded memory)."""
    statement = (
        select(PaymentAct)
        .where(PaymentAct.state != ActState.CANCELLED.value)
        .order_by(PaymentAct.year, PaymentAct.budget_code, PaymentAct.sequence)
        .execution_options(yield_per=BATCH)
    )
    for act in session.scalars(statement):
        built = row(act, attributor_name, attributor_id)
        if built is not None:
            yield built
