"""Announcements in outgoing e-mails: the notice while they run, none without a database."""

from email import message_from_bytes, policy

from forms_app import create_app, mail
from forms_app.db import get_session
from tests.support import publish_form, run_worker_burst, sent_mails
from tests.test_announcements import FIELDS, HOUR, announce, form_id
from workflows import outbox


def mail_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_emails_built_while_announcements_run_carry_their_notice(app):
    publish_form(app, FIELDS, slug="aide-a")
    target = form_id(app, "aide-a")
    with app.app_context():
        assert "Information sur le service" not in mail_text(mail.build("a@b.nc", "S", "Corps."))
    announce(app, "Dépôts ralentis.", level="degraded", end=2 * HOUR)
    announce(app, "Pièces jointes en panne.", level="unavailable", slug="aide-a")
    announce(app, "Déjà fini.", start=-3 * HOUR, end=-2 * HOUR)
    with app.app_context():
        plain = mail_text(mail.build("a@b.nc", "S", "Corps."))
        for_a = mail_text(mail.build("a@b.nc", "S", "Corps.", form_id=target))
    assert plain.startswith("Corps.\n\n")
    assert "Information sur le service" in plain
    assert "Service perturbé, du " in plain and "(heure de Nouméa) : Dépôts ralentis." in plain
    assert "http://127.0.0.1:5000/etat-du-service" in plain
    assert "Pièces jointes" not in plain and "Déjà fini." not in plain
    assert for_a.index("Pièces jointes en panne.") < for_a.index("Dépôts ralentis.")


def test_mail_build_works_without_a_database(app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path))
    broken = create_app(dict(app_config, DATABASE_URL="postgresql+psycopg://x@127.0.0.1:1/x"))
    with broken.app_context():
        message = mail.build("a@b.nc", "Objet", "Corps seul.")
    assert mail_text(message).strip() == "Corps seul."


def test_the_send_email_job_adds_the_notice_in_a_real_worker(app):
    announce(app, "Maintenance jusqu’à 18 h.", level="degraded", end=3 * HOUR)
    with app.app_context():
        session = get_session()
        outbox.add(session, "send_email", to="c@example.nc", subject="Reçu", body="Bonjour.")
        session.commit()
    run_worker_burst(app)
    [eml] = sent_mails(app)
    body = mail_text(message_from_bytes(eml.read_bytes(), policy=policy.default))
    assert body.startswith("Bonjour.")
    assert "Service perturbé" in body and "Maintenance jusqu’à 18 h." in body
