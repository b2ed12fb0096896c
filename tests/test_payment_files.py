"""The payment files of a signed bordereau: the accounting CSV and the ISO 20022 pain.001."""

import csv
import importlib.resources
import io
from datetime import date

import pytest
from lxml import etree

from forms_app import payment_files, payments
from forms_app.db import get_session
from forms_app.models import Bordereau, PaymentAct
from forms_app.payment_files import PAIN_001, PaymentFileError
from tests.finance_support import IBAN, issued_act, publish_payment_form
from tests.payments_support import make_acts, sign_acts, signed_bordereau, staff

NS = {"p": PAIN_001}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    """The pain.001.001.03 XSD that sepaxml ships (a test dependency only)."""
    resource = importlib.resources.files("sepaxml") / "schemas" / "pain.001.001.03.xsd"
    with importlib.resources.as_file(resource) as path:
        return etree.XMLSchema(etree.parse(str(path)))


def build(app, bordereau_id: int, kind: str) -> bytes:
    with app.test_request_context():
        bordereau = get_session().get(Bordereau, bordereau_id)
        if kind == "csv":
            return payment_files.csv_file(bordereau)
        return payment_files.pain001(bordereau, app.config)


def change_act(app, act_id: int, **snapshot) -> None:
    """Rewrite parts of an act's snapshot (to test what the files do with odd data)."""
    with app.app_context():
        db = get_session()
        act = db.get(PaymentAct, act_id)
        for name, values in snapshot.items():
            setattr(act, name, {**getattr(act, name), **values})
        db.commit()


def rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_csv_lists_each_ordered_transfer_for_the_accounting_system(app):
    bordereau_id = signed_bordereau(app, [150_000, 1_275_500])
    content = build(app, bordereau_id, "csv")
    assert content.startswith(b"\xef\xbb\xbf") and b"\r\n" in content
    header, first, second = rows(content)
    assert header == list(payment_files.CSV_HEADER)
    with app.app_context():
        bordereau = get_session().get(Bordereau, bordereau_id)
        signed_on = bordereau.signed_at.astimezone(payment_files.NOUMEA).strftime("%d/%m/%Y")
        number, acts = bordereau.number, [line.act for line in bordereau.lines]
        dossiers = [act.details["dossier_no"] for act in acts]
    assert first == [
        number,
        acts[0].number,
        dossiers[0],
        "SARL LAGON BLEU TOURS",
        "1234567.001",
        IBAN,
        "BCADNCNN",
        "150000",
        "XPF",
        "Fonctionnement – chapitre 65 – article 6574 – fonction 93",
        "Aide exceptionnelle à la trésorerie – Plan d’urgence COVID-19",
        signed_on,
    ]
    assert dossiers[0].startswith("AIDE-") and second[1:4] == [
        acts[1].number,
        dossiers[1],
        "EURL CAFÉ DE LA BAIE",
    ]
    assert second[7] == "1275500"  # integer francs CFP: no separator, no decimals


def test_csv_cells_never_become_spreadsheet_formulas(app):
    publish_payment_form(app)
    act_id = issued_act(app, name='=HYPERLINK("http://evil.example","x")')
    change_act(app, act_id, details={"objet": "+33 aide\nsur deux lignes\x07"})
    first = rows(build(app, sign_acts(app, [act_id]), "csv"))[1]
    assert first[3] == '\'=HYPERLINK("http://evil.example","x")'
    assert first[10] == "'+33 aide sur deux lignes"  # one line, no control character
    for text in ("-2+3", "@SUM(A1)", "=1"):
        assert payment_files.safe(text) == "'" + text
    assert payment_files.safe("SARL A=B") == "SARL A=B"


def test_pain001_is_a_valid_xpf_credit_transfer(app, schema):
    amounts = [150_000, 275_500, 1_000_000]
    bordereau_id = signed_bordereau(app, amounts)
    content = build(app, bordereau_id, "xml")
    document = etree.fromstring(content)
    assert schema.validate(document), schema.error_log
    assert payment_files.schema_errors(content) == []
    assert content.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    with app.app_context():
        bordereau = get_session().get(Bordereau, bordereau_id)
        act_numbers = [line.act_number for line in bordereau.lines]
        number, signed_at = bordereau.number, bordereau.signed_at

    def texts(path: str) -> list[str]:
        return [node.text for node in document.xpath(path, namespaces=NS)]

    header = "/p:Document/p:CstmrCdtTrfInitn/p:GrpHdr/"
    info = "/p:Document/p:CstmrCdtTrfInitn/p:PmtInf/"
    assert texts(header + "p:MsgId") == [f"BORD-{number}-{bordereau_id}"]
    assert texts(header + "p:NbOfTxs") == texts(info + "p:NbOfTxs") == ["3"]
    assert texts(header + "p:CtrlSum") == texts(info + "p:CtrlSum") == [str(sum(amounts))]
    assert texts(header + "p:InitgPty/p:Nm") == ["PROVINCE SUD"]
    local = signed_at.astimezone(payment_files.NOUMEA)
    assert texts(header + "p:CreDtTm") == [local.replace(microsecond=0).isoformat()]
    assert texts(info + "p:ReqdExctnDt") == [payment_files.execution_date(local.date()).isoformat()]
    assert texts(info + "p:PmtMtd") == ["TRF"] and texts(info + "p:ChrgBr") == ["SHAR"]
    assert texts(info + "p:PmtTpInf") == []  # an XPF transfer does not claim SEPA
    assert texts(info + "p:DbtrAcct/p:Id/p:IBAN") == [app.config["DEBTOR_IBAN"]]
    assert texts(info + "p:DbtrAcct/p:Ccy") == ["XPF"]
    assert texts(info + "p:DbtrAgt/p:FinInstnId/p:BIC") == [app.config["DEBTOR_BIC"]]
    transfers = info + "p:CdtTrfTxInf/"
    assert texts(transfers + "p:PmtId/p:EndToEndId") == act_numbers
    assert texts(transfers + "p:Amt/p:InstdAmt") == ["150000", "275500", "1000000"]
    assert {
        node.get("Ccy") for node in document.xpath(f"{transfers}p:Amt/p:InstdAmt", namespaces=NS)
    } == {"XPF"}
    assert texts(transfers + "p:CdtrAcct/p:Id/p:IBAN") == [IBAN] * 3
    assert texts(transfers + "p:CdtrAgt/p:FinInstnId/p:BIC") == ["BCADNCNN"] * 3
    [remittance, *_] = texts(transfers + "p:RmtInf/p:Ustrd")
    assert remittance.startswith(f"Mandat {act_numbers[0]} dossier AIDE-")
    assert build(app, bordereau_id, "xml") == content  # the same file every time


