"""The ops area's pages: reachable from the staff home, one navigation, plain-text titles."""

import re

import pytest

from forms_app.models import Role
from tests.backoffice_support import staff

PAGES = {
    "/agents/pilotage/": "Tableau de bord",
    "/agents/pilotage/incidents": "Incidents",
    "/agents/pilotage/annonces": "Annonces",
    "/agents/pilotage/prolongations": "Prolongations",
    "/agents/pilotage/signalements": "Problèmes signalés",
    "/agents/pilotage/travaux": "Travaux en échec",
    "/agents/pilotage/comptes": "Comptes agents",
    "/agents/pilotage/jetons-api": "Jetons d’API",
    "/agents/pilotage/webhooks": "Webhooks",
}


def nav_links(html: str) -> dict[str, bool]:
    """The ops navigation's links: label → whether it is marked as the current page."""
    nav = re.search(r'<nav class="ops-nav".*?</nav>', html, re.S)[0]
    return {
        label: bool(current)
        for current, label in re.findall(r'<a href="[^"]+"( aria-current="page")?>([^<]+)</a>', nav)
    }


@pytest.mark.parametrize("path", PAGES)
def test_every_ops_page_has_a_plain_title_and_marks_itself_in_the_navigation(app, path):
    client = staff(app, "admin@example.nc", Role.ADMIN)
    page = client.get(path)
    assert page.status_code == 200
    title = re.search(r"<title>(.*?)</title>", page.text, re.S)[1]
    assert "<" not in title and len(title) < 120
    links = nav_links(page.text)
    assert set(links) == set(PAGES.values())
    assert [label for label, current in links.items() if current] == [PAGES[path]]


def test_the_navigation_shows_each_role_what_it_may_open(app):
    home = staff(app, "finance@example.nc", Role.FINANCE).get("/agents/")
    assert 'href="/agents/pilotage/"' in home.text
    links = nav_links(staff(app, "f2@example.nc", Role.FINANCE).get("/agents/pilotage/").text)
    assert list(links) == ["Tableau de bord"]
    designer = staff(app, "designer@example.nc", Role.DESIGNER)
    assert 'href="/agents/pilotage/"' not in designer.get("/agents/").text
