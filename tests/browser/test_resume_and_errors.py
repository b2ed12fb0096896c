"""Drafts resumed on another device, validation errors corrected, wrong files refused."""

import re

import pytest
from playwright.sync_api import Page, expect

from forms_app.forms_cli import load_demo_forms
from tests.browser.journeys import (
    AIDE,
    AIDE_TITLE,
    PDF,
    RAPA,
    RAPA_EMAIL,
    RAPA_STEPS,
    RAPA_TITLE,
    expect_rapa_answers,
    fill_pages,
    go_on,
    on_page,
    pdf,
    png,
    rapa_identity,
    start,
    submit_from_check_page,
)
from tests.browser.support import assert_accessible, body_of, link_in, mails
from tests.support import latest_submission, run_worker_burst


@pytest.fixture
def demo_forms(app) -> None:
    with app.app_context():
        load_demo_forms()


def test_a_draft_is_resumed_on_another_device(
    app, live_server, demo_forms, page: Page, phone_page: Page
):
    # On the computer: the first page, then "save and finish later".
    start(page, live_server(f"/demarches/{RAPA}/"), RAPA_TITLE)
    on_page(page, "Identité")
    rapa_identity(page)
    page.get_by_role("textbox", name="Nom d'usage (facultatif)").fill("Martin-Wayenece")
    page.get_by_role("button", name="Enregistrer et finir plus tard").click()

    on_page(page, "Vos réponses sont enregistrées")
    email = page.get_by_role("textbox", name="Adresse e-mail")
    email.fill("lea.martin@")  # not an address yet: the page says so
    page.get_by_role("button", name="Recevoir le lien").click()
    summary = page.get_by_role("alert").filter(has_text="Il y a un problème")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Saisissez une adresse e-mail valide")
    assert_accessible(page)
    summary.get_by_role("link").click()
    expect(email).to_be_focused()
    email.fill(RAPA_EMAIL)
    page.get_by_role("button", name="Recevoir le lien").click()

    on_page(page, "Lien envoyé")
    expect(page.get_by_text(f"Nous avons envoyé un lien à {RAPA_EMAIL}")).to_be_visible()

    # The e-mail goes out through the outbox and a real worker.
    run_worker_burst(app)
    [message] = [m for m in mails(app) if m["To"] == RAPA_EMAIL]
    link = link_in(body_of(message), f"/demarches/{RAPA}/reprendre/")
    assert link.startswith(live_server.url)

    # On the phone (another browser context): the draft is there, at the next page.
    phone_page.goto(link)
    on_page(phone_page, "Résidence en Nouvelle-Calédonie")
    expect(phone_page.get_by_text("Votre brouillon est retrouvé")).to_be_visible()
    phone_page.get_by_role("link", name="Retour").click()
    on_page(phone_page, "Identité")
    expect(phone_page.get_by_label("Madame", exact=True)).to_be_checked()
    expect(phone_page.get_by_role("textbox", name="Nom de naissance")).to_have_value("Martin")
    expect(phone_page.get_by_role("textbox", name="Nom d'usage (facultatif)")).to_have_value(
        "Martin-Wayenece"
    )
    expect(phone_page.get_by_label("Date de naissance")).to_have_value("1994-06-12")
    expect(phone_page.get_by_role("textbox", name="Numéro de passeport")).to_have_value("19AB12345")
    go_on(phone_page)
    fill_pages(phone_page, RAPA_STEPS[1:])
    expect_rapa_answers(phone_page)
    reference = submit_from_check_page(phone_page, "RAPA")

    submission = latest_submission(app)
    assert submission.reference == reference
    assert submission.answers["nom_usage"] == "Martin-Wayenece"


