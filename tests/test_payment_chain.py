"""The whole chain through HTTP: a demo request filled by its applicant ends paid.

Every step is a request to the running app, as its users make them; only the jobs run in real
RQ worker processes between the steps. Reading the database is for checking, never for acting.
"""

import io
import re
import subprocess
import time
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pyotp
import sepaxml
from lxml import etree
from pypdf import PdfReader
from sqlalchemy import select

from forms_app.db import get_session
from forms_app.models import ActState, Bordereau, PaymentAct, Role, Submission
from tests.backoffice_support import staff
from tests.formdefs.demo.test_aide_entreprises import business_post
from tests.support import (
    PASSWORD,
    latest_submission,
    make_user,
    run_worker_burst,
    sent_mails,
    submit_answers,
)

SLUG = "aide-entreprises-covid"
AGENT, APPROVER, FINANCE = "agent@example.nc", "valideur@example.nc", "finances@example.nc"
XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"


def revision(client, reference: str, action: str) -> int:
    """The revision the dossier page puts in the form of `action`."""
    page = client.get(f"/agents/demandes/{reference}").text
    found = re.search(rf'name="{action}-revision"[^>]*value="(\d+)"', page)
    assert found, f"no {action} form on the dossier page"
    return int(found.group(1))


def act(client, reference: str, action: str, **fields):
    data = {f"{action}-revision": revision(client, reference, action)}
    data |= {f"{action}-{key}": value for key, value in fields.items()}
    response = client.post(f"/agents/demandes/{reference}/traitement/{action}", data=data)
    assert response.status_code == 302, response.text
    return response


def state(app, reference: str) -> str:
    with app.app_context():
        found = select(Submission.state).where(Submission.reference == reference)
        return get_session().scalar(found)


def pdf_text(content: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_a_demo_request_goes_from_the_form_to_paid_through_http(app, tmp_path):
    from forms_app.forms_cli import load_demo_forms

    with app.app_context():
        load_demo_forms()
    applicant = app.test_client()
    assert submit_answers(applicant, SLUG, business_post()).status_code == 302
    reference = latest_submission(app).reference
    run_worker_burst(app)  # receipt and checks

    agent = staff(app, AGENT, Role.AGENT)
    approver = staff(app, APPROVER, Role.APPROVER)
    act(agent, reference, "take")
    act(agent, reference, "propose_accept", amount="300 000")
    act(approver, reference, "approve")
    assert state(app, reference) == "approved"
    run_worker_burst(app)  # the payment act: numbered, then rendered
    assert state(app, reference) == "act_issued"

    # Finance enrols its second factor at its first sign-in.
    make_user(app, Role.FINANCE, email=FINANCE, enrolled=False)
    finance = app.test_client()
    password = finance.post("/agents/connexion", data={"email": FINANCE, "password": PASSWORD})
    assert password.headers["Location"] == "/agents/connexion/activation"
    page = finance.get("/agents/connexion/activation").text
    secret = re.search(r'class="totp-secret"><code lang="en">([A-Z2-7 ]+)</code>', page).group(1)
    codes = pyotp.TOTP(secret.replace(" ", ""))
    enrolled = finance.post("/agents/connexion/activation", data={"code": codes.now()})
    assert enrolled.status_code == 200 and "Vos codes de secours" in enrolled.text

    index = finance.get("/agents/finances/").text
    [act_id] = map(int, re.findall(r'name="acts" value="(\d+)"', index))
    with finance.get(f"/agents/finances/actes/{act_id}/mandat.pdf") as mandat:
        assert mandat.status_code == 200 and mandat.mimetype == "application/pdf"
        text = pdf_text(mandat.data)
    assert reference in text and "SARL LAGON BLEU TOURS" in text
    assert "300 000" in text and "trois cent mille francs CFP" in text

    built = finance.post("/agents/finances/bordereaux", data={"acts": [act_id], "action": "build"})
    assert built.status_code == 302
    bordereau = built.headers["Location"]
    run_worker_burst(app)  # the bordereau's PDF
    later = codes.at(time.time() + 30)  # the enrolment used this step's code
    signed = finance.post(f"{bordereau}/signature", data={"password": PASSWORD, "code": later})
    assert signed.status_code == 302, signed.text
    assert state(app, reference) == "signed"

    with finance.get(f"{bordereau}/bordereau-signe.pdf") as download:
        signed_pdf = download.data
    (tmp_path / "bordereau.pdf").write_bytes(signed_pdf)
    report = subprocess.run(
        ["pdfsig", str(tmp_path / "bordereau.pdf")], capture_output=True, text=True, check=False
    ).stdout
    assert "Signature Validation: Signature is Valid." in report

    with finance.get(f"{bordereau}/virements.xml") as transfers:
        assert transfers.status_code == 200
        document = etree.fromstring(transfers.data)
    etree.XMLSchema(etree.parse(str(XSD))).assertValid(document)
    with app.app_context():
        number = get_session().scalar(select(PaymentAct.number).where(PaymentAct.id == act_id))
    namespace = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
    assert document.findtext(".//p:EndToEndId", namespaces=namespace) == number
    assert document.find(".//p:InstdAmt", namespace).text == "300000"

    today = datetime.now(ZoneInfo("Pacific/Noumea")).strftime("%d/%m/%Y")
    bank_return = f"mandat;statut;date;motif\n{number};payé;{today};\n".encode()
    imported = finance.post(
        f"{bordereau}/retour-banque",
        data={"retour-file": (io.BytesIO(bank_return), "retour.csv")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 302, imported.text
    assert state(app, reference) == "paid"
    with app.app_context():
        db = get_session()
        assert db.get(PaymentAct, act_id).state == ActState.PAID
        assert db.scalar(select(Bordereau.state)) == "paid"

    run_worker_burst(app)  # the applicant hears of the payment
    notices = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sent_mails(app)]
    paid = [m for m in notices if "paiement a été effectué" in m.get_body().get_content()]
    assert len(paid) == 1 and reference in paid[0]["Subject"]
