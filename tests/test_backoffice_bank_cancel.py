"""Changing bank details from the dossier voids the approval; admins cancel a request."""

from sqlalchemy import select

from forms_app.db import get_session
from forms_app.models import Approval, Role
from tests.backoffice_support import ADMIN, AGENT, APPROVER, load, post, staff
from tests.support import publish_form, submit_directly

FIELDS = [
    {"key": "nom", "type": "text", "label": "Raison sociale", "required": True},
    {"key": "courriel", "type": "email", "label": "Adresse e-mail", "required": True},
    {"key": "titulaire_compte", "type": "text", "label": "Titulaire du compte"},
    {"key": "iban", "type": "iban", "label": "IBAN"},
]
IBAN = "FR7699999000010001234567809"
NEW_IBAN = "FR76 9999 8060 6012 3456 7890 148"


def make_request(app) -> str:
    publish_form(app, FIELDS, slug="aide", settings={"reference_prefix": "AIDE"})
    answers = {
        "nom": "SARL Le Lagon Bleu",
        "courriel": "gerant@lagon-bleu.nc",
        "titulaire_compte": "SARL Le Lagon Bleu",
        "iban": IBAN,
    }
    return submit_directly(app, "aide", answers)


def test_new_bank_details_after_approval_void_it(app):
    reference = make_request(app)
    agent = staff(app, AGENT, Role.AGENT)
    approver = staff(app, APPROVER, Role.APPROVER)
    post(agent, reference, "take", load(app, reference).revision)
    post(agent, reference, "propose_accept", load(app, reference).revision, amount="200 000")
    post(approver, reference, "approve", load(app, reference).revision)
    assert load(app, reference).state == "approved"

    page = agent.get(f"/agents/demandes/{reference}").text
    assert "Modifier les coordonnées bancaires" in page
    response = post(
        agent,
        reference,
        "change_bank_details",
        load(app, reference).revision,
        iban=NEW_IBAN,
        holder="SARL Le Lagon Bleu",
    )
    assert response.status_code == 302
    found = load(app, reference)
    assert found.state == "proposed"
    assert found.answers["iban"] == NEW_IBAN.replace(" ", "")
    with app.app_context():
        assert all(a.voided_at is not None for a in get_session().scalars(select(Approval)))
    assert (
        "les validations données sont annulées" in agent.get(f"/agents/demandes/{reference}").text
    )


def test_an_invalid_iban_is_refused_and_changes_nothing(app):
    reference = make_request(app)
    agent = staff(app, AGENT, Role.AGENT)
    post(agent, reference, "take", load(app, reference).revision)
    before = load(app, reference).answers
    response = post(
        agent,
        reference,
        "change_bank_details",
        load(app, reference).revision,
        iban="FR76 1234",
        holder="X",
    )
    assert response.status_code == 400
    assert "IBAN" in response.text
    assert load(app, reference).answers == before


def test_an_admin_cancels_a_request_with_a_reason(app):
    reference = make_request(app)
    agent = staff(app, AGENT, Role.AGENT)
    assert "Annuler la demande" not in agent.get(f"/agents/demandes/{reference}").text
    admin = staff(app, ADMIN, Role.ADMIN)
    refused = post(admin, reference, "cancel", load(app, reference).revision, reason="")
    assert refused.status_code == 400
    response = post(admin, reference, "cancel", load(app, reference).revision, reason="Doublon.")
    assert response.status_code == 302
    assert load(app, reference).state == "cancelled"
    assert "La demande est annulée." in admin.get(f"/agents/demandes/{reference}").text