def test_the_schema_check_bites(app, schema):
    """A tampered IBAN fails the XSD, in the tests and before a file is served."""
    [act_id] = make_acts(app, [150_000])
    bordereau_id = sign_acts(app, [act_id])
    content = build(app, bordereau_id, "xml")
    tampered = content.replace(IBAN.encode(), b"76FR 9999 9000")
    assert not schema.validate(etree.fromstring(tampered))
    assert any("IBAN" in error for error in payment_files.schema_errors(tampered))

    change_act(app, act_id, bank={"iban": "fr76-pas-un-iban"})
    with pytest.raises(PaymentFileError, match=r"pain\.001\.001\.03"):
        build(app, bordereau_id, "xml")


def test_names_and_remittance_fit_their_fields(app, schema):
    [act_id] = make_acts(app, [150_000])
    change_act(
        app,
        act_id,
        beneficiary={"name": "SOCIÉTÉ\tCALÉDONIENNE " * 6, "address": "12 rue de Sébastopol, " * 5},
        bank={"bic": "BCI-NC"},
        details={"objet": "Aide " * 60},
    )
    document = etree.fromstring(build(app, sign_acts(app, [act_id]), "xml"))
    assert schema.validate(document), schema.error_log
    [name] = document.xpath("//p:Cdtr/p:Nm/text()", namespaces=NS)
    assert len(name) <= 70 and "\t" not in name and name.startswith("SOCIÉTÉ CALÉDONIENNE")
    assert all(len(line) <= 70 for line in document.xpath("//p:AdrLine/text()", namespaces=NS))
    [remittance] = document.xpath("//p:Ustrd/text()", namespaces=NS)
    assert len(remittance) <= 140
    assert document.xpath("//p:CdtrAgt", namespaces=NS) == []  # no usable BIC: left out


def test_budgets_with_the_same_numbers_get_distinct_message_ids(app):
    first = signed_bordereau(app, [150_000])
    publish_payment_form(app, slug="annexe", budget="Budget annexe des transports")
    second = sign_acts(app, [issued_act(app, slug="annexe")])
    ids = set()
    for bordereau_id in (first, second):
        document = etree.fromstring(build(app, bordereau_id, "xml"))
        ids |= set(document.xpath("//p:GrpHdr/p:MsgId/text()", namespaces=NS))
    assert len(ids) == 2


def test_only_signed_transfers_not_returned_are_listed(app):
    act_ids = make_acts(app, [150_000, 200_000])
    with pytest.raises(PaymentFileError, match="signé"):
        build(app, sign_acts(app, act_ids, signed=False), "csv")

    bordereau_id = sign_acts(app, act_ids)
    with app.test_request_context():
        db = get_session()
        bordereau = db.get(Bordereau, bordereau_id)
        user = staff(db)
        payments.reject_act(db, bordereau, db.get(PaymentAct, act_ids[0]), user, "Compte clos")
        db.commit()
    assert [row[7] for row in rows(build(app, bordereau_id, "csv"))[1:]] == ["200000"]
    document = etree.fromstring(build(app, bordereau_id, "xml"))
    assert document.xpath("//p:GrpHdr/p:CtrlSum/text()", namespaces=NS) == ["200000"]

    with app.test_request_context():
        db = get_session()
        bordereau = db.get(Bordereau, bordereau_id)
        user = staff(db)
        payments.reject_act(db, bordereau, db.get(PaymentAct, act_ids[1]), user, "IBAN inconnu")
        db.commit()
    with pytest.raises(PaymentFileError, match="rejetés"):
        build(app, bordereau_id, "xml")


def test_execution_date_skips_weekends():
    assert payment_files.execution_date(date(2026, 4, 15)) == date(2026, 4, 15)  # Wednesday
    assert payment_files.execution_date(date(2026, 4, 18)) == date(2026, 4, 20)  # Saturday
    assert payment_files.execution_date(date(2026, 4, 19)) == date(2026, 4, 20)  # Sunday


def test_text_is_printable_and_on_one_line():
    assert payment_files.text(" SARL\u200b  Lagon\r\nBleu\x00 ") == "SARL Lagon Bleu"
    assert payment_files.text(None) == ""
    assert payment_files.compact(" fr76 9999 ") == "FR769999"
