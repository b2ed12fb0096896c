"""The finance pages of a bordereau's payment: files, payment, bank return, rejection."""

import io
from datetime import datetime, timedelta
from html import unescape

from lxml import etree

from forms_app.db import get_session
from forms_app.models import Bordereau
from forms_app.payment_files import NOUMEA, PAIN_001
from tests.finance_support import ADMIN, AGENT, APPROVER, FINANCE
from tests.payments_support import make_acts, second_factor, sign_acts, signed_bordereau
from tests.support import sign_in

TODAY = datetime.now(NOUMEA).date()


def login(client, email: str) -> None:
    if email == FINANCE:
        second_factor(client.application, email)
    client.post("/agents/deconnexion")
    assert sign_in(client, email).status_code == 302


def base(bordereau_id: int) -> str:
    return f"/agents/finances/bordereaux/{bordereau_id}"


def state(app, bordereau_id: int) -> tuple[str, list[str]]:
    with app.app_context():
        bordereau = get_session().get(Bordereau, bordereau_id)
        return bordereau.state, [line.status for line in bordereau.lines]


def lines(app, bordereau_id: int) -> list[tuple[int, str]]:
    with app.app_context():
        bordereau = get_session().get(Bordereau, bordereau_id)
        return [(line.act_id, line.act_number) for line in bordereau.lines]


