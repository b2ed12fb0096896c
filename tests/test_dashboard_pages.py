"""Dashboard pages: bounded statements, pictures with tables, CSV and roles."""

import csv
import io
from datetime import timedelta

import pytest

from forms_app import dashboards
from forms_app.db import get_session, utcnow
from forms_app.models import Role, User
from forms_app.public.space_access import EMAIL_KEY
from tests.dashboard_support import URL, Data, generate, known_dataset, make_form
from tests.inbox_support import StatementCounter
from tests.support import make_user


@pytest.fixture
def known(app):
    return known_dataset(app)


def test_dashboard_pages_run_the_same_statements_whatever_the_row_count(app, client, auth):
    app.config["DASHBOARD_CACHE_SECONDS"] = 0  # measure the computation every time
    form_id = make_form(app, "aide-a", envelope=5_000_000)
    agent = make_user(app, Role.AGENT)
    auth.login()
    generate(app, form_id, 20, agent)
    pages = [URL, "/agents/pilotage/formulaires/aide-a"]
    small = []
    for page in pages:
        with StatementCounter(app) as counter:
            assert client.get(page).status_code == 200
        small.append(counter.count)
    generate(app, form_id, 1_500, agent)
    for page, expected in zip(pages, small, strict=True):
        with StatementCounter(app) as counter:
            response = client.get(page)
        assert response.status_code == 200
        assert counter.count == expected
    assert max(small) <= 14
    assert response.text.count('role="img"') == 8


def test_the_page_draws_pictures_with_their_tables(app, client, auth, known):
    make_user(app, Role.FINANCE, email="finances@example.nc")
    auth.login("finances@example.nc")
    page = client.get(URL).text
    assert page.count("<figure") == 8 and page.count("<details") == 8
    assert "Demandes déposées par jour" in page and "Enveloppe" in page
    assert 'href="/agents/pilotage/formulaires/aide-a?jours=30"' in page
    assert 'href="/agents/pilotage/subventions.csv"' in page
    assert "style=" not in page
    form_page = client.get("/agents/pilotage/formulaires/aide-b?jours=7")
    assert form_page.status_code == 200 and "Pilotage : Aide aide-b" in form_page.text
    assert '<option value="7" selected>' in form_page.text


def test_a_period_not_offered_is_refused_with_a_message(app, client, auth):
    make_user(app, Role.AGENT)
    auth.login()
    response = client.get(URL, query_string={"jours": "12"})
    assert response.status_code == 400
    assert "Choisissez une période de la liste." in response.text
    assert status(client, "/agents/pilotage/statistiques.csv?jours=x") == 400
    assert client.get("/agents/pilotage/formulaires/inconnu").status_code == 404


def test_statistics_csv_is_the_long_format(app, client, auth):
    form_id = make_form(app, "aide-a", envelope=2_000_000)
    agent = make_user(app, Role.AGENT)
    with app.app_context():
        get_session().get(User, agent).name = "=HYPERLINK(1)"
        get_session().commit()
    d = Data(app)
    moment = utcnow() - timedelta(minutes=5)
    taken = d.request(form_id, "in_review", moment.strftime("%Y-%m-%d %H:%M:%S"))
    d.event(taken, "take", agent, moment.strftime("%Y-%m-%d %H:%M:%S"))
    auth.login()
    with client.get("/agents/pilotage/formulaires/aide-a/statistiques.csv") as response:
        response.get_data()
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    assert "statistiques-aide-a-" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["indicateur", "categorie", "detail", "valeur"]
    today = (moment + dashboards.LOCAL_OFFSET).date().isoformat()
    assert ["depots_par_jour", today, "", "1"] in rows
    assert ["stock", "in_review", "0-7", "1"] in rows
    assert ["parcours", "submitted", "", "1"] in rows
    assert ["montants", "envelope", "", "2000000"] in rows
    assert ["delai_median_paiement_jours", "", "", ""] in rows
    agent_rows = [r for r in rows if r[0] == "actions_agent" and r[3] == "1"]
    assert [r[1] for r in agent_rows] == ["'=HYPERLINK(1)"]  # inert in a spreadsheet
    with client.get("/agents/pilotage/statistiques.csv") as everything:
        assert "statistiques-tous-formulaires-" in everything.headers["Content-Disposition"]


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    for path in (URL, "/agents/pilotage/statistiques.csv", "/agents/pilotage/subventions.csv"):
        with client.get(path) as response:
            assert response.status_code == 302
            assert "/agents/connexion" in response.headers["Location"]


def test_an_applicant_session_is_not_staff(app, client):
    with client.session_transaction() as session:
        session[EMAIL_KEY] = "demandeur@example.nc"
    response = client.get(URL)
    assert response.status_code == 302 and "/agents/connexion" in response.headers["Location"]


@pytest.mark.parametrize(
    ("role", "dashboard", "scdl"),
    [
        (Role.DESIGNER, 403, 403),
        (Role.AGENT, 200, 403),
        (Role.APPROVER, 200, 403),
        (Role.FINANCE, 200, 200),
        (Role.ADMIN, 200, 200),
    ],
)
def test_roles(app, client, auth, role, dashboard, scdl):
    make_form(app, "aide-a")
    make_user(app, role)
    auth.login()
    assert status(client, URL) == dashboard
    assert status(client, "/agents/pilotage/formulaires/aide-a") == dashboard
    assert status(client, "/agents/pilotage/statistiques.csv") == dashboard
    assert status(client, "/agents/pilotage/subventions.csv") == scdl


def status(client, path: str) -> int:
    """GET `path` and close the (maybe streamed) response, as a server does."""
    with client.get(path) as response:
        response.get_data()
        return response.status_code
