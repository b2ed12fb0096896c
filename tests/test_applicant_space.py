"""The applicant space: magic link by e-mail, own requests only, files, withdrawal."""

import hashlib
import re
from email import message_from_bytes, policy
from urllib.parse import urlsplit

from sqlalchemy import func, select

from forms_app import links
from forms_app.db import get_session
from forms_app.formdefs.files import CheckedFile
from forms_app.models import Attachment, Event, OutboxMessage, Role, Submission
from tests.support import (
    PASSWORD,
    make_user,
    publish_form,
    run_worker_burst,
    sent_mails,
    submit_directly,
)

EMAIL = "gerant@lagon-bleu.nc"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
FIELDS = [
    {"key": "nom", "type": "text", "label": "Raison sociale", "required": True},
    {"key": "courriel", "type": "email", "label": "Adresse e-mail", "required": True},
    {"key": "devis", "type": "file", "label": "Devis", "accept": ["pdf"]},
]


def publish_space_form(app) -> str:
    return publish_form(app, FIELDS, slug="aide")


def make_submission(app, email: str = EMAIL, *, with_file: bool = False) -> str:
    """Submit through the real submission code path; return the reference."""
    answers = {"nom": "SARL Le Lagon Bleu", "courriel": email}
    if with_file:
        digest = hashlib.sha256(PDF).hexdigest()
        answers["devis"] = [CheckedFile("devis.pdf", "application/pdf", len(PDF), digest, PDF)]
    return submit_directly(app, "aide", answers)


def sign_in(app, client, email: str = EMAIL) -> None:
    """Open the space as the owner of `email` would, from the e-mailed link."""
    with app.app_context():
        token = links.make("space", {"email": email})
    assert client.get(f"/mon-espace/acces/{token}").status_code == 302


def outbox_count(app, job: str = "send_email") -> int:
    with app.app_context():
        return get_session().scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.job == job)
        )


def get_submission(app, reference: str) -> Submission:
    """The submission, read in the current app context or a new one."""
    with app.app_context():
        return get_session().scalar(select(Submission).where(Submission.reference == reference))


def first_file_id(app, reference: str) -> int:
    with app.app_context():
        return get_session().scalar(
            select(Attachment.id)
            .join(Submission, Attachment.submission_id == Submission.id)
            .where(Submission.reference == reference)
            .order_by(Attachment.id)
        )


def test_magic_link_end_to_end(app, client):
    publish_space_form(app)
    reference = make_submission(app, "Gerant@Lagon-Bleu.nc")
    older = make_submission(app)
    page = client.post("/mon-espace/connexion", data={"email": "  GERANT@lagon-bleu.nc "})
    assert page.status_code == 200
    assert "Si une demande est associée à cette adresse, un lien vous a été envoyé" in page.text
    assert outbox_count(app) == 1

    run_worker_burst(app)
    [mail] = [
        m
        for m in (
            message_from_bytes(p.read_bytes(), policy=policy.default) for p in sent_mails(app)
        )
        if "suivre vos demandes" in m["Subject"]
    ]
    assert mail["To"] == EMAIL
    link = re.search(r"https?://\S+/mon-espace/acces/\S+", mail.get_content()).group(0)

    applicant = app.test_client()
    assert applicant.get("/mon-espace/").headers["Location"].endswith("/mon-espace/connexion")
    response = applicant.get(urlsplit(link).path)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/mon-espace/")
    listing = applicant.get("/mon-espace/").text
    assert reference in listing and older in listing
    assert listing.index(older) < listing.index(reference)  # newest first
    assert "Formulaire d’essai" in listing and "Déposée" in listing


def test_drafts_and_other_peoples_requests_are_not_listed(app, client):
    publish_space_form(app)
    mine = make_submission(app)
    theirs = make_submission(app, "voisin@example.nc")
    with app.app_context():
        db = get_session()
        draft = Submission(
            form_id=get_submission(app, mine).form_id,
            form_version_id=get_submission(app, mine).form_version_id,
            state="draft",
            answers={},
            applicant_email=EMAIL,
        )
        db.add(draft)
        db.commit()
    sign_in(app, client)
    listing = client.get("/mon-espace/").text
    assert mine in listing and theirs not in listing
    assert listing.count("/mon-espace/demandes/") == 1


def test_unknown_address_gets_the_same_answer_and_no_mail(app, client):
    publish_space_form(app)
    make_submission(app)
    known = client.post("/mon-espace/connexion", data={"email": EMAIL})
    unknown = client.post("/mon-espace/connexion", data={"email": "inconnu@example.nc"})
    assert unknown.status_code == known.status_code == 200
    assert unknown.text == known.text
    assert outbox_count(app) == 1  # only for the known address


def test_a_malformed_address_is_refused_in_french(client):
    response = client.post("/mon-espace/connexion", data={"email": "pas-une-adresse"})
    assert response.status_code == 400
    assert "Saisissez une adresse e-mail valide" in response.text


def test_the_connexion_form_needs_its_csrf_token(app, client):
    publish_space_form(app)
    make_submission(app)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/mon-espace/connexion", data={"email": EMAIL}).status_code == 400
    assert outbox_count(app) == 0
    page = client.get("/mon-espace/connexion")
    token = page.text.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/mon-espace/connexion", data={"email": EMAIL, "csrf_token": token})
    assert response.status_code == 200
    assert outbox_count(app) == 1