def test_a_page_error_is_announced_then_corrected(app, live_server, demo_forms, any_page: Page):
    page = any_page
    start(page, live_server(f"/demarches/{RAPA}/"), RAPA_TITLE)
    on_page(page, "Identité")
    go_on(page)  # nothing answered yet

    summary = page.get_by_role("alert").filter(has_text="Il y a un problème")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(7)
    assert_accessible(page)
    # A question answered with radios: its link leads to the first choice.
    summary.get_by_role("link", name="Choisissez une réponse pour « Civilité ».").click()
    expect(page.get_by_role("radio", name="Madame")).to_be_focused()

    rapa_identity(page)
    birth_name = page.get_by_role("textbox", name="Nom de naissance")
    passport = page.get_by_role("textbox", name="Numéro de passeport")
    birth_name.fill("")
    passport.fill("19-AB-123")
    go_on(page)

    expect(page).to_have_title(re.compile("^Erreur"))
    summary = page.get_by_role("alert").filter(has_text="Il y a un problème")
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    expect(links).to_have_count(2)
    expect(links.nth(1)).to_have_text(
        "Saisissez le numéro de passeport sans espace ni tiret (5 à 15 lettres ou chiffres)."
    )
    # Each message is also next to its field, which says it is invalid.
    expect(birth_name).to_have_attribute("aria-invalid", "true")
    expect(passport).to_have_attribute("aria-invalid", "true")
    expect(passport).to_have_accessible_description(re.compile("sans espace ni tiret"))
    assert_accessible(page)

    links.first.click()
    expect(birth_name).to_be_focused()
    birth_name.fill("Martin")
    links.nth(1).click()
    expect(passport).to_be_focused()
    expect(passport).to_have_value("19-AB-123")  # what was typed is kept
    passport.fill("19AB12345")
    go_on(page)

    on_page(page, "Résidence en Nouvelle-Calédonie")
    expect(page.get_by_role("alert")).to_have_count(0)
    page.get_by_role("link", name="Retour").click()
    expect(page.get_by_role("textbox", name="Nom de naissance")).to_have_value("Martin")


def test_a_wrong_file_type_is_refused_then_replaced(app, live_server, demo_forms, any_page: Page):
    page = any_page
    start(page, live_server(f"/demarches/{AIDE}/"), AIDE_TITLE)
    on_page(page, "Entreprise")
    page.goto(live_server(f"/demarches/{AIDE}/etapes/8"))
    on_page(page, "Pièces justificatives")

    text_file = {"name": "avis-ridet.pdf", "mimeType": "application/pdf", "buffer": b"Avis RIDET"}
    program = {
        "name": "rib.pdf",
        "mimeType": "application/pdf",
        "buffer": b"MZ\x90\x00\x03" + bytes(59) + b"PE\x00\x00" + bytes(200),
    }
    page.get_by_label("Avis de situation au RIDET").set_input_files(text_file)
    page.get_by_label("RIB au nom de l'entreprise").set_input_files(program)
    page.get_by_label("Pièce d'identité du dirigeant").set_input_files(png("identite.png"))
    page.get_by_label("Justificatifs du chiffre d'affaires").set_input_files(pdf("tgc.pdf"))
    go_on(page)

    expect(page).to_have_title(re.compile("^Erreur"))
    summary = page.get_by_role("alert").filter(has_text="Il y a un problème")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text(
        "Le fichier « avis-ridet.pdf » doit être au format PDF, JPEG, PNG."
    )
    expect(summary).to_contain_text("Le fichier « rib.pdf » doit être au format PDF, JPEG, PNG.")
    ridet = page.get_by_label("Avis de situation au RIDET")
    expect(ridet).to_have_accessible_description(re.compile("doit être au format"))
    # The good files are kept: no need to choose them again.
    expect(page.get_by_text("identite.png")).to_be_visible()
    expect(page.get_by_text("tgc.pdf")).to_be_visible()
    assert_accessible(page)

    ridet.set_input_files({"name": "avis-ridet.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.get_by_label("RIB au nom de l'entreprise").set_input_files(png("rib.png"))
    go_on(page)

    on_page(page, "Attestation sur l'honneur")
    page.get_by_role("link", name="Retour").click()
    on_page(page, "Pièces justificatives")
    for name in ("avis-ridet.pdf", "rib.png", "identite.png", "tgc.pdf"):
        expect(page.get_by_role("listitem").filter(has_text=name)).to_be_visible()
