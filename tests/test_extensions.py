"""Granting an extension moves the deadline, announces it and e-mails each draft holder once."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from forms_app import announcements, extension_notices, extensions
from forms_app.db import get_session, utcnow
from forms_app.extensions import ExtensionError
from forms_app.filters import local_time
from forms_app.models import (
    DeadlineExtension,
    Event,
    ExtensionStatus,
    Form,
    FormStatus,
    OutboxMessage,
    Role,
    Submission,
    User,
)
from tests.extension_support import (
    add_draft,
    add_proposal,
    add_submitted,
    closing_form,
    extension,
    mails,
    set_closes_at,
)
from tests.support import latest_submission, make_user, run_worker_burst, submit_answers


def admin(app) -> int:
    return make_user(app, Role.ADMIN, email="admin@example.nc")


def test_granting_mails_exactly_the_draft_holders_once_each(app, client, auth):
    """ACCEPTANCE: one e-mail per distinct holder of a live draft on that form, none else."""
    admin(app)
    form_id = closing_form(app, "aide", timedelta(hours=-2))  # closed two hours ago
    other_id = closing_form(app, "autre", timedelta(days=5), title="Autre démarche")
    first = add_draft(app, form_id, "lea@example.nc")
    second = add_draft(app, form_id, "Lea@Example.nc")  # the same person, another draft
    add_draft(app, form_id, "paul@example.nc")
    add_draft(app, form_id, None)  # never saved with an address
    add_draft(app, form_id, "perime@example.nc", expired=True)
    add_draft(app, other_id, "autre@example.nc")
    add_submitted(app, form_id, "envoye@example.nc", "AUTRE-2026-000001")
    proposal_id = add_proposal(app, form_id)
    new_closes_at = extension(app, proposal_id).new_closes_at

    auth.login("admin@example.nc")
    response = client.post(
        f"/agents/pilotage/prolongations/{proposal_id}/accorder",
        data={"expected": new_closes_at.isoformat()},
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "2 détenteurs de brouillons sont prévenus par e-mail" in page
    run_worker_burst(app)

    sent = mails(app, "Date limite prolongée")
    assert sorted(m["To"] for m in sent) == ["lea@example.nc", "paul@example.nc"]
    assert len(mails(app)) == 2  # nothing else was sent
    lea = next(m for m in sent if m["To"] == "lea@example.nc").get_content()
    until = local_time(new_closes_at)
    assert f"est prolongée jusqu’au {until} (heure de Nouméa)" in lea
    assert "Motif : Incident de la plateforme détecté" in lea
    links = re.findall(r"http://\S+/demarches/aide/reprendre/\S+", lea)
    assert len(links) == 2  # both of her drafts, each with its resume link
    resumed = app.test_client().get(links[0].split("127.0.0.1:5000", 1)[1])
    assert resumed.status_code == 302 and "/demarches/aide/etapes/1" in resumed.headers["Location"]

    with app.app_context():
        session = get_session()
        granted = session.get(DeadlineExtension, proposal_id)
        assert granted.status is ExtensionStatus.GRANTED
        assert granted.notified_count == 2
        assert granted.decided_by.email == "admin@example.nc"
        form = session.get(Form, form_id)
        assert form.closes_at == new_closes_at
        event = session.scalar(select(Event).where(Event.action == "deadline_extended"))
        assert (event.subject_type, event.subject_id) == ("form", form_id)
        assert event.details["extension_id"] == proposal_id
        assert event.details["notified"] == 2
        assert event.actor.email == "admin@example.nc"
        banners = announcements.active(session, utcnow(), form_id)
        (banner,) = [b for b in banners if b.form_id == form_id]
        assert banner.extension_id == proposal_id and banner.ends_at == new_closes_at
        assert f"prolongée jusqu’au {until}" in banner.message
        assert {first, second} <= {
            d.id for d in extension_notices.holder_drafts(session, form_id, "lea@example.nc")
        }

    # The form's pages carry the banner, and the form takes requests again until the new date.
    start = app.test_client().get("/demarches/aide/")
    assert start.status_code == 200
    assert f"La date limite de dépôt est prolongée jusqu’au {until}" in start.text
    applicant = app.test_client()
    response = submit_answers(applicant, "aide", {"nom": "Gope"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/merci")
    assert latest_submission(app).form_id == form_id
    with app.app_context():
        form = get_session().get(Form, form_id)
        assert form.is_open(new_closes_at - timedelta(seconds=1))
        assert not form.is_open(new_closes_at)


def test_a_job_for_an_extension_no_longer_in_force_sends_nothing(app):
    admin_id = admin(app)
    form_id = closing_form(app, "aide", timedelta(hours=3))
    add_draft(app, form_id, "lea@example.nc")
    with app.app_context():
        session = get_session()
        actor = session.get(User, admin_id)
        form = session.get(Form, form_id)
        first = extensions.extend(
            session, form, form.closes_at + timedelta(days=1), "Panne", actor, utcnow()
        )
        second = extensions.extend(
            session, form, form.closes_at + timedelta(days=1), "Panne encore", actor, utcnow()
        )
        session.commit()
        # The second extension supersedes the first: its e-mail and banner only.
        assert not extension_notices.send(session, first.id, "lea@example.nc")
        assert [b.extension_id for b in announcements.active(session, utcnow(), form_id)] == [
            second.id
        ]
        assert extension_notices.send(session, second.id, "lea@example.nc")
        assert not extension_notices.send(session, second.id, "inconnu@example.nc")
    assert [m["To"] for m in mails(app)] == ["lea@example.nc"]
    assert "Panne encore" in mails(app)[0].get_content()


def test_grant_refuses_what_it_must(app):
    admin_id = admin(app)
    form_id = closing_form(app, "aide", timedelta(hours=3))
    proposal_id = add_proposal(app, form_id)
    with app.app_context():
        session = get_session()
        actor = session.get(User, admin_id)
        proposal = session.get(DeadlineExtension, proposal_id)
        form = session.get(Form, form_id)
        # The closing date moved since the proposal: refused, nothing written.
        form.closes_at += timedelta(hours=1)
        session.commit()
        with pytest.raises(ExtensionError) as refused:
            extensions.grant(session, proposal, actor, utcnow())
        assert refused.value.status == 409
        assert "a changé depuis cette proposition" in str(refused.value)
        session.rollback()
        form.closes_at = proposal.previous_closes_at
        form.status = FormStatus.CLOSED
        session.commit()
        with pytest.raises(ExtensionError, match="n’est plus publié"):
            extensions.grant(session, proposal, actor, utcnow())
        session.rollback()
        form.status = FormStatus.PUBLISHED
        extensions.decline(session, proposal, actor, "Pas d’incident réel")
        session.commit()
        with pytest.raises(ExtensionError, match="déjà été traitée"):
            extensions.grant(session, proposal, actor, utcnow())
        session.rollback()
        assert session.get(Form, form_id).closes_at == proposal.previous_closes_at
        declined = session.scalar(select(Event).where(Event.action == "extension_declined"))
        assert declined.details["reason"] == "Pas d’incident réel"
        assert session.scalar(select(OutboxMessage)) is None


def test_a_direct_extension_must_move_the_deadline_later(app):
    admin_id = admin(app)
    form_id = closing_form(app, "aide", timedelta(hours=3))
    with app.app_context():
        session = get_session()
        actor = session.get(User, admin_id)
        form = session.get(Form, form_id)
        for when, message in (
            (form.closes_at, "postérieure à la clôture actuelle"),
            (form.closes_at - timedelta(days=1), "postérieure à la clôture actuelle"),
        ):
            with pytest.raises(ExtensionError, match=message) as refused:
                extensions.extend(session, form, when, "Panne", actor, utcnow())
            assert refused.value.status == 422
        with pytest.raises(ExtensionError, match="motif"):
            extensions.extend(
                session, form, form.closes_at + timedelta(days=1), "  ", actor, utcnow()
            )
        session.rollback()
        assert session.scalar(select(DeadlineExtension)) is None


def test_the_closing_reminder_comes_again_before_the_new_deadline(app):
    from forms_app import draft_notices

    admin_id = admin(app)
    form_id = closing_form(app, "aide", timedelta(hours=20))
    draft_id = add_draft(app, form_id, "lea@example.nc")
    with app.app_context():
        session = get_session()
        assert draft_notices.sweep(session)["closing"] == 1
        form = session.get(Form, form_id)
        actor = session.get(User, admin_id)
        extensions.extend(
            session, form, form.closes_at + timedelta(hours=12), "Panne", actor, utcnow()
        )
        session.commit()
        assert session.get(Submission, draft_id).close_reminded_at is None
        assert draft_notices.sweep(session)["closing"] == 1  # the new date is within 48 h
        reminder = session.scalars(
            select(OutboxMessage).where(OutboxMessage.job == "send_email")
        ).all()[-1]
        assert local_time(form.closes_at) in reminder.args["body"]


def test_a_late_grant_reopens_a_form_that_closed(app, client):
    admin_id = admin(app)
    form_id = closing_form(app, "aide", timedelta(hours=3))
    add_proposal(app, form_id)
    set_closes_at(app, form_id, utcnow() - timedelta(hours=1))  # the form closed meanwhile
    assert client.get("/demarches/aide/").status_code == 403
    with app.app_context():
        session = get_session()
        form = session.get(Form, form_id)
        extensions.extend(
            session,
            form,
            utcnow() + timedelta(days=1),
            "Panne",
            session.get(User, admin_id),
            utcnow(),
        )
        session.commit()
    assert client.get("/demarches/aide/").status_code == 200
