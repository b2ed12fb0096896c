"""Operating through trouble in a real browser: a banner goes up, the public reports a problem,
managers read the dashboards and the incident timeline — every page accessible."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from forms_app.db import get_session
from forms_app.forms_cli import load_demo_forms
from forms_app.models import ProblemReport, Role
from tests.browser.journeys import RAPA, RAPA_TITLE, start
from tests.browser.support import assert_accessible
from tests.support import PASSWORD, fresh_code, make_user

OUTAGE = "Le dépôt des pièces jointes est perturbé ; vos brouillons sont conservés."


@pytest.fixture
def demo_forms(app) -> None:
    with app.app_context():
        load_demo_forms()


def sign_in(app, page: Page, live_server, email: str) -> None:
    """Sign in as a person does: the password, then the code of the authenticator app."""
    page.goto(live_server("/agents/connexion"))
    page.get_by_label("Adresse e-mail").press_sequentially(email)
    page.get_by_label("Mot de passe").press_sequentially(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(live_server("/agents/connexion/code"))
    assert_accessible(page)
    page.get_by_label("Code de vérification").press_sequentially(fresh_code(app, email))
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(live_server("/agents/"))


def test_a_banner_goes_up_and_a_visitor_reports_a_problem_from_a_phone(
    app, live_server, demo_forms, page: Page, phone_page: Page
):
    make_user(app, Role.ADMIN, email="admin@example.nc")
    sign_in(app, page, live_server, "admin@example.nc")
    page.get_by_role("link", name=re.compile("^Pilotage")).click()
    page.get_by_role("navigation", name="Pilotage").get_by_role("link", name="Annonces").click()
    page.get_by_role("link", name="Publier une annonce").click()
    assert_accessible(page)
    page.get_by_label("Service perturbé").check()
    page.get_by_label("Message").fill(OUTAGE)
    page.get_by_role("button", name="Publier l’annonce").click()
    expect(page.get_by_text(OUTAGE).first).to_be_visible()

    # A visitor on a phone sees the banner on the form's page and reports a problem from it.
    start(phone_page, live_server(f"/demarches/{RAPA}/"), RAPA_TITLE)
    banner = phone_page.get_by_role("region", name="Information de service")
    expect(banner.first).to_contain_text(OUTAGE)
    assert_accessible(phone_page)
    phone_page.get_by_role("link", name="Signaler un problème").click()
    expect(phone_page.get_by_role("heading", level=1)).to_contain_text("Signaler un problème")
    assert_accessible(phone_page)
    phone_page.get_by_label("Décrivez le problème").fill(
        "Le bouton pour joindre mon passeport ne répond pas."
    )
    phone_page.get_by_label("Votre adresse e-mail (facultatif)").fill("usager@example.nc")
    phone_page.get_by_role("button", name=re.compile("Envoyer")).click()
    expect(phone_page.get_by_role("heading", level=1)).to_be_visible()
    expect(phone_page.locator("main")).to_contain_text(re.compile(r"n° ?\d+"))
    assert_accessible(phone_page)
    with app.app_context():
        report = get_session().scalars(select(ProblemReport)).one()
        assert report.page == f"/demarches/{RAPA}/etapes/1" and report.form.slug == RAPA

    # The status page lists the announcement; the agent sees the report in the ops area.
    phone_page.get_by_role("link", name="État du service", exact=True).click()
    expect(phone_page.locator("main")).to_contain_text(OUTAGE)
    assert_accessible(phone_page)
    page.get_by_role("navigation", name="Pilotage").get_by_role(
        "link", name="Problèmes signalés"
    ).click()
    expect(page.locator("main")).to_contain_text("Le bouton pour joindre mon passeport")
    assert_accessible(page)


def test_dashboards_and_the_incident_timeline_are_accessible_pictures(
    app, live_server, demo_forms, page: Page
):
    make_user(app, Role.ADMIN, email="admin@example.nc")
    sign_in(app, page, live_server, "admin@example.nc")
    page.goto(live_server("/agents/pilotage/"))
    charts = page.locator("figure svg[role='img']")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 6
    assert_accessible(page)
    page.get_by_role("navigation", name="Pilotage").get_by_role("link", name="Incidents").click()
    expect(page.locator("figure svg[role='img']").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("navigation", name="Pilotage").get_by_role(
        "link", name="Prolongations"
    ).click()
    assert_accessible(page)
