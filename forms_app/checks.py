"""The checks run on each submission: the rules again, duplicate keys, name and bank rules.

`check_submission` is what the "check_submission" job runs (see `flags.py` for the flags it
raises). Everything else here is pure: how answers become the keys the duplicate checks
compare (the 7-digit RID, the IBAN, the person), whether an account holder's name looks like
the company's, whether an IBAN belongs to a New Caledonian bank.
"""

import re
import unicodedata
from collections.abc import Collection
from difflib import SequenceMatcher
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from forms_app import search
from forms_app.formdefs import definition as definitions
from forms_app.formdefs import rules
from forms_app.formdefs.definition import FormDefinition
from forms_app.models import Flag, Submission

# Under this similarity (difflib ratio, 0–1) the account holder is "unlike" the company.
HOLDER_MIN_RATIO = 0.8
# Words that say what kind of company it is, not which one: left out before comparing.
LEGAL_FORMS = frozenset(
    {"sarl", "sarlu", "sas", "sasu", "sa", "snc", "scs", "sca", "eurl", "ei", "eirl", "sci",
     "scp", "scop", "scm", "scea", "gie", "gaec", "sem", "selarl", "selas", "spa", "association",
     "asso", "ste", "societe", "cie", "compagnie", "ets", "etablissement", "etablissements",
     "patente", "entreprise", "individuelle"}
)  # fmt: skip
# Little words of French names, left out too ("Boulangerie de l'Anse" ≈ "Boulangerie Anse").
STOP_WORDS = frozenset({"de", "du", "des", "la", "le", "les", "l", "d", "et", "en", "au", "aux"})
FR_NC = ("FR", "NC")

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower-case, accent-free words separated by single spaces; punctuation is a space."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return _NOT_WORD.sub(" ", bare.replace("œ", "oe").replace("æ", "ae")).strip()


def rid_of(value: Any) -> str | None:
    """The 7-digit RID (the company) of a RIDET answer, whatever its punctuation."""
    digits = re.sub(r"\D", "", value) if isinstance(value, str) else ""
    return digits[:7] if len(digits) in (7, 10) else None


def iban_of(value: Any) -> str | None:
    """An IBAN answer compact and upper-case (answers are stored normalised already)."""
    compact = re.sub(r"[\s-]", "", value).upper() if isinstance(value, str) else ""
    return compact if re.fullmatch(r"[A-Z]{2}[0-9]{2}[0-9A-Z]{8,30}", compact) else None


def first_given_name(text: str) -> str:
    """The first given name, hyphenated names kept whole: "Marie-Claire Anne" → marieclaire."""
    words = unicodedata.normalize("NFKD", text or "").split()
    return fold(words[0]).replace(" ", "") if words else ""


def identity_of(definition: FormDefinition, answers: dict[str, Any]) -> str | None:
    """`birth name|first given name|birth date` from the fields settings.identity_fields names."""
    names = definition.settings.get("identity_fields")
    if not names:
        return None
    last = fold(answers.get(names["last_name"]) or "")
    first = first_given_name(answers.get(names["first_names"]) or "")
    born = answers.get(names["birth_date"])
    if not (last and first and isinstance(born, str)):
        return None
    return f"{last}|{first}|{born}"[:200]


def company_words(name: str) -> str:
    """A company name without accents, case, punctuation, legal forms or little words."""
    return " ".join(w for w in fold(name).split() if w not in LEGAL_FORMS | STOP_WORDS)


def names_alike(holder: str, company: str) -> bool:
    """Whether an account holder's name is the company's, allowing order, forms and typos."""
    a, b = company_words(holder), company_words(company)
    if not a or not b:
        return True  # nothing left to compare ("SARL"): an agent reads the names anyway
    ratio = max(
        SequenceMatcher(None, a, b).ratio(),
        SequenceMatcher(None, " ".join(sorted(a.split())), " ".join(sorted(b.split()))).ratio(),
    )
    if ratio >= HOLDER_MIN_RATIO:
        return True
    shorter, longer = sorted((a.split(), b.split()), key=len)
    return len(shorter) >= 2 and set(shorter) <= set(longer)


def bank_problem(iban: str, nc_bank_codes: Collection[str]) -> str | None:
    """Why an IBAN is not a New Caledonian account (French message), or None if it is."""
    country, bank = iban[:2], iban[4:9]
    if country not in FR_NC:
        return f"Compte bancaire ouvert hors de France et de Nouvelle-Calédonie (IBAN {country})."
    if bank not in nc_bank_codes:
        return (
            f"Compte bancaire hors Nouvelle-Calédonie : le code banque {bank} n’est pas celui "
            "d’une banque calédonienne."
        )
    return None


def first_answer(definition: FormDefinition, answers: dict[str, Any], field_type: str) -> Any:
    """The answer to the first answered top-level field of this type."""
    for fdef in definition.answer_fields():
        if fdef.type == field_type and answers.get(fdef.key):
            return answers[fdef.key]
    return None


def recompute(submission: Submission, definition: FormDefinition) -> None:
    """Evaluate the rules again on the stored answers, with the version the request pinned.

    Answers are stored as the field types parsed them (ISO dates, integer XPF, compact IBAN),
    which is what `rules.evaluate` reads. The notes left at submission are kept.
    """
    results = rules.evaluate(definition, submission.answers or {})
    results.notes = (submission.rule_results or {}).get("notes") or {}
    fresh = results.to_json()
    if fresh != submission.rule_results:
        submission.rule_results = fresh
    submission.computed_amount = results.amount
    submission.priority = results.priority


def fill_keys(submission: Submission, definition: FormDefinition) -> None:
    """Set the normalised keys the duplicate checks compare, and the inbox search text."""
    answers = submission.answers or {}
    submission.dup_rid = rid_of(first_answer(definition, answers, "ridet"))
    submission.dup_iban = iban_of(first_answer(definition, answers, "iban"))
    submission.dup_identity = identity_of(definition, answers)
    submission.search_text = search.search_text(
        definition, answers, submission.reference, submission.applicant_email
    )


def check_submission(session: Session, submission: Submission) -> list[Flag]:
    """Recompute, fill the duplicate keys, raise the flags; return the flags added. No commit.

    Idempotent: a second run finds the same values and adds no flag.
    """
    from forms_app import flags

    version = submission.form_version
    definition = definitions.of_version(version)
    recompute(submission, definition)
    fill_keys(submission, definition)
    session.flush()
    return flags.raise_flags(session, submission, definition, current_app.config["NC_BANK_CODES"])
