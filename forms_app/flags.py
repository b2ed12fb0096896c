"""Duplicate and fraud flags (DOMAIN §3.4), raised by the checks job on each submission.

A pair signal (same RID on a form, same IBAN for different applicants, same person on a form)
is raised on both requests, each linking the other. A flag is unique per (submission, kind,
key) and the key names the compared value and the other request, so running the checks again
adds nothing. Drafts, withdrawn and cancelled requests are neither flagged nor compared with.

Two checks of requests sharing a key must not run side by side, or each would miss the
other: on PostgreSQL each takes a transaction-scoped advisory lock per key first; SQLite
already runs one write transaction at a time (BEGIN IMMEDIATE).
"""

import hashlib
from collections.abc import Collection, Iterable

from sqlalchemy import select, text, tuple_
from sqlalchemy.orm import Session

from forms_app import checks
from forms_app.formdefs.banking import format_iban
from forms_app.formdefs.definition import FormDefinition
from forms_app.models import Flag, Submission
from workflows.states import State

SAME_RID = "same_rid"
SAME_IBAN = "same_iban"
SAME_PERSON = "same_person"
HOLDER_NAME = "holder_name"
FOREIGN_BANK = "foreign_bank"
INELIGIBLE = "ineligible"

# Not compared and not flagged: not submitted, or taken back.
IGNORED_STATES = (State.DRAFT.value, State.WITHDRAWN.value, State.CANCELLED.value)
# The most requests one key links a request to (a fraud wave must not make N² flags).
MAX_LINKED = 50
MESSAGE_MAX = 300


def raise_flags(
    session: Session,
    submission: Submission,
    definition: FormDefinition,
    nc_bank_codes: Collection[str],
) -> list[Flag]:
    """Add the flags this request deserves (and their mirror on the other requests)."""
    if submission.state in IGNORED_STATES:
        return []
    _lock(session, _lock_names(submission))
    wanted: list[Flag] = []
    wanted += _same_rid(session, submission)
    wanted += _same_iban(session, submission)
    wanted += _same_person(session, submission)
    wanted += _holder(submission, definition)
    if submission.dup_iban:
        problem = checks.bank_problem(submission.dup_iban, nc_bank_codes)
        if problem:
            wanted.append(_flag(submission, FOREIGN_BANK, submission.dup_iban, problem))
    wanted += _ineligible(submission)
    return _add_missing(session, wanted)


def _others(session: Session, submission: Submission, *where) -> list[Submission]:
    query = (
        select(Submission)
        .where(
            Submission.id != submission.id,
            Submission.state.not_in(IGNORED_STATES),
            Submission.reference.is_not(None),
            *where,
        )
        .order_by(Submission.id)
        .limit(MAX_LINKED)
    )
    return list(session.scalars(query))


def _same_rid(session: Session, submission: Submission) -> list[Flag]:
    rid = submission.dup_rid
    if not rid:
        return []
    others = _others(
        session, submission, Submission.form_id == submission.form_id, Submission.dup_rid == rid
    )
    message = f"Même entreprise (RID {rid}) que la demande {{other}} sur cette démarche."
    return _pairs(submission, others, SAME_RID, rid, message)


def _same_iban(session: Session, submission: Submission) -> list[Flag]:
    iban = submission.dup_iban
    if not iban:
        return []
    others = _others(session, submission, Submission.dup_iban == iban)
    others = [o for o in others if not _same_applicant(submission, o)]
    message = (
        f"Même compte bancaire ({format_iban(iban)}) que la demande {{other}}, "
        "déposée par un autre demandeur ou pour une autre entreprise."
    )
    return _pairs(submission, others, SAME_IBAN, iban, message)


def _same_person(session: Session, submission: Submission) -> list[Flag]:
    identity = submission.dup_identity
    if not identity:
        return []
    others = _others(
        session,
        submission,
        Submission.form_id == submission.form_id,
        Submission.dup_identity == identity,
    )
    message = "Même personne (nom, prénom et date de naissance) que la demande {other}."
    return _pairs(submission, others, SAME_PERSON, _short(identity), message)


