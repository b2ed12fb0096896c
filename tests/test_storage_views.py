"""Stored files served by the real views, and written by a real worker, on both backends."""

from pathlib import Path

import pytest
from sqlalchemy import select

from forms_app.db import get_session
from forms_app.models import Attachment, Role
from tests import storage_support
from tests.support import (
    latest_submission,
    make_user,
    publish_form,
    run_worker_burst,
    submit_answers,
)
from tests.test_applicant_space import (
    PDF,
    first_file_id,
    make_submission,
    publish_space_form,
    sign_in,
)

# The fixtures: each test runs with the filesystem backend and with an S3 server.
app_config, medium, moto_endpoint = (
    storage_support.app_config,
    storage_support.medium,
    storage_support.moto_endpoint,
)


def stored_key(app, attachment_id: int) -> str:
    with app.app_context():
        return get_session().get(Attachment, attachment_id).storage_key


def test_the_applicant_downloads_a_file_as_an_attachment(app, client, medium):
    publish_space_form(app)
    reference = make_submission(app, with_file=True)
    file_id = first_file_id(app, reference)
    assert medium.keys() == [stored_key(app, file_id)]
    sign_in(app, client)
    url = f"/mon-espace/demandes/{reference}/pieces/{file_id}"
    with client.get(url) as response:
        assert response.status_code == 200
        assert response.data == PDF
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"] == "attachment; filename=devis.pdf"
        assert response.headers["Content-Length"] == str(len(PDF))
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        etag = response.headers["ETag"]
    with client.get(url, headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304 and again.data == b""


def test_staff_preview_keeps_its_framing_rules(app, client, auth, medium):
    publish_space_form(app)
    reference = make_submission(app, with_file=True)
    file_id = first_file_id(app, reference)
    make_user(app, Role.AGENT)
    auth.login()
    with client.get(f"/agents/demandes/{reference}/pieces/{file_id}/apercu") as response:
        assert response.status_code == 200
        assert response.data == PDF
        assert response.headers["Content-Disposition"] == "inline; filename=devis.pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "private, no-store"
    with client.get(f"/agents/demandes/{reference}/pieces/{file_id}") as response:
        assert response.status_code == 200 and response.data == PDF
        assert response.headers["Content-Disposition"].startswith("attachment")


def test_a_file_missing_from_the_store_is_a_404(app, client, auth, medium):
    publish_space_form(app)
    reference = make_submission(app, with_file=True)
    file_id = first_file_id(app, reference)
    medium.delete(stored_key(app, file_id))
    sign_in(app, client)
    assert client.get(f"/mon-espace/demandes/{reference}/pieces/{file_id}").status_code == 404
    make_user(app, Role.AGENT)
    auth.login()
    for url in (
        f"/agents/demandes/{reference}/pieces/{file_id}",
        f"/agents/demandes/{reference}/pieces/{file_id}/apercu",
    ):
        assert client.get(url).status_code == 404, url


FIELDS = [
    {"key": "nom", "type": "text", "label": "Raison sociale", "required": True},
    {"key": "courriel", "type": "email", "label": "Adresse e-mail", "required": True},
    {"key": "devis", "type": "file", "label": "Devis", "accept": ["pdf"]},
]


@pytest.mark.timeout(240)
def test_a_submission_and_its_worker_rendered_receipt_end_up_in_the_store(app, client, medium):
    slug = publish_form(app, FIELDS, slug="aide")
    answers = {"nom": "SARL Le Lagon Bleu", "courriel": "gerant@lagon-bleu.nc"}
    assert submit_answers(client, slug, {**answers, "devis": (PDF, "devis.pdf")}).status_code == 302
    assert client.get(f"/demarches/{slug}/merci/recu.pdf").status_code == 202  # not yet

    run_worker_burst(app, timeout=180, **medium.worker_env())
    submission = latest_submission(app)
    with app.app_context():
        [file_key] = get_session().scalars(
            select(Attachment.storage_key).where(Attachment.submission_id == submission.id)
        )
    assert submission.receipt_key and medium.keys() == sorted([file_key, submission.receipt_key])
    receipt = medium.read(submission.receipt_key)
    assert not (Path(app.instance_path) / "uploads").exists()  # all in the configured store
    assert receipt.startswith(b"%PDF") and medium.read(file_key) == PDF

    for url in (f"/demarches/{slug}/merci/recu.pdf", None):
        if url is None:  # and from the applicant space
            sign_in(app, client, "gerant@lagon-bleu.nc")
            url = f"/mon-espace/demandes/{submission.reference}/recu.pdf"
        with client.get(url) as response:
            assert response.status_code == 200, url
            assert response.data == receipt
            disposition = f"attachment; filename=accuse-reception-{submission.reference}.pdf"
            assert response.headers["Content-Disposition"] == disposition
            assert response.headers["X-Content-Type-Options"] == "nosniff"
    medium.delete(submission.receipt_key)
    assert client.get(url).status_code == 404
