"""The browser helpers themselves: axe really reports violations, links are found in e-mails."""

import pytest
from playwright.sync_api import Page

from tests.browser.support import assert_accessible, link_in


def test_assert_accessible_fails_on_serious_violations(page: Page):
    page.set_content(
        '<!doctype html><html lang="fr"><head><title>Essai</title></head><body><main>'
        '<h1>Essai</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        '<p style="color:#bbb;background:#fff">Texte trop pâle</p>'
        '<input type="text"></main></body></html>'
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    report = str(failure.value)
    for rule in ("image-alt", "color-contrast", "label"):
        assert f"- {rule} (" in report
    assert "    img" in report  # the target selectors are listed


def test_assert_accessible_passes_a_clean_page(page: Page):
    page.set_content(
        '<!doctype html><html lang="fr"><head><title>Essai</title></head>'
        "<body><main><h1>Essai</h1><p>Bonjour.</p></main></body></html>"
    )
    results = assert_accessible(page)
    assert results["passes"]


def test_link_in_finds_the_link_by_path():
    body = (
        "Bonjour,\nVoir https://guichet.example.nc/demarches/essai/ ou reprendre :\n"
        "https://guichet.example.nc/reprendre/abc?jeton=x.\n"
    )
    assert link_in(body, "/reprendre/") == "https://guichet.example.nc/reprendre/abc?jeton=x"
    with pytest.raises(AssertionError, match="no link to /recu/"):
        link_in(body, "/recu/")