def test_expired_tampered_or_foreign_links_are_refused(app, client):
    with app.app_context():
        valid = links.make("space", {"email": EMAIL})
        foreign = links.make("resume", {"email": EMAIL})
    for token in (valid[:-2] + "xx", foreign, "n-importe-quoi"):
        response = client.get(f"/mon-espace/acces/{token}")
        assert response.status_code == 400
        assert "Ce lien a expiré" in response.text
        assert 'href="/mon-espace/connexion"' in response.text
    app.config["APPLICANT_LINK_MAX_AGE"] = -1  # every link is already too old
    assert client.get(f"/mon-espace/acces/{valid}").status_code == 400
    assert client.get("/mon-espace/").status_code == 302


def test_someone_elses_request_is_not_found(app, client):
    publish_space_form(app)
    theirs = make_submission(app, "voisin@example.nc", with_file=True)
    file_id = first_file_id(app, theirs)
    sign_in(app, client)
    base = f"/mon-espace/demandes/{theirs}"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/recu.pdf").status_code == 404
    assert client.get(f"{base}/pieces/{file_id}").status_code == 404
    assert client.post(f"{base}/messages", data={"body": "Bonjour"}).status_code == 404
    assert client.post(f"{base}/retrait").status_code == 404
    assert client.get("/mon-espace/demandes/AIDE-2026-999999").status_code == 404
    assert get_submission(app, theirs).state == "submitted"


def test_the_request_page_shows_state_timeline_answers_and_files(app, client):
    publish_space_form(app)
    reference = make_submission(app, with_file=True)
    sign_in(app, client)
    page = client.get(f"/mon-espace/demandes/{reference}").text
    for expected in ("Déposée", "Demande déposée", "SARL Le Lagon Bleu", "devis.pdf", "recu.pdf"):
        assert expected in page, expected


def test_files_go_to_their_owner_and_to_staff_only(app, client, auth):
    publish_space_form(app)
    reference = make_submission(app, with_file=True)
    other = make_submission(app, "voisin@example.nc", with_file=True)
    file_id = first_file_id(app, reference)
    sign_in(app, client)
    with client.get(f"/mon-espace/demandes/{reference}/pieces/{file_id}") as response:
        assert response.status_code == 200
        assert response.data == PDF
        assert response.headers["Content-Disposition"].startswith("attachment")
    # The file exists, but not under that other request.
    assert client.get(f"/mon-espace/demandes/{other}/pieces/{file_id}").status_code == 404

    staff_url = f"/agents/demandes/{reference}/pieces/{file_id}"
    anonymous = app.test_client()
    assert "/agents/connexion" in anonymous.get(staff_url).headers["Location"]
    make_user(app, Role.DESIGNER, email="concepteur@example.nc")
    make_user(app, Role.AGENT)
    staff = app.test_client()
    staff.post("/agents/connexion", data={"email": "concepteur@example.nc", "password": PASSWORD})
    assert staff.get(staff_url).status_code == 403
    auth.login()
    with client.get(staff_url) as response:
        assert response.status_code == 200
        assert response.data == PDF
    assert client.get(f"/agents/demandes/{other}/pieces/{file_id}").status_code == 404


def test_withdraw_then_refuse_a_second_time(app, client):
    publish_space_form(app)
    reference = make_submission(app)
    sign_in(app, client)
    base = f"/mon-espace/demandes/{reference}"
    assert "Retirer ma demande" in client.get(base).text
    assert "Oui, retirer ma demande" in client.get(f"{base}/retrait").text
    response = client.post(f"{base}/retrait", data={"reason": "Aide obtenue ailleurs"})
    assert response.status_code == 302
    page = client.get(base).text
    assert "Retirée" in page and "Demande retirée" in page and "Retirer ma demande" not in page

    again = client.post(f"{base}/retrait")
    assert again.status_code == 409
    assert "déjà été retirée" in again.text
    with app.app_context():
        submission = get_submission(app, reference)
        events = get_session().scalars(
            select(Event)
            .where(Event.subject_type == "submission", Event.subject_id == submission.id)
            .order_by(Event.id)
        )
        [withdraw] = [e for e in events if e.action == "withdraw"]
    assert (withdraw.from_state, withdraw.to_state) == ("submitted", "withdrawn")
    assert withdraw.details == {"by": "applicant", "reason": "Aide obtenue ailleurs"}


def test_a_decided_request_cannot_be_withdrawn(app, client):
    publish_space_form(app)
    reference = make_submission(app)
    with app.app_context():
        db = get_session()
        submission = db.scalar(select(Submission).where(Submission.reference == reference))
        for action in ("take", "propose", "approve"):
            submission.apply(db, action)
        db.commit()
    sign_in(app, client)
    page = client.get(f"/mon-espace/demandes/{reference}").text
    assert "Acceptée" in page and "Retirer ma demande" not in page
    for response in (
        client.get(f"/mon-espace/demandes/{reference}/retrait"),
        client.post(f"/mon-espace/demandes/{reference}/retrait"),
    ):
        assert response.status_code == 409
        assert "Une décision a déjà été prise" in response.text
    assert get_submission(app, reference).state == "approved"


def test_leaving_the_space_forgets_the_address(app, client):
    sign_in(app, client)
    assert client.get("/mon-espace/").status_code == 200
    assert client.post("/mon-espace/deconnexion").status_code == 302
    assert client.get("/mon-espace/").status_code == 302