def upload(client, bordereau_id: int, content: bytes):
    return client.post(
        f"{base(bordereau_id)}/retour-banque",
        data={"retour-file": (io.BytesIO(content), "retour.csv")},
        content_type="multipart/form-data",
    )


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_finance_downloads_the_files_and_sees_the_payment_page(app, client):
    bordereau_id = signed_bordereau(app, [150_000, 275_500])
    login(client, FINANCE)
    with app.app_context():
        number = get_session().get(Bordereau, bordereau_id).number

    response = client.get(f"{base(bordereau_id)}/virements.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="virements-budget-principal-{number}.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"\xef\xbb\xbfbordereau;mandat;")

    response = client.get(f"{base(bordereau_id)}/virements.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.headers["Content-Disposition"].endswith(f'-{number}.xml"')
    document = etree.fromstring(response.data)
    assert document.findtext(f".//{{{PAIN_001}}}GrpHdr/{{{PAIN_001}}}CtrlSum") == "425500"

    page = client.get(f"{base(bordereau_id)}/paiement")
    assert page.status_code == 200
    body = text(page)
    for expected in ("virements.xml", "virements.csv", "Enregistrer le paiement", "retour-banque"):
        assert expected in body
    assert body.count("Enregistrer un rejet de la banque") == 2


def test_files_of_an_unsigned_bordereau_are_refused(app, client):
    bordereau_id = sign_acts(app, make_acts(app, [90_000]), signed=False)
    login(client, FINANCE)
    for name in ("virements.csv", "virements.xml"):
        response = client.get(f"{base(bordereau_id)}/{name}")
        assert response.status_code == 409
        assert "n’existent qu’une fois le bordereau signé" in text(response)
    assert client.get(f"{base(bordereau_id)}/paiement").status_code == 200
    assert client.get(f"{base(9999)}/virements.csv").status_code == 404


def test_marking_paid_records_every_transfer(app, client):
    bordereau_id = signed_bordereau(app, [150_000, 275_500])
    login(client, FINANCE)
    url = f"{base(bordereau_id)}/paiement"
    for value, message in (
        ("hier ?", "date valide"),
        ((TODAY + timedelta(days=1)).isoformat(), "futur"),
    ):
        response = client.post(url, data={"paiement-paid_on": value})
        assert response.status_code == 400 and message in text(response)
    assert state(app, bordereau_id) == ("signed", ["pending", "pending"])

    response = client.post(url, data={"paiement-paid_on": TODAY.isoformat()})
    assert response.status_code == 302 and response.location.endswith(url)
    assert f"2 virements enregistrés comme payés le {TODAY:%d/%m/%Y}." in text(client.get(url))
    assert state(app, bordereau_id) == ("paid", ["paid", "paid"])

    response = client.post(url, data={"paiement-paid_on": TODAY.isoformat()})
    assert response.status_code == 409 and "déjà payé" in text(response)


def test_a_bank_return_with_errors_is_shown_and_changes_nothing(app, client):
    bordereau_id = signed_bordereau(app, [150_000, 275_500])
    (_, first), (_, second) = lines(app, bordereau_id)
    login(client, FINANCE)
    assert client.post(f"{base(bordereau_id)}/retour-banque", data={}).status_code == 400

    wrong = f"mandat;statut;date;motif\n{first};payé;{TODAY};\n{second};rejeté;{TODAY};\n"
    response = upload(client, bordereau_id, wrong.encode())
    assert response.status_code == 422
    body = text(response)
    assert (
        "rien n’a été enregistré" in body and "Ligne 3 : un rejet doit indiquer son motif." in body
    )
    assert state(app, bordereau_id) == ("signed", ["pending", "pending"])

    good = f"mandat;statut;date;motif\n{first};payé;{TODAY};\n{second};rejeté;{TODAY};Compte clos\n"
    response = upload(client, bordereau_id, good.encode())
    assert response.status_code == 302
    assert "1 payé, 1 rejeté" in text(client.get(response.location))
    assert state(app, bordereau_id) == ("paid", ["paid", "rejected"])
    response = upload(client, bordereau_id, good.encode())
    assert response.status_code == 302
    assert "2 déjà enregistrés" in text(client.get(response.location))


def test_rejecting_one_transfer_by_hand(app, client):
    bordereau_id = signed_bordereau(app, [150_000, 275_500])
    (act_id, number), (other_id, _) = lines(app, bordereau_id)
    login(client, FINANCE)
    url = f"{base(bordereau_id)}/actes/{act_id}/rejet"
    response = client.post(url, data={f"rejet-{act_id}-reason": ""})
    assert response.status_code == 400 and "Indiquez le motif du rejet." in text(response)
    assert client.post(f"{base(bordereau_id)}/actes/9999/rejet").status_code == 404

    response = client.post(url, data={f"rejet-{act_id}-reason": "Compte clos"})
    assert response.status_code == 302
    assert f"Le rejet du mandat {number} est enregistré" in text(client.get(response.location))
    assert state(app, bordereau_id) == ("signed", ["rejected", "pending"])
    response = client.post(url, data={f"rejet-{act_id}-reason": "Encore"})
    assert response.status_code == 409 and "pas en attente de paiement" in text(response)
    body = text(client.get(f"{base(bordereau_id)}/paiement"))
    assert body.count("Enregistrer un rejet de la banque") == 1 and "Compte clos" in body
    assert other_id != act_id


def test_who_may_see_and_who_may_record_payments(app, client):
    bordereau_id = signed_bordereau(app, [150_000])
    [(act_id, _number)] = lines(app, bordereau_id)
    reads = [
        f"{base(bordereau_id)}/{name}" for name in ("paiement", "virements.csv", "virements.xml")
    ]
    writes = {
        f"{base(bordereau_id)}/paiement": {"paiement-paid_on": TODAY.isoformat()},
        f"{base(bordereau_id)}/retour-banque": {},
        f"{base(bordereau_id)}/actes/{act_id}/rejet": {f"rejet-{act_id}-reason": "Motif"},
    }
    for url in reads:
        assert client.get(url).status_code == 302  # to the sign-in page
    for email in (AGENT, APPROVER):
        login(client, email)
        assert {client.get(url).status_code for url in reads} == {403}
        assert {client.post(url, data=data).status_code for url, data in writes.items()} == {403}
    login(client, ADMIN)
    assert {client.get(url).status_code for url in reads} == {200}
    assert {client.post(url, data=data).status_code for url, data in writes.items()} == {403}
    body = text(client.get(reads[0]))
    assert "virements.xml" in body and "Enregistrer le paiement" not in body
    assert "Enregistrer un rejet" not in body
    assert state(app, bordereau_id) == ("signed", ["pending"])
