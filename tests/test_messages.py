"""Messages between the applicant and the agents, with an optional file from the applicant."""

import io
import re
from email import message_from_bytes, policy

from sqlalchemy import func, select

from forms_app import storage
from forms_app.db import get_session
from forms_app.models import Attachment, Event, Message, Role
from tests.support import PASSWORD, make_user, run_worker_burst, sent_mails
from tests.test_applicant_space import (
    EMAIL,
    PDF,
    get_submission,
    make_submission,
    outbox_count,
    publish_space_form,
    sign_in,
)

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"PE\x00\x00"


def count(app, model, *where) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(model).where(*where))


def message_events(app, reference: str) -> list[Event]:
    submission_id = get_submission(app, reference).id
    with app.app_context():
        return list(
            get_session().scalars(
                select(Event).where(
                    Event.subject_type == "submission",
                    Event.subject_id == submission_id,
                    Event.action == "message",
                )
            )
        )


def test_applicant_replies_with_a_pdf_and_the_agent_reads_it(app, client):
    publish_space_form(app)
    reference = make_submission(app)
    sign_in(app, client)
    response = client.post(
        f"/mon-espace/demandes/{reference}/messages",
        data={"body": "Voici le devis signé.", "piece": (io.BytesIO(PDF), "devis-signe.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        message = get_session().scalar(select(Message))
        [attachment] = message.attachments
        assert (message.author, message.body, message.read_at) == (
            "applicant",
            "Voici le devis signé.",
            None,
        )
        assert attachment.submission_id == message.submission_id
        assert (attachment.original_name, attachment.content_type) == (
            "devis-signe.pdf",
            "application/pdf",
        )
        assert storage.read(attachment.storage_key) == PDF
        attachment_id = attachment.id
    [event] = message_events(app, reference)
    assert event.details == {"author": "applicant", "message_id": message.id}

    page = client.get(f"/mon-espace/demandes/{reference}").text
    assert "Voici le devis signé." in page and "devis-signe.pdf" in page
    with client.get(f"/mon-espace/demandes/{reference}/pieces/{attachment_id}") as download:
        assert download.data == PDF

    make_user(app, Role.AGENT)
    agent = app.test_client()
    agent.post("/agents/connexion", data={"email": "agent@example.nc", "password": PASSWORD})
    staff_page = agent.get(f"/agents/demandes/{reference}").text
    assert "Voici le devis signé." in staff_page and "Nouveau" in staff_page
    assert f"/agents/demandes/{reference}/pieces/{attachment_id}" in staff_page
    assert count(app, Message, Message.read_at.is_not(None)) == 1
    assert "Nouveau" not in agent.get(f"/agents/demandes/{reference}").text


def test_an_exe_renamed_pdf_is_refused_and_nothing_is_stored(app, client):
    publish_space_form(app)
    reference = make_submission(app)
    sign_in(app, client)
    response = client.post(
        f"/mon-espace/demandes/{reference}/messages",
        data={"body": "Mon justificatif", "piece": (io.BytesIO(EXE), "justificatif.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Le fichier « justificatif.pdf » doit être au format PDF, JPEG, PNG." in response.text
    assert "Mon justificatif" in response.text  # what was typed is kept
    assert count(app, Message) == 0
    assert count(app, Attachment) == 0
    assert message_events(app, reference) == []
    with app.app_context():
        root = storage.backend().root
        assert not root.exists() or not any(root.rglob("*"))


def test_an_empty_or_too_long_message_is_refused(app, client):
    publish_space_form(app)
    reference = make_submission(app)
    sign_in(app, client)
    url = f"/mon-espace/demandes/{reference}/messages"
    empty = client.post(url, data={"body": "   "})
    assert empty.status_code == 400 and "Écrivez votre message." in empty.text
    long = client.post(url, data={"body": "a" * 5001})
    assert long.status_code == 400 and "ne doit pas dépasser 5 000 caractères" in long.text
    assert client.post(url, data={"body": "a" * 5000}).status_code == 302
    assert count(app, Message) == 1


def test_an_agent_message_reaches_the_applicant_by_e_mail_without_its_content(app, client, auth):
    publish_space_form(app)
    reference = make_submission(app)
    make_user(app, Role.AGENT)
    auth.login()
    response = client.post(
        f"/agents/demandes/{reference}/messages",
        data={"body": "Merci d’envoyer votre Kbis."},
    )
    assert response.status_code == 302
    assert outbox_count(app) == 1
    [event] = message_events(app, reference)
    assert event.details["author"] == "agent" and event.actor_id is not None

    run_worker_burst(app)
    mails = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sent_mails(app)]
    [mail] = [m for m in mails if "nouveau message" in m["Subject"]]
    assert mail["To"] == EMAIL
    assert (
        mail["Subject"].strip()
        == f"Vous avez un nouveau message concernant votre demande {reference}"
    )
    body = mail.get_content()
    assert re.search(r"https?://\S+/mon-espace/connexion", body)
    assert "Kbis" not in body

    applicant = app.test_client()
    sign_in(app, applicant)
    page = applicant.get(f"/mon-espace/demandes/{reference}").text
    assert "Merci d’envoyer votre Kbis." in page
    assert "Message de l’administration" in page
    assert count(app, Message, Message.read_at.is_not(None)) == 1


def test_an_empty_agent_message_is_refused_with_the_page(app, client, auth):
    publish_space_form(app)
    reference = make_submission(app)
    make_user(app, Role.AGENT)
    auth.login()
    response = client.post(f"/agents/demandes/{reference}/messages", data={"body": ""})
    assert response.status_code == 400
    assert "Écrivez votre message." in response.text and reference in response.text
    assert count(app, Message) == 0 and outbox_count(app) == 0


def test_only_agents_and_admins_write_to_applicants(app, client, auth):
    publish_space_form(app)
    reference = make_submission(app)
    url = f"/agents/demandes/{reference}/messages"
    assert (
        "/agents/connexion" in app.test_client().post(url, data={"body": "x"}).headers["Location"]
    )
    make_user(app, Role.APPROVER)
    auth.login()
    assert client.post(url, data={"body": "Bonjour"}).status_code == 403
    assert "Envoyer le message" not in client.get(f"/agents/demandes/{reference}").text
    assert (
        client.post("/agents/demandes/AIDE-2026-999999/messages", data={"body": "x"}).status_code
        == 403
    )
    assert count(app, Message) == 0
