"""What a payment act says, taken from the request when the act is issued (DOMAIN §6.2).

The act keeps this snapshot: later changes to the request, the form or the configuration do
not change an issued act. `printed` is what its documents (the mandat, the arrêté) are
rendered with. Names come from the form's settings (company_name_field,
identity_fields, account_holder_field); the rest from the first field of the right type.
"""

import hashlib
import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from forms_app import approvals
from forms_app.amount_words import amount_in_words
from forms_app.formdefs import banking, nc
from forms_app.formdefs import definition as definitions
from forms_app.formdefs.definition import FormDefinition
from forms_app.formdefs.display import display
from forms_app.models import Event, PaymentAct, Submission
from workflows.states import Action

NOUMEA = ZoneInfo("Pacific/Noumea")
BIC_KEYS = ("bic", "aide_bic")
BANK_NAME_KEYS = ("domiciliation", "aide_domiciliation")
DEFAULT_OBJECT = "Aide exceptionnelle – {title}"
DEFAULT_PIECES = ("Décision attributive", "Relevé d’identité bancaire (RIB)")


def pays_anything(submission: Submission) -> bool:
    """Whether an approved request leads to a payment: an amount above zero and an IBAN."""
    amount = submission.approved_amount
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        return False
    keys = approvals.bank_fields(definitions.of_version(submission.form_version))
    return keys is not None and bool(str(submission.answers.get(keys[0]) or "").strip())


def fingerprint(act: PaymentAct) -> str:
    """SHA-256 of what the act says (number, amount, snapshot), printed on its PDF."""
    content = {
        "number": act.number,
        "budget_code": act.budget_code,
        "amount": act.amount,
        "beneficiary": act.beneficiary,
        "bank": act.bank,
        "details": act.details,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def printed(act: PaymentAct) -> dict[str, Any]:
    """What the act's PDF templates get: the act, its amount as written, date, fingerprint."""
    figures = nc.format_xpf(act.amount).split(nc.NBSP)[0]
    words, currency = re.fullmatch(
        r"(.*?) ((?:de )?francs CFP)", act.details["montant_lettres"]
    ).groups()
    return {
        "act": act,
        "amount": nc.format_xpf(act.amount),
        "amount_sentence": f"{words} ({figures}) {currency}",  # cent mille (100 000) francs CFP
        "created": act.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),  # fixed: the same bytes again
        "fingerprint": fingerprint(act),
    }


def budget_label(definition: FormDefinition) -> str:
    return definition.settings.get("budget") or current_app.config["DEFAULT_BUDGET"]


def take(session: Session, submission: Submission, now: datetime) -> dict[str, Any]:
    """The act's beneficiary, bank and details for `submission`, issued at `now` (UTC)."""
    definition = definitions.of_version(submission.form_version)
    settings = definition.settings
    answers = submission.answers
    iban_key, holder_key = approvals.bank_fields(definition)
    local = now.astimezone(NOUMEA)
    approved_on, approved_by = _approval(session, submission)
    amount = submission.approved_amount
    ridet = _first(definition, answers, "ridet")
    beneficiary = {
        "name": _beneficiary_name(definition, answers) or str(answers.get(holder_key) or ""),
        "ridet": nc.format_ridet(ridet) if ridet else None,
        "address": _address(definition, answers),
        "email": submission.applicant_email,
    }
    bank = {
        "holder": str(answers.get(holder_key) or ""),
        "iban": banking.normalize_iban(str(answers.get(iban_key) or "")).value,
        "bic": _text(answers, settings.get("bic_field"), *BIC_KEYS),
        "domiciliation": _text(answers, settings.get("bank_name_field"), *BANK_NAME_KEYS),
    }
    pieces = list(settings.get("act_pieces") or DEFAULT_PIECES)
    if ridet and not settings.get("act_pieces"):
        pieces.append("Avis de situation au RIDET")
    details = {
        "collectivite": current_app.config["COLLECTIVITE"],
        "budget": budget_label(definition),
        "exercice": local.year,
        "comptable": current_app.config["PAYING_ACCOUNTANT"],
        "service": settings.get("service") or current_app.config["ORGANISATION_NAME"],
        "dossier_no": submission.reference,
        "form_title": definition.title,
        "objet": settings.get("act_object") or DEFAULT_OBJECT.format(title=definition.title),
        "date_demande": _local_date(submission.submitted_at or now),
        "date_decision": approved_on,
        "decision_ref": (
            f"Décision d’attribution du {approved_on} (dossier {submission.reference})"
        ),
        "visas": list(settings.get("legal_references") or []),
        "imputation": settings.get("imputation") or "",
        "montant_lettres": amount_in_words(amount),
        "mode_reglement": "Virement",
        "pieces": pieces,
        "service_fait": f"{approved_on} – {approved_by}" if approved_by else approved_on,
        "date_emission": local.strftime("%d/%m/%Y"),
        "signataire": settings.get("signer_title") or "",
    }
    return {"beneficiary": beneficiary, "bank": bank, "details": details}


def _local_date(moment: datetime) -> str:
    return moment.astimezone(NOUMEA).strftime("%d/%m/%Y")


def _approval(session: Session, submission: Submission) -> tuple[str, str | None]:
    """The local date of the approval and the deciding approver's name."""
    event = session.scalars(
        select(Event)
        .where(
            Event.subject_type == "submission",
            Event.subject_id == submission.id,
            Event.action == Action.APPROVE.value,
        )
        .order_by(Event.id.desc())
    ).first()
    if event is None:
        return datetime.now(NOUMEA).strftime("%d/%m/%Y"), None
    name = event.actor.name if event.actor is not None else None
    return event.created_at.astimezone(NOUMEA).strftime("%d/%m/%Y"), name


def _beneficiary_name(definition: FormDefinition, answers: dict[str, Any]) -> str | None:
    settings = definition.settings
    company = answers.get(settings.get("company_name_field") or "")
    if company:
        return str(company).strip()
    names = settings.get("identity_fields") or {}
    last = str(answers.get(names.get("last_name") or "") or "").strip().upper()
    first = str(answers.get(names.get("first_names") or "") or "").strip()
    return " ".join(part for part in (last, first) if part) or None


def _first(definition: FormDefinition, answers: dict[str, Any], kind: str) -> Any:
    for fdef in definition.answer_fields():
        if fdef.type == kind and answers.get(fdef.key) not in (None, "", []):
            return answers[fdef.key]
    return None


def _address(definition: FormDefinition, answers: dict[str, Any]) -> str | None:
    """The first postal address answered (it has its town), else the first commune."""
    for kind in ("address", "commune"):
        for fdef in definition.answer_fields():
            if fdef.type == kind and answers.get(fdef.key) not in (None, "", []):
                return str(display(fdef, answers[fdef.key]))
    return None


def _text(answers: dict[str, Any], *keys: str | None) -> str | None:
    for key in keys:
        if key and answers.get(key):
            return str(answers[key]).strip()
    return None
