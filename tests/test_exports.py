"""Exports: the filtered rows, answers flattened into columns, CSV streamed, XLSX readable."""

import csv
import io

import pytest
from openpyxl import load_workbook

from forms_app.models import Role
from tests.inbox_support import SLUG, add_request, publish
from tests.support import make_user

BASE = f"/agents/demarches/{SLUG}/demandes"


@pytest.fixture
def agent(app, auth):
    user_id = make_user(app, Role.AGENT)
    auth.login()
    return user_id


@pytest.fixture
def requests(app):
    form_id = publish(app)
    return {
        "flagged": add_request(
            app, form_id, name="=HYPERLINK(\"http://x\")", state="in_review", flags=("same_rid",),
            members=[{"nom": "Wamytan", "age": 40}, {"nom": "Kasarhérou", "age": 35}],
        ),
        "plain": add_request(app, form_id, name="Boulangerie Nouméa", amount=250_000),
        "draft": add_request(app, form_id, state="draft"),
    }  # fmt: skip


def read_csv(client, **params) -> tuple[list[str], list[dict]]:
    with client.get(f"{BASE}.csv", query_string=params) as response:
        assert response.status_code == 200
        assert response.is_streamed
        assert response.mimetype == "text/csv"
        disposition = response.headers["Content-Disposition"]
        assert f'filename="demandes-{SLUG}-' in disposition and disposition.endswith('.csv"')
        body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_csv_holds_the_filtered_rows_with_flattened_answers(app, client, agent, requests):
    header, rows = read_csv(client)
    assert header[:3] == ["Référence", "État", "Déposée le"]
    for label in ("Raison sociale", "Numéro RIDET", "Chiffre d’affaires", "Secteur", "Associés"):
        assert label in header
    by_reference = {row["Référence"]: row for row in rows}
    assert set(by_reference) == {requests["flagged"], requests["plain"]}  # no draft
    flagged = by_reference[requests["flagged"]]
    assert flagged["État"] == "En instruction"
    assert flagged["Signalements"] == "1"
    assert flagged["Numéro RIDET"] == "1234567.001"
    assert flagged["Secteur"] == "Bâtiment"
    assert flagged["Chiffre d’affaires"] == "2500000"
    assert flagged["Associés"] == "Nom : Wamytan, Âge : 40 | Nom : Kasarhérou, Âge : 35"
    assert flagged["Raison sociale"] == '\'=HYPERLINK("http://x")'  # never a formula

    _, only_flagged = read_csv(client, signalement="any")
    assert [row["Référence"] for row in only_flagged] == [requests["flagged"]]
    _, searched = read_csv(client, q="nouméa")
    assert [row["Référence"] for row in searched] == [requests["plain"]]


def test_xlsx_holds_the_same_rows(app, client, agent, requests):
    with client.get(f"{BASE}.xlsx", query_string={"etat": "submitted"}) as response:
        assert response.status_code == 200
        assert response.mimetype.endswith("spreadsheetml.sheet")
        assert response.headers["Content-Disposition"].endswith(".xlsx")
        workbook = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    sheet = workbook.active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    header, rows = values[0], values[1:]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["Référence"] == requests["plain"]
    assert row["Raison sociale"] == "Boulangerie Nouméa"
    assert row["Montant calculé"] == 250_000 and row["Chiffre d’affaires"] == 2_500_000


def test_an_unreadable_filter_exports_nothing_it_was_not_asked(app, client, agent, requests):
    _, rows = read_csv(client, etat="in_review", du="99/99/2026")
    assert [row["Référence"] for row in rows] == [requests["flagged"]]


def test_many_rows_are_streamed_in_chunks(app, client, agent):
    form_id = publish(app)
    for _ in range(250):
        add_request(app, form_id)
    with client.get(f"{BASE}.csv") as response:
        chunks = list(response.iter_encoded())
    assert len(chunks) >= 3  # header, then a chunk per 100 rows
    assert sum(chunk.count(b"\r\n") for chunk in chunks) == 251


def test_anonymous_visitors_are_sent_to_sign_in(client, requests):
    for suffix in (".csv", ".xlsx"):
        response = client.get(BASE + suffix)
        assert response.status_code == 302 and "/agents/connexion" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.DESIGNER, Role.FINANCE])
def test_other_roles_are_refused(app, client, auth, requests, role):
    make_user(app, role)
    auth.login()
    assert client.get(f"{BASE}.csv").status_code == 403
    assert client.get(f"{BASE}.xlsx").status_code == 403
