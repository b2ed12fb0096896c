"""The portal, the staff sign-in and the development mail page, in a real browser."""

import re

from playwright.sync_api import Page, expect

from forms_app import mail
from forms_app.forms_cli import load_demo_forms
from forms_app.models import Role
from tests.browser.support import assert_accessible, body_of, link_in, mails
from tests.support import PASSWORD, make_user


def test_portal_lists_the_demo_forms(app, live_server, any_page: Page):
    with app.app_context():
        load_demo_forms()
    any_page.goto(live_server("/"))
    expect(any_page).to_have_title(re.compile("Démarches en ligne"))
    expect(any_page.get_by_role("heading", level=1)).to_have_text("Démarches en ligne")
    expect(any_page.get_by_role("link", name=re.compile("^Aide exceptionnelle"))).to_be_visible()
    stranded = any_page.get_by_role("link", name=re.compile("^Signalement – résident"))
    expect(stranded).to_be_visible()
    assert_accessible(any_page)

    stranded.click()
    expect(any_page).to_have_url(live_server("/demarches/signalement-rapatriement/"))
    expect(any_page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(any_page)


def test_staff_sign_in(app, live_server, any_page: Page):
    make_user(app, Role.AGENT, email="agent@example.nc")
    any_page.goto(live_server("/agents/connexion"))
    expect(any_page.get_by_role("heading", level=1)).to_have_text("Connexion à l’espace agents")
    assert_accessible(any_page)

    any_page.get_by_label("Adresse e-mail").press_sequentially("agent@example.nc")
    any_page.get_by_label("Mot de passe").press_sequentially(PASSWORD)
    any_page.get_by_role("button", name="Se connecter").click()

    expect(any_page.get_by_role("heading", level=1)).to_have_text("Bonjour Test User")
    expect(any_page).to_have_url(live_server("/agents/"))
    assert_accessible(any_page)


def test_sign_in_errors_are_announced(app, live_server, page: Page):
    make_user(app, Role.AGENT, email="agent@example.nc")
    page.goto(live_server("/agents/connexion"))
    page.get_by_label("Adresse e-mail").press_sequentially("agent@example.nc")
    page.get_by_label("Mot de passe").press_sequentially("pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_title(re.compile("^Erreur"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à l’espace agents")
    assert_accessible(page)


def test_csrf_is_enforced_on_the_live_app(app, live_server, page: Page):
    make_user(app, Role.AGENT, email="agent@example.nc")
    response = page.request.post(
        live_server("/agents/connexion"),
        form={"email": "agent@example.nc", "password": PASSWORD},
    )
    assert response.status == 400


def test_dev_mail_page_shows_a_sent_mail(app, live_server, any_page: Page):
    body = "Bonjour,\n\nReprenez votre demande : https://guichet.example.nc/reprendre/abc123.\n"
    with app.app_context():
        mail.send(
            mail.build(
                "demandeur@example.nc",
                "Votre brouillon",
                body,
                attachments=[("recu.pdf", "application/pdf", b"%PDF-1.7 essai")],
            )
        )
    [message] = mails(app)
    link = link_in(body_of(message), "/reprendre/")
    assert link == "https://guichet.example.nc/reprendre/abc123"

    any_page.goto(live_server("/dev/courriels/"))
    expect(any_page.get_by_role("heading", level=1)).to_have_text("Courriels envoyés")
    expect(any_page.get_by_role("cell", name="demandeur@example.nc")).to_be_visible()
    assert_accessible(any_page)

    any_page.get_by_role("link", name="Votre brouillon").click()
    expect(any_page.get_by_role("heading", level=1)).to_have_text("Votre brouillon")
    expect(any_page.get_by_role("link", name=link)).to_have_attribute("href", link)
    with any_page.expect_download() as download:
        any_page.get_by_role("link", name="recu.pdf").click()
    assert download.value.suggested_filename == "recu.pdf"
    assert_accessible(any_page)
