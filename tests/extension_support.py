"""Builders for the deadline-extension tests: forms with a closing date, drafts, proposals."""

from datetime import datetime, timedelta
from email import message_from_bytes, policy

from sqlalchemy import select

from forms_app import drafts
from forms_app.db import get_session, utcnow
from forms_app.models import DeadlineExtension, ExtensionStatus, Form, Submission
from tests.support import publish_form, sent_mails

FIELDS = [{"key": "nom", "type": "text", "label": "Nom", "required": True}]


def closing_form(app, slug: str, closes_in: timedelta, title: str = "Aide d’urgence") -> int:
    """Publish a one-field form closing `closes_in` from now; its id."""
    publish_form(app, FIELDS, slug=slug, title=title)
    with app.app_context():
        session = get_session()
        form = session.scalar(select(Form).where(Form.slug == slug))
        form.closes_at = utcnow() + closes_in
        session.commit()
        return form.id


def set_closes_at(app, form_id: int, closes_at: datetime) -> None:
    with app.app_context():
        session = get_session()
        session.get(Form, form_id).closes_at = closes_at
        session.commit()


def add_draft(app, form_id: int, email: str | None, *, expired: bool = False) -> int:
    """A saved draft on the form, left with this address; its id."""
    with app.app_context():
        session = get_session()
        draft = drafts.start(session, session.get(Form, form_id))
        draft.applicant_email = email
        draft.draft_data = {"nom": ["Wamytan"]}
        if expired:
            draft.expires_at = utcnow() - timedelta(hours=1)
        session.commit()
        return draft.id


def add_submitted(app, form_id: int, email: str, reference: str) -> int:
    """A request already sent on the form; its id."""
    with app.app_context():
        session = get_session()
        form = session.get(Form, form_id)
        submitted = Submission(
            form_id=form.id,
            form_version_id=form.current_version_id,
            state="submitted",
            answers={"nom": "Gope"},
            reference=reference,
            applicant_email=email,
            submitted_at=utcnow(),
        )
        session.add(submitted)
        session.commit()
        return submitted.id


def add_proposal(app, form_id: int, hours: int = 24) -> int:
    """A pending platform proposal as `propose_for_outages` writes it; its id."""
    with app.app_context():
        session = get_session()
        form = session.get(Form, form_id)
        start = form.closes_at - timedelta(hours=6)
        proposal = DeadlineExtension(
            form_id=form.id,
            status=ExtensionStatus.PROPOSED,
            previous_closes_at=form.closes_at,
            new_closes_at=form.closes_at + timedelta(hours=hours),
            reason="Incident de la plateforme détecté",
            outage_start=start,
            outage_end=start + timedelta(hours=2),
        )
        session.add(proposal)
        session.commit()
        return proposal.id


def extension(app, extension_id: int) -> DeadlineExtension:
    with app.app_context():
        found = get_session().get(DeadlineExtension, extension_id)
        found.form  # noqa: B018 - loaded for use after the context
        return found


def mails(app, subject_start: str = "") -> list:
    """The e-mails written so far (optionally those whose subject starts so)."""
    found = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sent_mails(app)]
    return [m for m in found if m["Subject"].startswith(subject_start)]