def _same_applicant(a: Submission, b: Submission) -> bool:
    """The same company (by RID) or person, else the same e-mail address."""
    if a.dup_rid and b.dup_rid:
        return a.dup_rid == b.dup_rid
    if a.dup_identity and b.dup_identity:
        return a.dup_identity == b.dup_identity
    return (a.applicant_email or "").lower() == (b.applicant_email or "").lower()


def _pairs(
    submission: Submission, others: list[Submission], kind: str, value: str, message: str
) -> list[Flag]:
    """One flag on each side of every pair, each naming and linking the other request."""
    flags = []
    for other in others:
        flags.append(_flag(submission, kind, f"{value}/{other.id}", message, other))
        flags.append(_flag(other, kind, f"{value}/{submission.id}", message, submission))
    return flags


def _holder(submission: Submission, definition: FormDefinition) -> list[Flag]:
    settings, answers = definition.settings, submission.answers or {}
    holder = answers.get(settings.get("account_holder_field"))
    company = answers.get(settings.get("company_name_field"))
    if not (isinstance(holder, str) and isinstance(company, str)):
        return []
    if checks.names_alike(holder, company):
        return []
    message = (
        f"Le titulaire du compte (« {holder[:80]} ») ne correspond pas à la raison sociale "
        f"(« {company[:80]} »)."
    )
    return [_flag(submission, HOLDER_NAME, "holder", message)]


def _ineligible(submission: Submission) -> list[Flag]:
    failed = (submission.rule_results or {}).get("ineligible") or []
    if not failed:
        return []
    reasons = " ; ".join(item.get("message", item.get("key", "")) for item in failed)
    message = f"Inéligible d’après les règles de la version de la démarche : {reasons}"
    return [_flag(submission, INELIGIBLE, "rules", message)]


def _flag(
    submission: Submission,
    kind: str,
    key: str,
    message: str,
    other: Submission | None = None,
) -> Flag:
    if other is not None:
        message = message.replace("{other}", other.reference or "")
    if len(message) > MESSAGE_MAX:
        message = message[: MESSAGE_MAX - 1] + "…"
    return Flag(
        submission_id=submission.id,
        kind=kind,
        key=key[:100],
        message=message,
        other_submission_id=other.id if other is not None else None,
    )


def _add_missing(session: Session, wanted: list[Flag]) -> list[Flag]:
    """Add the flags not recorded yet (one query to find those that are)."""
    if not wanted:
        return []
    triples = {(f.submission_id, f.kind, f.key) for f in wanted}
    existing = set(
        session.execute(
            select(Flag.submission_id, Flag.kind, Flag.key).where(
                tuple_(Flag.submission_id, Flag.kind, Flag.key).in_(list(triples))
            )
        ).all()
    )
    added = []
    for flag in wanted:
        triple = (flag.submission_id, flag.kind, flag.key)
        if triple not in existing:
            existing.add(triple)
            session.add(flag)
            added.append(flag)
    return added


def _short(value: str) -> str:
    """A key short enough for Flag.key: personal values longer than 60 characters are hashed."""
    return value if len(value) <= 60 else hashlib.sha256(value.encode()).hexdigest()[:32]


def _lock_names(submission: Submission) -> list[str]:
    names = [f"submission:{submission.id}"]
    if submission.dup_rid:
        names.append(f"rid:{submission.form_id}:{submission.dup_rid}")
    if submission.dup_iban:
        names.append(f"iban:{submission.dup_iban}")
    if submission.dup_identity:
        names.append(f"identity:{submission.form_id}:{submission.dup_identity}")
    return names


def _lock(session: Session, names: Iterable[str]) -> None:
    """Serialise checks sharing a key, until the transaction ends (PostgreSQL only)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for name in sorted(set(names)):  # one order everywhere: no deadlock
        number = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:n)"), {"n": number})
