"""What the page script adds (reveal, character count, autosave), and the applicant space."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from forms_app import audit, submissions
from forms_app.db import get_session
from forms_app.formdefs import definition as definitions
from forms_app.formdefs import rules
from forms_app.forms_cli import load_demo_forms
from forms_app.models import Form, Message, MessageAuthor
from tests.browser.journeys import (
    AIDE,
    AIDE_TITLE,
    RAPA,
    RAPA_EMAIL,
    RAPA_TITLE,
    choose,
    on_page,
    png,
    start,
)
from tests.browser.support import assert_accessible, body_of, link_in, mails
from tests.support import run_worker_burst

HEALTH_QUESTION = "Vous-même ou une personne de votre groupe avez-vous un problème de santé"
AGENT_MESSAGE = "Bonjour, pouvez-vous nous envoyer une copie de votre billet retour ?"


@pytest.fixture
def demo_forms(app) -> None:
    with app.app_context():
        load_demo_forms()


def test_conditional_field_character_count_and_autosave(app, live_server, demo_forms, page):
    start(page, live_server(f"/demarches/{RAPA}/"), RAPA_TITLE)
    on_page(page, "Identité")
    page.goto(live_server(f"/demarches/{RAPA}/etapes/5"))
    on_page(page, "Santé")
    page.evaluate("() => { window.sameDocument = true; }")  # gone if the page reloads

    details = page.get_by_role("textbox", name="Précisez le problème de santé")
    expect(details).to_be_hidden()
    choose(page, HEALTH_QUESTION, "Oui")
    expect(details).to_be_visible()
    assert page.evaluate("() => window.sameDocument === true"), "the page was reloaded"
    assert_accessible(page)

    # The count of characters left is part of the field's description, and live.
    count = page.locator("#probleme_sante_details-count")
    expect(count).to_have_text("Il vous reste 1000 caractères.")
    expect(count).to_have_attribute("aria-live", "polite")
    expect(details).to_have_accessible_description(re.compile("Il vous reste 1000 caractères"))
    details.press_sequentially("Asthme sévère")
    expect(count).to_have_text("Il vous reste 987 caractères.")
    details.fill("x" * 1001)
    expect(count).to_have_text("Vous avez 1 caractère de trop.")
    details.fill("Asthme sévère, inhalateur quotidien.")
    expect(count).to_have_text("Il vous reste 964 caractères.")

    # Autosave: the draft is saved in the background, then survives a reload.
    status = page.get_by_role("status")
    expect(status).to_have_text(re.compile(r"^Brouillon enregistré à \d\d:\d\d\.$"))
    assert_accessible(page)
    page.reload()
    on_page(page, "Santé")
    expect(page.get_by_role("group", name=HEALTH_QUESTION).get_by_label("Oui")).to_be_checked()
    expect(details).to_be_visible()
    expect(details).to_have_value("Asthme sévère, inhalateur quotidien.")

    # Choosing "Non" hides the question again, without a reload either.
    choose(page, HEALTH_QUESTION, "Non")
    expect(details).to_be_hidden()


def test_a_ticked_checkbox_reveals_its_amount(app, live_server, demo_forms, phone_page: Page):
    page = phone_page
    start(page, live_server(f"/demarches/{AIDE}/"), AIDE_TITLE)
    on_page(page, "Entreprise")
    page.goto(live_server(f"/demarches/{AIDE}/etapes/5"))
    on_page(page, "Aide demandée")
    cash = page.get_by_role("textbox", name="Montant sollicité au titre de la trésorerie")
    staff = page.get_by_role("textbox", name="Montant sollicité au titre du maintien de l'effectif")
    expect(cash).to_be_hidden()
    expect(staff).to_be_hidden()
    question = "Quelle(s) aide(s) demandez-vous ?"
    choose(page, question, "Aide à la trésorerie (jusqu'à 1 500 000 F CFP)")
    expect(cash).to_be_visible()
    expect(staff).to_be_hidden()
    page.get_by_role("group", name=question).get_by_label(
        "Aide exceptionnelle au maintien", exact=False
    ).check()
    expect(staff).to_be_visible()
    expect(
        page.get_by_role("textbox", name="Masse salariale mensuelle", exact=False)
    ).to_be_visible()
    assert_accessible(page)
    counted = page.get_by_role("textbox", name="Décrivez brièvement les difficultés", exact=False)
    counted.press_sequentially("Stock perdu")
    expect(page.locator("#description_difficultes-count")).to_have_text(
        "Il vous reste 1489 caractères."
    )


# --- The applicant space, on a phone --------------------------------------------------------


def submitted_registration(app) -> str:
    """A repatriation registration submitted through the real code path, with a message from
    the services waiting in its thread; return its reference."""
    answers = {
        "civilite": "madame", "nom_naissance": "Martin", "prenoms": "Léa Marie",
        "date_naissance": "1994-06-12", "lieu_naissance": "Nouméa", "nationalite": "Française",
        "numero_passeport": "19AB12345", "passeport_expiration": "2027-05-01",
        "province_residence": "sud", "commune_residence": "noumea",
        "residence_depuis": "1994-06-12", "pays_sejour": "AU", "ville_sejour": "Sydney",
        "billet_retour": False, "demande_aide": False, "accompagne": False,
        "telephone_etranger": "+61412345678", "email": RAPA_EMAIL,
        "attestation_honneur": True, "consentement_partage": True,
    }  # fmt: skip
    with app.app_context():
        db = get_session()
        form = db.scalar(select(Form).where(Form.slug == RAPA))
        version = form.current_version
        definition = definitions.of_version(version)
        results = rules.evaluate(definition, answers)
        found = submissions.submit(db, form, version, definition, answers, results)
        db.flush()
        message = Message(submission=found, author=MessageAuthor.AGENT, body=AGENT_MESSAGE)
        db.add(message)
        db.flush()
        audit.record(db, found, "message", None, author="agent", message_id=message.id)
        db.commit()
        return found.reference


def test_applicant_space_on_a_phone(app, live_server, demo_forms, phone_page: Page):
    page = phone_page
    reference = submitted_registration(app)

    page.goto(live_server("/mon-espace/connexion"))
    on_page(page, "Suivre mes demandes")
    page.get_by_role("textbox", name="Adresse e-mail").fill("Lea.Martin@exemple.nc ")
    page.get_by_role("button", name="Recevoir un lien").click()
    on_page(page, "Vérifiez votre messagerie")

    run_worker_burst(app)
    [message] = [m for m in mails(app) if "suivre vos demandes" in m["Subject"]]
    assert message["To"] == RAPA_EMAIL
    page.goto(link_in(body_of(message), "/mon-espace/acces/"))

    on_page(page, "Mes demandes")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=reference))
    expect(row).to_contain_text(RAPA_TITLE)
    expect(row.get_by_role("cell").nth(2)).to_have_text("Déposée")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger mes données").click()
    assert re.fullmatch(r"mes-donnees-guichet-[\d-]{10}\.zip", download.value.suggested_filename)

    row.get_by_role("link", name=reference).click()
    on_page(page, f"Demande {reference}")
    expect(page.locator(".summary-list__row", has_text="État")).to_contain_text("Déposée")
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Demande déposée")
    expect(timeline).to_contain_text("Message de l’administration")
    thread = page.locator(".thread")
    expect(thread.get_by_role("listitem")).to_have_count(1)
    expect(thread).to_contain_text("L’administration")
    expect(thread).to_contain_text(AGENT_MESSAGE)
    expect(page.locator(".summary-list__row", has_text="Numéro de passeport")).to_contain_text(
        "19AB12345"
    )

    # An empty reply is refused, with the error summary; then a reply with a photo.
    send = page.get_by_role("button", name="Envoyer le message")
    send.click()
    on_page(page, f"Demande {reference}")
    expect(page).to_have_title(re.compile("^Erreur"))
    summary = page.get_by_role("alert").filter(has_text="Il y a un problème")
    expect(summary).to_contain_text("Écrivez votre message.")

    reply = page.get_by_role("textbox", name="Votre message")
    reply.fill("Bonjour,\nvoici la photo de mon billet retour Aircalin.")
    page.get_by_label("Joindre un fichier (facultatif)").set_input_files(png("billet.png"))
    send.click()

    on_page(page, f"Demande {reference}")
    expect(page.get_by_text("Votre message a été envoyé.")).to_be_visible()
    expect(thread.get_by_role("listitem")).to_have_count(2)
    mine = thread.get_by_role("listitem").nth(1)
    expect(mine).to_contain_text("Vous")
    expect(mine).to_contain_text("voici la photo de mon billet retour Aircalin.")
    expect(mine.get_by_role("link", name="billet.png")).to_be_visible()
    expect(timeline).to_contain_text("Message envoyé")
