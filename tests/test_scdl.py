"""Granted aids in the SCDL "subventions" open-data format (v2.0.2, RIDET for SIRET)."""

import csv
import io
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from forms_app import scdl
from forms_app.db import get_session
from forms_app.models import PaymentAct, Submission
from tests.dashboard_support import Data
from tests.finance_support import FINANCE, SETTINGS, issued_act, publish_payment_form

URL = "/agents/pilotage/subventions.csv"
SCHEMA_COLUMNS = [
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "rnaBeneficiaire",
    "objet",
    "montant",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
    "dispositifAide",
]


def download(client) -> tuple[bytes, list[dict[str, str]]]:
    with client.get(URL) as response:
        assert response.status_code == 200 and response.mimetype == "text/csv"
        content = response.get_data()
    reader = csv.DictReader(io.StringIO(content.decode("utf-8")))
    assert reader.fieldnames == SCHEMA_COLUMNS
    return content, list(reader)


@pytest.fixture
def finance(app, auth):
    publish_payment_form(app)
    act_id = issued_act(app, render=False)  # the real chain: submitted, reviewed, approved
    auth.login(FINANCE)
    return act_id


def submission_of(app, act_id: int) -> int:
    with app.app_context():
        return get_session().scalar(select(PaymentAct.submission_id).where(PaymentAct.id == act_id))


def test_the_columns_are_the_schema_s_in_its_order():
    assert list(scdl.COLUMNS) == SCHEMA_COLUMNS


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1234567.001", "1234567001"), ("1234567001", "1234567001"), ("123 4567-001", "1234567001"),
     (None, None), ("", None), ("1234567", None), ("12345678901", None), ("ABCDEFGHIJ", None)],
)  # fmt: skip
def test_ridet_digits(value, expected):
    assert scdl.ridet_digits(value) == expected


def test_an_issued_act_is_one_row_in_the_schema(app, client, finance):
    content, rows = download(client)
    assert not content.startswith("\ufeff".encode())  # machines read it: no BOM, commas
    with app.app_context():
        act = get_session().get(PaymentAct, finance)
        issued_on = act.issued_at.astimezone(ZoneInfo("Pacific/Noumea")).date().isoformat()
        number = act.number
    assert rows == [
        {
            "nomAttribuant": "Province Sud",
            "idAttribuant": "0123456001",
            "dateConvention": issued_on,
            "referenceDecision": number,
            "nomBeneficiaire": "SARL LAGON BLEU TOURS",
            "idBeneficiaire": "1234567001",
            "rnaBeneficiaire": "",
            "objet": SETTINGS["act_object"],
            "montant": "150000",
            "nature": "aide en numéraire",
            "conditionsVersement": "unique",
            "datesPeriodeVersement": "",
            "idRAE": "",
            "notificationUE": "non",
            "pourcentageSubvention": "1.00",
            "dispositifAide": "Aide exceptionnelle aux entreprises",
        }
    ]
    assert re.fullmatch(r"\d{10}", rows[0]["idBeneficiaire"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[0]["dateConvention"])


def test_paid_cancelled_and_personal_acts(app, client, finance):
    app.config.update(SCDL_ATTRIBUTOR_NAME="Province Nord", SCDL_ATTRIBUTOR_ID="7654321001")
    data = Data(app)
    with app.app_context():
        form_id = get_session().scalar(select(Submission.form_id))
    paid = data.act(
        data.request(form_id, "paid", "2026-03-01 00:00", approved=90_000),
        90_000,
        paid="2026-03-10 13:30",  # 00:30 on 11 March in Nouméa
    )
    data.act(data.request(form_id, "approved", "2026-03-01 00:00"), 70_000, state="cancelled")
    data.act(
        data.request(form_id, "act_issued", "2026-03-01 00:00"), 60_000, ridet=None
    )  # a person
    data.act(data.request(form_id, "act_issued", "2026-03-01 00:00"), 50_000, ridet="1234567")
    _content, rows = download(client)
    assert [row["montant"] for row in rows] == ["150000", "90000"]  # by act number
    assert {row["nomAttribuant"] for row in rows} == {"Province Nord"}
    assert {row["idAttribuant"] for row in rows} == {"7654321001"}
    with app.app_context():
        number = get_session().get(PaymentAct, paid).number
    paid_row = rows[1]
    assert paid_row["referenceDecision"] == number
    assert paid_row["datesPeriodeVersement"] == "2026-03-11"
    assert paid_row["dateConvention"] == "2026-03-11"
    assert all(re.fullmatch(r"\d{10}", row["idBeneficiaire"]) for row in rows)


def test_text_is_inert_in_a_spreadsheet_and_the_object_fits(app, client, finance):
    with app.app_context():
        db = get_session()
        act = db.get(PaymentAct, finance)
        act.beneficiary = {**act.beneficiary, "name": '=HYPERLINK("http://x")'}
        act.details = {**act.details, "objet": "Aide " * 80}
        db.commit()
    _content, rows = download(client)
    assert rows[0]["nomBeneficiaire"] == '\'=HYPERLINK("http://x")'
    assert len(rows[0]["objet"]) == scdl.OBJECT_MAX
