"""The applicant downloads everything Guichet holds for their address, as one ZIP."""

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

from sqlalchemy import select

from forms_app import casework, links, receipts, storage
from forms_app.db import get_session
from forms_app.formdefs.files import CheckedFile
from forms_app.models import Attachment, Event, Flag, Note, Role, Submission, User
from forms_app.storage_errors import StorageUnavailable
from tests.backoffice_support import PNG
from tests.support import make_user, publish_form, sign_in, submit_directly

EMAIL, OTHER_EMAIL = "lea.wamytan@example.nc", "marc.gope@example.nc"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
FIELDS = [
    {"key": "nom", "type": "text", "label": "Nom", "required": True},
    {"key": "montant", "type": "amount", "label": "Montant demandé", "required": True},
    {"key": "courriel", "type": "email", "label": "Adresse e-mail", "required": True},
    {"key": "devis", "type": "file", "label": "Devis", "accept": ["pdf"]},
]
AGENT_NAME = "Test User"  # make_user's name for every account
AGENT_EMAIL = "agent@example.nc"
# What agents keep for themselves, and what the checks compute: never in the archive.
INTERNAL = ("NOTE-INTERNE-7731", "FLAG-INTERNE-7731", "DUPKEY7", "CHERCHE-7731", "REGLE-7731")


def request_of(app, email: str, name: str) -> str:
    """A submitted request with its PDF, through the real submission code; its reference."""
    digest = hashlib.sha256(PDF).hexdigest()
    answers = {
        "nom": name,
        "montant": 120_000,
        "courriel": email,
        "devis": [CheckedFile("devis signé.pdf", "application/pdf", len(PDF), digest, PDF)],
    }
    return submit_directly(app, "aide", answers)


def draft_of(app, email: str, name: str) -> None:
    """A draft saved for later as a browser does: a name typed, the address left."""
    browser = app.test_client()
    browser.post("/demarches/aide/")
    browser.post("/demarches/aide/etapes/1", data={"nom": name})
    assert browser.post("/demarches/aide/enregistrer", data={"email": email}).status_code == 200


def open_space(app, client, email: str = EMAIL) -> None:
    with app.app_context():
        token = links.make("space", {"email": email})
    assert client.get(f"/mon-espace/acces/{token}").status_code == 302


def load(app, reference: str) -> Submission:
    with app.app_context():
        return get_session().scalar(select(Submission).where(Submission.reference == reference))


def casework_on(app, reference: str) -> None:
    """An agent writes to the applicant, keeps a note, the checks raise a flag and keys."""
    make_user(app, Role.AGENT, email=AGENT_EMAIL)
    with app.app_context():
        db = get_session()
        found = db.scalar(select(Submission).where(Submission.reference == reference))
        agent = db.scalar(select(User).filter_by(email=AGENT_EMAIL))
        casework.write_to_applicant(db, found, agent, "Merci d’envoyer votre RIB.", notify=False)
        db.add(Note(submission_id=found.id, author_id=agent.id, body=INTERNAL[0]))
        db.add(Flag(submission_id=found.id, kind="same_rid", key="k", message=INTERNAL[1]))
        found.dup_rid, found.search_text = INTERNAL[2], INTERNAL[3]
        found.rule_results = {"note": INTERNAL[4]}
        receipts.ensure_receipt(db, found)
        db.commit()


def download(client, url: str = "/mon-espace/mes-donnees") -> zipfile.ZipFile:
    """The archive, read whole; the response closed as a server closes it."""
    with client.get(url) as response:
        assert response.status_code == 200, response.text
        return zipfile.ZipFile(io.BytesIO(response.data))


def holds(archive: zipfile.ZipFile, text: str) -> bool:
    """Whether any entry of the archive holds `text` (UTF-8, as donnees.json is written)."""
    return any(text.encode() in archive.read(name) for name in archive.namelist())


def events(app, action: str) -> list[Event]:
    with app.app_context():
        return list(get_session().scalars(select(Event).filter_by(action=action)))


def two_applicants(app, client) -> tuple[str, str]:
    """Léa's request (worked on) and draft, Marc's request and draft; Léa's space open."""
    publish_form(app, FIELDS, slug="aide")
    mine = request_of(app, EMAIL, "Léa Wamytan")
    theirs = request_of(app, OTHER_EMAIL, "Marc Gope")
    casework_on(app, mine)
    draft_of(app, EMAIL, "Brouillon de Léa")
    draft_of(app, OTHER_EMAIL, "Brouillon de Marc")
    open_space(app, client)
    return mine, theirs


