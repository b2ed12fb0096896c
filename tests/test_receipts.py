"""The receipt PDF: rendered by a real worker through the outbox, read back, e-mailed, downloaded."""

import io
from email import message_from_bytes, policy

import pytest
from pypdf import PdfReader

from forms_app import pdf
from forms_app.db import get_session
from forms_app.embedded_redis import EmbeddedRedis, free_port
from forms_app.models import Role, Submission
from tests.support import (
    latest_submission,
    make_user,
    publish_form,
    run_worker_burst,
    sent_mails,
    start_worker,
    stop_process,
    submit_answers,
    wait_until,
)

FIELDS = [
    {"key": "raison_sociale", "type": "text", "label": "Raison sociale", "required": True},
    {"key": "courriel", "type": "email", "label": "Adresse e-mail", "required": True},
    {"key": "montant", "type": "amount", "label": "Montant demandé", "required": True},
    {"key": "membres", "type": "group", "label": "Associés", "item_label": "associé",
     "fields": [{"key": "nom", "type": "text", "label": "Nom de l’associé", "required": True}]},
]  # fmt: skip
ANSWERS = {
    "raison_sociale": "SARL Le Lagon Bleu",
    "courriel": "gerant@lagon-bleu.nc",
    "montant": "1 500 000",
    "membres-0-nom": "Kaloï Wénémé",
}


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def receipt_bytes(app, submission_id: int) -> bytes | None:
    from forms_app import storage

    with app.app_context():
        submission = get_session().get(Submission, submission_id)
        return storage.read(submission.receipt_key) if submission.receipt_key else None


def test_receipt_lists_every_answer_and_is_e_mailed(app, client):
    slug = publish_form(app, FIELDS)
    assert submit_answers(client, slug, ANSWERS).status_code == 302
    submission = latest_submission(app)
    pending = client.get(f"/demarches/{slug}/merci/recu.pdf")
    assert pending.status_code == 202
    assert submission.reference in pending.text

    run_worker_burst(app)
    content = receipt_bytes(app, submission.id)
    text = pdf_text(content)
    for expected in (
        submission.reference,
        "Formulaire d’essai",
        "SARL Le Lagon Bleu",
        "gerant@lagon-bleu.nc",
        "Kaloï Wénémé",
        "Montant demandé",
        "Accusé de réception",
    ):
        assert expected in text, expected  # fmt: skip
    assert "1 500 000 F CFP" in text.replace("\u202f", " ").replace("\u00a0", " ")

    [mail] = sent_mails(app)
    message = message_from_bytes(mail.read_bytes(), policy=policy.default)
    assert message["To"] == "gerant@lagon-bleu.nc"
    assert submission.reference in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"accuse-reception-{submission.reference}.pdf"
    assert attachment.get_content() == content

    with client.get(f"/demarches/{slug}/merci/recu.pdf") as download:
        assert download.status_code == 200
        assert download.mimetype == "application/pdf"
        assert download.data == content


def test_receipt_is_rendered_once(app, client):
    from workflows import outbox

    slug = publish_form(app, FIELDS)
    submit_answers(client, slug, ANSWERS)
    submission = latest_submission(app)
    run_worker_burst(app)
    first = receipt_bytes(app, submission.id)
    with app.app_context():  # a second receipt job for the same submission, e.g. a retry
        session = get_session()
        outbox.add(session, "send_receipt", submission_id=submission.id)
        session.commit()
    run_worker_burst(app)
    assert receipt_bytes(app, submission.id) == first  # the stored act never changes
    assert len(sent_mails(app)) == 2


def test_staff_download_the_receipt_others_cannot(app, client, auth):
    slug = publish_form(app, FIELDS)
    submit_answers(client, slug, ANSWERS)
    submission = latest_submission(app)
    run_worker_burst(app)
    stranger = app.test_client()
    assert stranger.get(f"/demarches/{slug}/merci/recu.pdf").status_code == 404
    assert stranger.get(f"/agents/demandes/{submission.reference}/recu.pdf").status_code == 302
    make_user(app, Role.AGENT)
    auth.login()
    with client.get(f"/agents/demandes/{submission.reference}/recu.pdf") as response:
        assert response.status_code == 200
        assert submission.reference in pdf_text(response.data)


def test_submission_needs_neither_redis_nor_a_worker(app, client, tmp_path):
    redis = EmbeddedRedis(tmp_path / "redis", free_port())
    app.config["REDIS_URL"] = redis.url  # nothing listens there yet
    app.extensions.pop("guichet.redis", None)
    slug = publish_form(app, FIELDS)
    response = submit_answers(client, slug, ANSWERS)
    assert response.status_code == 302  # the applicant has a reference at once
    submission = latest_submission(app)
    assert submission.reference in client.get(f"/demarches/{slug}/merci").text
    worker = start_worker(app, tmp_path / "worker.log")
    try:
        redis.start()
        wait_until(lambda: sent_mails(app), timeout=60)
    finally:
        stop_process(worker)
        redis.stop()
    assert submission.reference in pdf_text(receipt_bytes(app, submission.id))


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        (pdf.TEMPLATES / ".." / "setup.cfg").as_uri(),
        "https://fonts.example.org/font.ttf",
        "data:text/css,body{}",
    ],
)
def test_fetcher_refuses_anything_outside_pdf_templates(url):
    with pytest.raises(pdf.RefusedResource):
        pdf._fetcher().fetch(url)


def test_fetcher_serves_the_shipped_stylesheet_and_fonts():
    for name in ("base.css", "fonts/DejaVuSans.ttf"):
        response = pdf._fetcher().fetch((pdf.TEMPLATES / name).as_uri())
        try:
            assert response.read()
        finally:
            response.close()
