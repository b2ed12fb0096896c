"""What the platform stored and did, read back after a fault; the report each scenario prints.

Reading the database, the mail directory and the storage is for checking only.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from forms_app.db import get_session
from forms_app.models import Event, OutboxMessage, OutboxStatus, PaymentAct, Submission

RECEIPT_SUBJECT = re.compile(r"Accusé de réception – dossier (\S+)")
SUBMISSION_JOBS = ("send_receipt", "check_submission")


@dataclass
class Ledger:
    stored: dict[str, int] = field(default_factory=dict)  # reference → submission id
    receipt_keys: dict[str, str | None] = field(default_factory=dict)
    submit_events: Counter = field(default_factory=Counter)  # submission id → "submitted" events
    jobs: dict[tuple[str, int], list[str]] = field(default_factory=dict)  # (job, id) → statuses
    outbox: Counter = field(default_factory=Counter)  # status → rows
    failed: list[tuple[int, str, str]] = field(default_factory=list)  # (id, job, error)
    receipt_mails: Counter = field(default_factory=Counter)  # reference → e-mails
    message_ids: Counter = field(default_factory=Counter)  # Message-ID → e-mails
    acts: list[tuple[str, int, str | None]] = field(default_factory=list)  # number, sub, pdf key

    def processed(self, reference: str) -> bool:
        """Its receipt was sent and its checks ran, each by exactly one outbox row."""
        submission_id = self.stored[reference]
        return all(self.jobs.get((job, submission_id)) == ["done"] for job in SUBMISSION_JOBS)

    def duplicates(self) -> dict[str, int]:
        """Anything that happened more than once: e-mails, jobs per submission, act numbers."""
        found = {f"mail {ref}": n for ref, n in self.receipt_mails.items() if n > 1}
        found |= {f"Message-ID {m}": n for m, n in self.message_ids.items() if n > 1}
        found |= {f"{job} #{sid}": len(s) for (job, sid), s in self.jobs.items() if len(s) > 1}
        numbers = Counter(number for number, _, _ in self.acts)
        found |= {f"act {number}": n for number, n in numbers.items() if n > 1}
        return found


def read(app: Flask) -> Ledger:
    """Everything the scenario checks, as stored now."""
    ledger = Ledger()
    with app.app_context():
        db = get_session()
        stored = select(Submission.reference, Submission.id, Submission.receipt_key)
        for reference, ident, key in db.execute(stored.where(Submission.reference.is_not(None))):
            ledger.stored[reference] = ident
            ledger.receipt_keys[reference] = key
        submitted = select(Event.subject_id).where(
            Event.subject_type == "submission", Event.to_state == "submitted"
        )
        ledger.submit_events.update(db.scalars(submitted))
        for message in db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
            ledger.outbox[message.status.value] += 1
            if message.status is OutboxStatus.FAILED:
                ledger.failed.append((message.id, message.job, message.last_error or ""))
            if message.job in SUBMISSION_JOBS:
                key = (message.job, message.args["submission_id"])
                ledger.jobs.setdefault(key, []).append(message.status.value)
        acts = select(PaymentAct.number, PaymentAct.submission_id, PaymentAct.pdf_key)
        ledger.acts = [tuple(row) for row in db.execute(acts.order_by(PaymentAct.id))]
        db.rollback()
    for path in sorted(Path(app.config["MAIL_DIR"]).glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        ledger.message_ids[message["Message-ID"]] += 1
        found = RECEIPT_SUBJECT.search(str(message["Subject"]))
        if found:
            ledger.receipt_mails[found.group(1)] += 1
    return ledger


def all_processed(app: Flask, references) -> bool:
    """Whether every reference is stored and processed (for wait_until)."""
    ledger = read(app)
    return all(ref in ledger.stored and ledger.processed(ref) for ref in references)


def report(scenario: str, attempts: int, acknowledged: list[str], ledger: Ledger, **more) -> str:
    """Print what was submitted, stored and processed; return the text."""
    processed = [ref for ref in ledger.stored if ledger.processed(ref)]
    lines = [
        "",
        f"[{scenario}]",
        f"  submitted {attempts}, acknowledged {len(acknowledged)}, stored {len(ledger.stored)},"
        f" processed (checks done + receipt sent) {len(processed)},"
        f" receipt e-mails {sum(ledger.receipt_mails.values())}",
        f"  lost {len(set(acknowledged) - set(ledger.stored))},"
        f" duplicates {len(ledger.duplicates())} {dict(ledger.duplicates()) or ''}".rstrip(),
        f"  outbox {dict(ledger.outbox)}",
        *(f"  {name}: {value}" for name, value in more.items()),
    ]
    text = "\n".join(lines)
    print(text)
    return text


def assert_exactly_once(acknowledged: list[str], ledger: Ledger) -> None:
    """Nothing acknowledged was lost, nothing stored was duplicated or left unprocessed."""
    assert len(acknowledged) == len(set(acknowledged)), "one reference acknowledged twice"
    lost = set(acknowledged) - set(ledger.stored)
    assert not lost, f"acknowledged but not stored: {sorted(lost)}"
    assert not ledger.duplicates(), ledger.duplicates()
    for reference, ident in ledger.stored.items():
        assert ledger.processed(reference), (reference, ledger.jobs.get(("send_receipt", ident)))
        assert ledger.submit_events[ident] == 1, f"{reference}: submit events"
        assert ledger.receipt_keys[reference], f"{reference}: no receipt stored"
        assert ledger.receipt_mails[reference] == 1, f"{reference}: receipt e-mails"
    assert not ledger.failed, ledger.failed
