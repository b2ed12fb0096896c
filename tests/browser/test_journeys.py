"""Both demo forms filled to submission in a real browser, on a desktop and on a phone.

Every page is checked with axe-core; the check page must show the answers; the
acknowledgement must show the reference.
"""

import pytest
from playwright.sync_api import Page, expect

from forms_app.forms_cli import load_demo_forms
from tests.browser.journeys import (
    AIDE,
    AIDE_STEPS,
    AIDE_TITLE,
    RAPA,
    RAPA_STEPS,
    RAPA_TITLE,
    expect_aide_answers,
    expect_rapa_answers,
    fill_pages,
    start,
    submit_from_check_page,
)
from tests.support import latest_submission


@pytest.fixture
def demo_forms(app) -> None:
    with app.app_context():
        load_demo_forms()


def test_repatriation_registration_to_submission(app, live_server, demo_forms, any_page: Page):
    start(any_page, live_server(f"/demarches/{RAPA}/"), RAPA_TITLE)
    fill_pages(any_page, RAPA_STEPS)
    expect_rapa_answers(any_page)

    reference = submit_from_check_page(any_page, "RAPA")

    submission = latest_submission(app)
    assert submission.reference == reference
    assert submission.answers["membres"][0]["prenom"] == "Hugo"
    assert submission.answers["contact_nc_telephone"] == "+687751234"
    assert submission.answers["aide_rib"][0]["name"] == "rib-lea.pdf"
    assert (submission.computed_amount, submission.priority) == (75_000, 3)


def test_business_aid_to_submission(app, live_server, demo_forms, any_page: Page):
    start(any_page, live_server(f"/demarches/{AIDE}/"), AIDE_TITLE)
    fill_pages(any_page, AIDE_STEPS)
    expect_aide_answers(any_page)

    reference = submit_from_check_page(any_page, "AIDE")

    submission = latest_submission(app)
    assert submission.reference == reference
    assert submission.answers["ridet"] == "1234567001"
    assert len(submission.answers["piece_justificatifs_ca"]) == 2
    assert submission.rule_results["computed"]["perte_pct"] == 75.0
    assert (submission.computed_amount, submission.priority) == (300_000, 1)


def test_a_change_from_the_check_page_comes_back_to_it(app, live_server, demo_forms, page: Page):
    start(page, live_server(f"/demarches/{AIDE}/"), AIDE_TITLE)
    fill_pages(page, AIDE_STEPS)
    expect_aide_answers(page)

    page.get_by_role("link", name="Modifier : Code APE").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Entreprise")
    code = page.get_by_role("textbox", name="Code APE")
    expect(code).to_have_value("79.11Z")
    code.fill("79.12Z")
    page.get_by_role("button", name="Enregistrer et revenir à la vérification").click()

    expect_aide_answers(page)
    expect(page.locator(".summary-list__row", has_text="Code APE")).to_contain_text("79.12Z")
