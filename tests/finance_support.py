"""Requests that reach the finance end of the chain: an approved request, an issued act."""

from sqlalchemy import select

from forms_app import approvals, casework, payment_acts
from forms_app.db import get_session
from forms_app.models import PaymentAct, Role, Submission, User
from tests.backoffice_support import run
from tests.support import make_user, publish_form, submit_directly

AGENT, APPROVER, FINANCE = "agent@example.nc", "valideur@example.nc", "finances@example.nc"
FINANCE2, ADMIN = "finances2@example.nc", "admin@example.nc"
IBAN = "FR7699999000010001234567809"
FIELDS = [
    {"key": "nom", "type": "text", "label": "Raison sociale", "required": True},
    {"key": "ridet", "type": "ridet", "label": "Numéro RIDET", "required": True},
    {"key": "courriel", "type": "email", "label": "Adresse e-mail", "required": True},
    {"key": "montant", "type": "amount", "label": "Montant sollicité", "required": True},
    {"key": "titulaire", "type": "text", "label": "Titulaire du compte", "required": True},
    {"key": "iban", "type": "iban", "label": "IBAN", "required": True},
    {"key": "bic", "type": "text", "label": "BIC"},
    {"key": "domiciliation", "type": "text", "label": "Domiciliation"},
]
SETTINGS = {
    "reference_prefix": "AIDE",
    "company_name_field": "nom",
    "account_holder_field": "titulaire",
    "budget_envelope": 500_000_000,
    "approval_threshold": 10_000_000,
    "imputation": "Fonctionnement – chapitre 65 – article 6574 – fonction 93",
    "signer_title": "Pour la présidente et par délégation, le directeur de l’Économie",
    "legal_references": [
        "Vu la loi organique modifiée n° 99-209 du 19 mars 1999 relative à la Nouvelle-Calédonie",
        "Vu la délibération modifiée n° 43-2011/APS du 22 décembre 2011",
    ],
    "act_object": "Aide exceptionnelle à la trésorerie – Plan d’urgence COVID-19",
}


def publish_payment_form(app, slug: str = "aide", **settings) -> str:
    return publish_form(
        app,
        FIELDS,
        slug=slug,
        title="Aide exceptionnelle aux entreprises",
        settings={**SETTINGS, **settings},
        rules={"amount": {"expression": "montant", "cap": 50_000_000}},
    )


def staff_users(app) -> None:
    """The agent, approver and finance staff the chain needs (created once)."""
    with app.app_context():
        known = set(get_session().scalars(select(User.email)))
    for email, role in (
        (AGENT, Role.AGENT),
        (APPROVER, Role.APPROVER),
        (FINANCE, Role.FINANCE),
        (FINANCE2, Role.FINANCE),
        (ADMIN, Role.ADMIN),
    ):
        if email not in known:
            make_user(app, role, email=email)


def approved_request(
    app, *, amount: int = 150_000, name: str = "SARL LAGON BLEU TOURS", slug: str = "aide"
) -> str:
    """Submit a request and take it through take / propose / approve; return its reference."""
    staff_users(app)
    answers = {
        "nom": name,
        "ridet": "1234567001",
        "courriel": "gerant@lagon-bleu.nc",
        "montant": amount,
        "titulaire": name,
        "iban": IBAN,
        "bic": "BCADNCNN",
        "domiciliation": "BCI Nouméa",
    }
    reference = submit_directly(app, slug, answers)
    run(app, reference, AGENT, casework.take)
    run(app, reference, AGENT, casework.propose, accept=True, amount=amount)
    run(app, reference, APPROVER, approvals.approve)
    return reference


def issued_act(app, *, render: bool = True, **kwargs) -> int:
    """An approved request whose act is issued (and rendered) in-process; the act's id."""
    reference = approved_request(app, **kwargs)
    with app.test_request_context():
        db = get_session()
        found = db.scalar(select(Submission).where(Submission.reference == reference))
        act = payment_acts.issue_act(db, found.id)
        db.commit()
        if render:
            payment_acts.render_act_pdf(db, act.id)
            db.commit()
        return act.id


def load_act(app, act_id: int) -> PaymentAct:
    with app.app_context():
        return get_session().get(PaymentAct, act_id)
