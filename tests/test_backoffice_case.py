"""The dossier page: what staff see of a request, and its file previews."""

import pytest
from sqlalchemy import select

from forms_app import casework
from forms_app.db import get_session
from forms_app.models import Attachment, Flag, Role, Submission, User
from tests.backoffice_support import (
    AGENT,
    DESIGNER,
    PDF,
    PNG,
    load,
    make_request,
    publish_case_form,
    run,
    staff,
)


@pytest.fixture
def case(app):
    publish_case_form(app)
    return make_request(app, files=True)


def test_the_dossier_shows_state_flags_history_notes_and_previews(app, case):
    other = make_request(app, name="SARL Lagon Bleu bis")
    agent = staff(app, AGENT, Role.AGENT)
    mine, twin = load(app, case).id, load(app, other).id
    with app.app_context():
        db = get_session()
        db.add(
            Flag(
                submission_id=mine,
                kind="rid",
                key="1234567",
                message="Même RIDET qu’une autre demande",
                other_submission_id=twin,
            )
        )
        db.commit()
    run(app, case, AGENT, casework.take)
    with app.test_request_context():
        db = get_session()
        user = db.scalar(select(User).where(User.email == AGENT))
        casework.add_note(db, db.get(Submission, mine), user, "Appeler le gérant.")
        db.commit()

    page = agent.get(f"/agents/demandes/{case}")
    assert page.status_code == 200
    text = page.text
    assert "Formulaire d’essai" in text and f"Demande {case}" in text
    assert "En instruction" in text  # the state label
    assert "Test User" in text  # the assignee
    assert "300\u202f000\u00a0F CFP" in text  # the computed amount
    assert "Même RIDET qu’une autre demande" in text
    assert f'href="/agents/demandes/{other}"' in text
    assert "Demande déposée" in text and "Demande prise en charge" in text  # history
    assert text.index("Demande déposée") < text.index("Demande prise en charge")
    assert "Déposée → En instruction" in text
    assert "Appeler le gérant." in text and "Note interne ajoutée" in text
    with app.app_context():
        png_id, pdf_id = get_session().scalars(select(Attachment.id).order_by(Attachment.id))
    assert (
        f'<img class="attachment-preview" src="/agents/demandes/{case}/pieces/{png_id}/apercu"'
        in text
    )
    assert (
        f'<iframe class="attachment-preview attachment-preview--pdf" src="/agents/demandes/{case}/pieces/{pdf_id}/apercu"'
        in text
    )
    assert f'href="/agents/demandes/{case}/pieces/{pdf_id}"' in text  # plain download link
    # The dossier itself may still not be framed by anyone.
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_the_preview_serves_images_and_pdfs_inline_to_case_roles(app, case):
    agent = staff(app, AGENT, Role.AGENT)
    with app.app_context():
        png_id, pdf_id = get_session().scalars(select(Attachment.id).order_by(Attachment.id))
    for attachment_id, content_type, content in (
        (png_id, "image/png", PNG),
        (pdf_id, "application/pdf", PDF),
    ):
        with agent.get(f"/agents/demandes/{case}/pieces/{attachment_id}/apercu") as response:
            assert response.status_code == 200
            assert response.mimetype == content_type
            assert response.data == content
            assert response.headers["Content-Disposition"].startswith("inline")
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
            assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
            assert "private" in response.headers["Cache-Control"]
    other = make_request(app, files=True)
    with agent.get(f"/agents/demandes/{other}/pieces/{png_id}/apercu") as response:
        assert response.status_code == 404  # a file of another request


def test_the_preview_refuses_anonymous_visitors_and_other_roles(app, case, client):
    with app.app_context():
        png_id = get_session().scalar(select(Attachment.id).order_by(Attachment.id))
    url = f"/agents/demandes/{case}/pieces/{png_id}/apercu"
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/agents/connexion" in anonymous.headers["Location"]
    designer = staff(app, DESIGNER, Role.DESIGNER)
    assert designer.get(url).status_code == 403
