"""Drafts survive: saved each page, resumed anywhere from an e-mailed link, expired on time."""

import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from forms_app import draft_notices
from forms_app.db import get_session, utcnow
from forms_app.models import Event, Form, OutboxMessage, Submission
from tests.support import publish_form, run_worker_burst, sent_mails

FIELDS = [
    {"key": "nom", "type": "text", "label": "Nom", "required": True},
    {"key": "motif", "type": "textarea", "label": "Motif", "required": True},
]


def fill_first_page(client, slug: str, **data) -> None:
    assert client.post(f"/demarches/{slug}/").status_code == 302
    client.post(f"/demarches/{slug}/etapes/1", data={"nom": "Wamytan", **data})


def draft(app) -> Submission:
    with app.app_context():
        return get_session().scalars(select(Submission)).one()


def emails(app) -> list:
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sent_mails(app)]


def resume_link(message) -> str:
    return re.search(r"http://\S+/reprendre/\S+", message.get_content()).group(0)


def save_for_later(app, client, slug: str, email: str = "lea@example.nc") -> str:
    response = client.post(f"/demarches/{slug}/enregistrer", data={"email": email})
    assert response.status_code == 200
    assert "Lien envoyé" in response.text
    run_worker_burst(app)
    (message,) = emails(app)
    assert message["To"] == email
    return resume_link(message).split("127.0.0.1:5000", 1)[1]


def test_save_and_resume_on_another_device(app, client):
    slug = publish_form(app, FIELDS)
    fill_first_page(client, slug)
    response = client.post(
        f"/demarches/{slug}/etapes/1", data={"nom": "Wamytan", "_action": "save"}
    )
    assert response.headers["Location"] == f"/demarches/{slug}/enregistrer"
    link = save_for_later(app, client, slug)
    phone = app.test_client()  # no cookie, another device
    response = phone.get(link)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/demarches/{slug}/etapes/1"
    page = phone.get(response.headers["Location"]).text
    assert 'value="Wamytan"' in page
    assert "Votre brouillon est retrouvé" in page


def test_save_for_later_refuses_a_bad_address_in_french(app, client):
    slug = publish_form(app, FIELDS)
    fill_first_page(client, slug)
    response = client.post(f"/demarches/{slug}/enregistrer", data={"email": "lea-at-example"})
    assert response.status_code == 400
    assert "Saisissez une adresse e-mail valide" in response.text
    with app.app_context():
        assert get_session().scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_tampered_or_foreign_links_open_nothing(app, client):
    slug = publish_form(app, FIELDS)
    fill_first_page(client, slug)
    link = save_for_later(app, client, slug)
    stranger = app.test_client()
    assert stranger.get(link[:-3] + "xyz").status_code == 400
    assert "expiré" in stranger.get(link[:-3] + "xyz").text
    other = publish_form(app, FIELDS, slug="autre")
    assert stranger.get(link.replace(f"/{slug}/", f"/{other}/")).status_code == 400


def test_a_link_dies_when_the_draft_is_submitted(app, client):
    slug = publish_form(app, FIELDS)
    fill_first_page(client, slug, motif="Rapatriement")
    link = save_for_later(app, client, slug)
    client.post(f"/demarches/{slug}/verification", data={"_jeton": "e" * 32})
    response = app.test_client().get(link)
    assert response.status_code == 200
    assert "Cette demande a déjà été envoyée" in response.text
    assert draft(app).reference in response.text


def test_an_expired_draft_cannot_be_resumed(app, client):
    slug = publish_form(app, FIELDS)
    fill_first_page(client, slug)
    link = save_for_later(app, client, slug)
    with app.app_context():
        session = get_session()
        session.scalars(select(Submission)).one().expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    assert app.test_client().get(link).status_code == 400
    # and this browser is taken back to the start page instead of the old draft
    assert client.get(f"/demarches/{slug}/etapes/1").status_code == 302


def test_autosave_keeps_what_is_typed_without_checking_it(app, client):
    slug = publish_form(app, FIELDS)
    fill_first_page(client, slug)
    response = client.post(
        f"/demarches/{slug}/etapes/1/brouillon", data={"nom": "", "motif": "à moitié tap"}
    )
    assert response.status_code == 200
    assert response.json["saved"] is True
    page = client.get(f"/demarches/{slug}/etapes/1").text
    assert "à moitié tap" in page
    assert app.test_client().post(f"/demarches/{slug}/etapes/1/brouillon").status_code == 409


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def csrf_token_of(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)


