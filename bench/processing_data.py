"""The processing benchmark's data: the demo aid form, its staff, N submitted requests.

Requests are submitted through the domain code the public pages use
(`submissions.submit`), so each queues its receipt and its checks in the outbox exactly as in
production; casework (take, propose) goes through `casework` too. Each request has its own
company, RIDET, e-mail and (valid) IBAN, so the duplicate checks find nothing to link.
"""

import json
import time

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from forms_app import casework, submissions
from forms_app.accounts import create_user
from forms_app.db import utcnow
from forms_app.formdefs import definition as definitions
from forms_app.formdefs import rules
from forms_app.forms_cli import DEMO_FORMS_DIR
from forms_app.models import Form, Role, Submission, User
from forms_app.publishing import create_form, publish

PASSWORD = "bench-password-123"  # noqa: S105 (a throw-away database)
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 (a throw-away account)
AGENT, APPROVER, FINANCE = "agent@example.nc", "valideur@example.nc", "finances@example.nc"
BATCH = 200
ANSWERS = {
    "forme_juridique": "sarl",
    "code_ape": "79.11Z",
    "date_creation": "2014-05-02",
    "commune_siege": "noumea",
    "siege_activite_sud": True,
    "civilite": "monsieur",
    "dirigeant_nom": "Dupuis",
    "dirigeant_prenom": "Paul",
    "dirigeant_qualite": "gerant",
    "telephone": "+687751234",
    "secteur": "agence_voyages",
    "effectif": 1,
    "fermeture_administrative": False,
    "ca_ref": 2_400_000,
    "ca_crise": 600_000,
    "ca_dernier_exercice": 27_500_000,
    "types_aide": ["tresorerie"],
    "montant_tresorerie": 1_000_000,
    "fonds_solidarite": False,
    "chomage_partiel": False,
    "pge": False,
    "prime_exceptionnelle": False,
    "bic": "BCADNCNN",
    "domiciliation": "BCI Nouméa",
    "decl_exactitude": True,
    "decl_obligations": True,
    "decl_procedure_collective": True,
    "decl_controles": True,
    "decl_donnees": True,
}


def iban(i: int) -> str:
    """A valid New Caledonian-style IBAN (bank 99999), different for each `i`."""
    bank, branch, account = "99999", "00001", f"{i:011d}"
    rib_key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
    bban = f"{bank}{branch}{account}{rib_key:02d}"
    check = 98 - int(bban + "152700") % 97  # F=15, R=27, then "00"
    return f"FR{check:02d}{bban}"


def answers(i: int) -> dict:
    name = f"SARL ENTREPRISE {i:05d}"
    return {
        **ANSWERS,
        "raison_sociale": name,
        "ridet": f"{1_000_000 + i:07d}001",
        "adresse_siege": {"street": f"{i} rue de Sébastopol", "postal_code": "98800",
                          "city": "Nouméa"},
        "email": f"gerant{i}@entreprise{i}.nc",
        "titulaire_compte": name,
        "iban": iban(i),
    }  # fmt: skip


def setup(session, count: int) -> Form:
    """Publish the demo aid form (its envelope widened to fund `count` requests) and staff."""
    data = json.loads((DEMO_FORMS_DIR / "aide-entreprises.json").read_text(encoding="utf-8"))
    data["settings"]["budget_envelope"] = 1_000_000 * max(count, 1000)
    form = create_form(session, data, None)
    publish(session, form, None)
    for email, role in ((AGENT, Role.AGENT), (APPROVER, Role.APPROVER), (FINANCE, Role.FINANCE)):
        create_user(session, email=email, name=email.split("@")[0].title(), password=PASSWORD,
                    roles=[role])  # fmt: skip
    finance = user(session, FINANCE)
    finance.totp_secret, finance.totp_enrolled_at = TOTP_SECRET, utcnow()
    session.commit()
    return form


def user(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


def totp_code() -> str:
    return pyotp.TOTP(TOTP_SECRET).now()


def submit_requests(session, form_id: int, count: int) -> float:
    """Submit `count` requests, committing every BATCH; their outbox rows stay pending.

    The rows are not pushed at commit (as if Redis had been away): the workers' dispatchers
    push them once the workers run, so the timed phase starts with every job waiting.
    Returns the seconds it took.
    """
    started = time.perf_counter()
    form = session.get(Form, form_id)
    version = form.current_version
    definition = definitions.of_version(version)
    for i in range(1, count + 1):
        given = answers(i)
        results = rules.evaluate(definition, given)
        submissions.submit(session, form, version, definition, given, results)
        if i % BATCH == 0 or i == count:
            session.info.clear()  # no push at commit: the rows stay pending
            session.commit()
    return time.perf_counter() - started


def propose_all(session) -> tuple[int, float]:
    """Take and propose (accept, the computed amount) every submitted request, by batches."""
    started = time.perf_counter()
    agent = user(session, AGENT)
    ids = list(session.scalars(select(Submission.id).where(Submission.state == "submitted")))
    for first in range(0, len(ids), BATCH):
        chunk = ids[first : first + BATCH]
        for submission in _load(session, chunk):
            casework.take(session, submission, agent, submission.revision)
            casework.propose(session, submission, agent, submission.revision, accept=True)
        session.commit()
    return len(ids), time.perf_counter() - started


def approve_all(session, batch: int) -> tuple[int, int]:
    """Approve every proposal with `approvals.batch_approve`, `batch` at a time (as the
    validation page posts them), committing each batch; (approved, refused)."""
    approver = user(session, APPROVER)
    ids = list(session.scalars(select(Submission.id).where(Submission.state == "proposed")))
    approved = refused = 0
    for first in range(0, len(ids), batch):
        items = [(s, s.revision) for s in _load(session, ids[first : first + batch])]
        results = casework.batch_approve(session, items, approver)
        session.commit()
        refused += sum(1 for _reference, error in results if error)
        approved += sum(1 for _reference, error in results if error is None)
    return approved, refused


def _load(session, ids: list[int]) -> list[Submission]:
    query = select(Submission).where(Submission.id.in_(ids)).order_by(Submission.id)
    return list(session.scalars(query.options(selectinload(Submission.form))))


def receipts_done(session) -> int:
    return session.scalar(select(func.count()).where(Submission.receipt_key.is_not(None)))