def test_the_archive_holds_requests_drafts_thread_history_and_files(app, client):
    mine, theirs = two_applicants(app, client)
    reply = {"body": "Voici mon RIB.", "piece": (io.BytesIO(PNG), "RIB: mars*2026?.png")}
    client.post(f"/mon-espace/demandes/{mine}/messages", data=reply)

    with client.get("/mon-espace/mes-donnees") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/zip"
        disposition = response.headers["Content-Disposition"]
        assert re.fullmatch(r"attachment; filename=mes-donnees-guichet-[\d-]{10}\.zip", disposition)
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.content_length == len(response.data)
        archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None
    data = json.loads(archive.read("donnees.json").decode("utf-8"))
    assert "Léa Wamytan" in archive.read("donnees.json").decode("utf-8")  # not \u00e9
    assert data["email"] == EMAIL and data["generated_at"].endswith("Z")

    request, draft = data["submissions"]
    assert request["reference"] == mine and request["form_title"] == "Formulaire d’essai"
    assert (request["form_version"], request["state"]) == (1, "submitted")
    assert request["state_label"] == "Déposée"
    assert request["created_at"].endswith("Z") and request["submitted_at"].endswith("Z")
    [page] = request["answers"]
    shown = {field["label"]: field["value"] for field in page["fields"]}
    assert shown["Nom"] == "Léa Wamytan"
    assert shown["Montant demandé"] == "120\u202f000\u00a0F CFP"
    assert shown["Devis"] == "devis signé.pdf"
    assert request["raw_answers"]["montant"] == 120_000
    assert [line["label"] for line in request["history"]] == [
        "Demande déposée",
        "Message de l’administration",
        "Message envoyé",
    ]
    assert [(m["author"], m["body"]) for m in request["messages"]] == [
        ("agent", "Merci d’envoyer votre RIB."),
        ("applicant", "Voici mon RIB."),
    ]
    [sent] = request["messages"][1]["files"]
    assert sent["name"] == "RIB: mars*2026?.png"  # as sent; its name in the ZIP is portable
    assert re.fullmatch(rf"fichiers/{mine}/\d+-RIB_ mars_2026_\.png", sent["path"])
    assert archive.read(sent["path"]) == PNG
    [form_file] = request["files"]
    assert form_file["path"].startswith(f"fichiers/{mine}/") and form_file["size"] == len(PDF)
    assert archive.read(form_file["path"]) == PDF
    assert archive.read(request["receipt"]["path"]).startswith(b"%PDF-")
    assert request["receipt"]["path"] == f"fichiers/{mine}/accuse-reception-{mine}.pdf"

    assert (draft["reference"], draft["state"]) == (None, "draft")
    assert draft["state_label"] == "Brouillon"
    assert draft["draft_values"]["nom"] == ["Brouillon de Léa"]
    assert draft["kept_until"].endswith("Z")
    readme = archive.read("LISEZMOI.txt").decode("utf-8")
    assert EMAIL in readme and "Vos droits" in readme and "/signaler-un-probleme" in readme

    for absent in (theirs, "Marc Gope", "Brouillon de Marc", OTHER_EMAIL, AGENT_NAME, AGENT_EMAIL):
        assert not holds(archive, absent), absent
    for internal in INTERNAL:
        assert not holds(archive, internal), internal


def test_each_download_is_audited_on_what_it_handed_over_without_personal_data(app, client):
    mine, theirs = two_applicants(app, client)
    download(client)

    with app.app_context():
        own = set(get_session().scalars(select(Submission.id).filter_by(applicant_email=EMAIL)))
    exported = events(app, "data_exported")
    handed_over = {e.subject_id: e for e in exported}
    assert set(handed_over) == own and len(own) == 2  # the request and the draft
    assert load(app, theirs).id not in handed_over
    request_event = handed_over[load(app, mine).id]
    assert request_event.subject_type == "submission" and request_event.actor_id is None
    assert request_event.details == {"by": "applicant", "messages": 1, "files": 1, "receipt": True}
    for event in exported:
        assert set(event.details) == {"by", "messages", "files", "receipt"}
        assert EMAIL not in json.dumps(event.details)
    download(client)
    assert len(events(app, "data_exported")) == 4  # one per request and draft, per download

    staff = app.test_client()
    sign_in(staff, AGENT_EMAIL)
    dossier = staff.get(f"/agents/demandes/{mine}").text
    assert "Données personnelles téléchargées (droit d’accès)" in dossier


def test_the_archive_is_in_french_whatever_the_page_language(app, client):
    publish_form(app, FIELDS, slug="aide")
    request_of(app, EMAIL, "Léa Wamytan")
    open_space(app, client)
    data = json.loads(download(client, "/mon-espace/mes-donnees?lang=en").read("donnees.json"))
    assert data["submissions"][0]["state_label"] == "Déposée"
    assert data["submissions"][0]["history"][0]["label"] == "Demande déposée"


def test_anonymous_visitors_are_sent_to_the_space_login(app, client):
    publish_form(app, FIELDS, slug="aide")
    request_of(app, EMAIL, "Léa Wamytan")
    response = client.get("/mon-espace/mes-donnees")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/mon-espace/connexion")
    assert events(app, "data_exported") == []


def test_the_space_home_offers_the_download(app, client):
    open_space(app, client)
    page = client.get("/mon-espace/").text
    assert 'href="/mon-espace/mes-donnees"' in page and "Télécharger mes données" in page


def test_a_file_store_that_does_not_answer_gives_the_503_page_and_no_archive(
    app, client, monkeypatch
):
    publish_form(app, FIELDS, slug="aide")
    request_of(app, EMAIL, "Léa Wamytan")
    open_space(app, client)

    def away(key: str) -> bytes:
        raise StorageUnavailable("read: ConnectTimeoutError")

    with app.app_context():
        monkeypatch.setattr(storage.backend(), "read", away)
    response = client.get("/mon-espace/mes-donnees")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.mimetype == "text/html" and "Content-Disposition" not in response.headers
    assert events(app, "data_exported") == []


def test_a_file_the_store_lost_is_listed_without_a_path(app, client):
    publish_form(app, FIELDS, slug="aide")
    request_of(app, EMAIL, "Léa Wamytan")
    with app.app_context():
        [key] = get_session().scalars(select(Attachment.storage_key))
        Path(storage.backend().path(key)).unlink()
    open_space(app, client)
    archive = download(client)
    [request] = json.loads(archive.read("donnees.json"))["submissions"]
    assert request["files"][0]["name"] == "devis signé.pdf" and request["files"][0]["path"] is None
    assert not [name for name in archive.namelist() if name.startswith("fichiers/")]
