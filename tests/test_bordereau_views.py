"""The finance pages: acts awaiting a bordereau, building one, its page and its PDF."""

import re

import pytest
from sqlalchemy import event, func, select

from forms_app.db import get_db, get_session
from forms_app.formdefs.nc import format_xpf
from forms_app.models import Bordereau, BordereauState, Role
from tests.bordereau_support import acts, build, enrol, load, login, render
from tests.finance_support import ADMIN, AGENT, FINANCE, issued_act, publish_payment_form
from tests.support import make_user, run_worker_burst

INDEX = "/agents/finances/"
BUILD = "/agents/finances/bordereaux"
CHECKBOX = re.compile(r'<input type="checkbox" name="acts" value="(\d+)" id="acte-\d+"( checked)?>')


@pytest.fixture
def form(app):
    return publish_payment_form(app)


@pytest.fixture
def finance(app, client, form):
    """Three issued acts and a finance officer signed in with a second factor."""
    ids = [issued_act(app, amount=amount) for amount in (150_000, 250_000, 75_000)]
    enrol(app)
    login(client, FINANCE)
    return ids


def checkboxes(page: str) -> dict[int, bool]:
    return {int(ident): bool(checked) for ident, checked in CHECKBOX.findall(page)}


def test_the_index_lists_the_acts_awaiting_a_bordereau_by_budget(app, client, finance):
    page = client.get(INDEX)
    assert page.status_code == 200
    text = page.text
    assert "Budget principal – exercice 2" in text
    assert f"3 actes, {format_xpf(475_000)} au total." in text
    assert checkboxes(text) == dict.fromkeys(finance, False)
    for act in acts(app, finance):
        assert act.number in text and act.details["dossier_no"] in text
    assert "Aucun acte sélectionné." in text
    assert "Bordereaux ouverts, à signer" in text


def test_all_acts_of_a_group_can_be_selected_at_once(app, client, finance):
    page = client.get(INDEX).text
    link = re.search(r'href="(/agents/finances/\?tout=[^"#]+)#groupe-', page).group(1)
    selected = client.get(link.replace("&amp;", "&")).text
    assert checkboxes(selected) == dict.fromkeys(finance, True)
    assert f"Sélection : 3 actes, {format_xpf(475_000)}." in selected


def test_the_total_of_the_selection_is_computed_by_the_server(app, client, finance):
    page = client.post(BUILD, data={"acts": finance[:2], "action": "total"})
    assert page.status_code == 200
    assert f"Sélection : 2 actes, {format_xpf(400_000)}." in page.text
    assert checkboxes(page.text) == {finance[0]: True, finance[1]: True, finance[2]: False}
    with app.app_context():
        assert get_session().scalar(select(func.count()).select_from(Bordereau)) == 0


def test_building_from_the_selection_opens_the_bordereau_page(app, client, finance):
    response = client.post(BUILD, data={"acts": finance[:2], "action": "build"})
    assert response.status_code == 302
    path = response.headers["Location"]
    ident = int(path.rsplit("/", 1)[1])
    made = load(app, ident)
    assert made.act_count == 2 and made.total == 400_000 and made.state == BordereauState.OPEN

    page = client.get(path).text
    assert f"Bordereau n° {made.number}" in page and "établi : 2 mandats" in page
    assert "Ouvert – à signer" in page and format_xpf(400_000) in page
    assert "est en préparation" in page and "Signer et ordonner" not in page
    pending = client.get(f"{path}/bordereau.pdf")
    assert pending.status_code == 202 and pending.headers["Retry-After"] == "10"

    run_worker_burst(app)  # the render_bordereau job, in a real worker
    content = render(app, ident)  # read back, not rendered again
    page = client.get(path).text
    assert "Signer et ordonner le paiement" in page and load(app, ident).pdf_sha256 in page
    response = client.get(f"{path}/bordereau.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data == content
    assert "inline" in response.headers["Content-Disposition"]
    response.close()
    missing = client.get(f"{path}/bordereau-signe.pdf")
    assert missing.status_code == 404

    left = checkboxes(client.get(INDEX).text)
    assert left == {finance[2]: False}  # the listed acts no longer await a bordereau
    assert made.number in client.get(INDEX).text


def test_a_refused_build_says_why_and_builds_nothing(app, client, finance):
    build(app, [finance[0]])
    page = client.post(BUILD, data={"acts": finance[:2], "action": "build"})
    assert page.status_code == 409
    assert "Ces actes ne peuvent plus être mis sur un bordereau" in page.text
    assert acts(app, [finance[0]])[0].number in page.text
    nothing = client.post(BUILD, data={"action": "build"})
    assert nothing.status_code == 400 and "Sélectionnez au moins un acte" in nothing.text
    assert client.post(BUILD, data={"acts": ["1 OR 1"], "action": "build"}).status_code == 400
    with app.app_context():
        assert get_session().scalar(select(func.count()).select_from(Bordereau)) == 1


def test_discarding_frees_the_acts(app, client, finance):
    ident = build(app, finance)
    path = f"/agents/finances/bordereaux/{ident}"
    empty = client.post(f"{path}/abandon", data={"reason": ""})
    assert empty.status_code == 400 and "Indiquez le motif de l’abandon." in empty.text
    response = client.post(f"{path}/abandon", data={"reason": "Erreur de sélection"})
    assert response.status_code == 302 and response.headers["Location"] == INDEX
    assert load(app, ident).state == BordereauState.CANCELLED
    assert set(checkboxes(client.get(INDEX).text)) == set(finance)
    page = client.get(path).text
    assert "Abandonné" in page and "Erreur de sélection" in page and "Abandonner" not in page
    again = client.post(f"{path}/abandon", data={"reason": "Encore"})
    assert again.status_code == 409


def test_administrators_read_without_acting(app, client, form):
    ids = [issued_act(app)]
    ident = build(app, ids)
    render(app, ident)
    login(client, ADMIN)
    index = client.get(INDEX)
    assert index.status_code == 200 and "Consultation seule" in index.text
    assert checkboxes(index.text) == {} and acts(app, ids)[0].number in index.text
    page = client.get(f"/agents/finances/bordereaux/{ident}")
    assert page.status_code == 200 and "Signer et ordonner" not in page.text
    assert "Abandonner le bordereau" not in page.text
    pdf = client.get(f"/agents/finances/bordereaux/{ident}/bordereau.pdf")
    assert pdf.status_code == 200
    pdf.close()
    for path in (BUILD, f"/agents/finances/bordereaux/{ident}/signature"):
        assert client.post(path, data={"acts": ids}).status_code == 403


def test_other_staff_cannot_see_bordereaux(app, client, form):
    ident = build(app, [issued_act(app)])
    login(client, AGENT)
    assert client.get(f"/agents/finances/bordereaux/{ident}").status_code == 403
    assert client.get(f"/agents/finances/bordereaux/{ident}/bordereau.pdf").status_code == 403
    client.post("/agents/deconnexion")
    make_user(app, Role.FINANCE, email="f3@example.nc")
    enrol(app, "f3@example.nc")
    login(client, "f3@example.nc")
    assert client.get("/agents/finances/bordereaux/999").status_code == 404


def count_queries(app, path: str, client) -> int:
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_the_index_costs_the_same_queries_for_many_acts(app, client, finance):
    """No query per act or per bordereau: 500 acts cost what 3 cost."""
    build(app, finance[:1])
    few = count_queries(app, INDEX, client)
    more = [issued_act(app) for _ in range(4)]
    build(app, more[:2])
    assert len(checkboxes(client.get(INDEX).text)) == 4
    assert count_queries(app, INDEX, client) == few