def test_an_expired_token_brings_the_page_back_filled(csrf_app):
    app = csrf_app
    client = app.test_client()
    slug = publish_form(app, FIELDS)
    start = client.get(f"/demarches/{slug}/")
    client.post(f"/demarches/{slug}/", data={"csrf_token": csrf_token_of(start.text)})
    response = client.post(
        f"/demarches/{slug}/etapes/1",
        data={"nom": "Wamytan", "motif": "Long texte tapé", "csrf_token": "expired"},
    )
    assert response.status_code == 400
    assert "Votre session a expiré" in response.text
    assert "Long texte tapé" in response.text and 'value="Wamytan"' in response.text
    fresh = csrf_token_of(response.text)
    assert fresh != "expired"
    assert draft(app).draft_data.get("nom") is None  # nothing saved from a forged request
    again = client.post(
        f"/demarches/{slug}/etapes/1",
        data={"nom": "Wamytan", "motif": "Long texte tapé", "csrf_token": fresh},
    )
    assert again.headers["Location"] == f"/demarches/{slug}/verification"


def test_a_lost_session_brings_the_page_back_filled(csrf_app):
    app = csrf_app
    slug = publish_form(app, FIELDS)
    browser = app.test_client()  # its session cookie was lost: no draft, no CSRF secret
    response = browser.post(
        f"/demarches/{slug}/etapes/1", data={"nom": "Wamytan", "csrf_token": "stale"}
    )
    assert response.status_code == 400
    assert 'value="Wamytan"' in response.text
    again = browser.post(
        f"/demarches/{slug}/etapes/1",
        data={"nom": "Wamytan", "motif": "x", "csrf_token": csrf_token_of(response.text)},
    )
    assert again.status_code == 302  # a new draft holds it
    assert draft(app).draft_data["nom"] == ["Wamytan"]


def age(app, *, expires_in: timedelta, closes_in: timedelta | None = None) -> None:
    with app.app_context():
        session = get_session()
        submission = session.scalars(select(Submission)).one()
        submission.expires_at = utcnow() + expires_in
        if closes_in is not None:
            session.scalars(select(Form)).one().closes_at = utcnow() + closes_in
        session.commit()


def sweep(app) -> dict:
    with app.app_context():
        return draft_notices.sweep(get_session())


def test_expiry_warning_is_sent_once_with_a_working_link(app, client):
    slug = publish_form(app, FIELDS)
    fill_first_page(client, slug)
    save_for_later(app, client, slug)
    age(app, expires_in=timedelta(days=3))
    assert sweep(app) == {"expired": 0, "expiry": 1, "closing": 0}
    assert sweep(app)["expiry"] == 0
    run_worker_burst(app)
    (warning,) = [m for m in emails(app) if "va expirer" in m["Subject"]]
    link = resume_link(warning).split("127.0.0.1:5000", 1)[1]
    assert app.test_client().get(link).status_code == 302


def test_closing_reminder_48_hours_before_the_deadline(app, client):
    slug = publish_form(app, FIELDS)
    fill_first_page(client, slug)
    save_for_later(app, client, slug)
    age(app, expires_in=timedelta(days=20), closes_in=timedelta(hours=72))
    assert sweep(app)["closing"] == 0  # not yet
    age(app, expires_in=timedelta(days=20), closes_in=timedelta(hours=47))
    assert sweep(app)["closing"] == 1
    assert sweep(app)["closing"] == 0
    run_worker_burst(app)
    assert [m for m in emails(app) if "ferme bientôt" in m["Subject"]]


def test_drafts_without_an_address_get_no_mail(app, client):
    slug = publish_form(app, FIELDS)
    fill_first_page(client, slug)
    age(app, expires_in=timedelta(days=1), closes_in=timedelta(hours=5))
    assert sweep(app) == {"expired": 0, "expiry": 0, "closing": 0}


def test_expired_drafts_are_deleted_and_audited(app, client, runner):
    slug = publish_form(app, FIELDS)
    fill_first_page(client, slug)
    draft_id = draft(app).id
    age(app, expires_in=timedelta(seconds=-1))
    result = runner.invoke(args=["drafts", "sweep"])
    assert result.exit_code == 0, result.output
    assert "Expired 1" in result.output
    with app.app_context():
        session = get_session()
        assert session.scalar(select(func.count()).select_from(Submission)) == 0
        event = session.scalars(select(Event).where(Event.action == "draft_expired")).one()
        assert event.subject_id == draft_id


def test_saving_a_page_pushes_the_expiry_back(app, client):
    slug = publish_form(app, FIELDS)
    fill_first_page(client, slug)
    age(app, expires_in=timedelta(days=2))
    client.post(f"/demarches/{slug}/etapes/1", data={"nom": "Encore"})
    days = app.config["DRAFT_LIFETIME_DAYS"]
    assert draft(app).expires_at > utcnow() + timedelta(days=days - 1)
