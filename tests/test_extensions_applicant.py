"""Force majeure: one applicant may finish and submit their draft after the form closed."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from forms_app.db import get_session, utcnow
from forms_app.filters import local_time
from forms_app.models import DeadlineExtension, Event, Role, Submission
from tests.extension_support import closing_form, mails, set_closes_at
from tests.support import make_user, run_worker_burst

TOKEN = re.compile(r'name="_jeton" value="([0-9a-f]{32})"')


def local_input(moment) -> str:
    return moment.astimezone(ZoneInfo("Pacific/Noumea")).strftime("%d/%m/%Y %H:%M")


def start_draft(app, email: str):
    """A browser that filled the form's page and saved its draft with this address."""
    browser = app.test_client()
    assert browser.post("/demarches/aide/").status_code == 302
    browser.post("/demarches/aide/etapes/1", data={"nom": "Wamytan"})
    assert browser.post("/demarches/aide/enregistrer", data={"email": email}).status_code == 200
    return browser


def submit(browser):
    page = browser.get("/demarches/aide/verification")
    if page.status_code != 200:
        return page
    return browser.post("/demarches/aide/verification", data={"_jeton": TOKEN.search(page.text)[1]})


def test_only_the_extended_applicant_may_finish_after_closing(app, client, auth):
    make_user(app, Role.ADMIN, email="admin@example.nc")
    form_id = closing_form(app, "aide", timedelta(hours=2))
    lea = start_draft(app, "lea@example.nc")
    paul = start_draft(app, "paul@example.nc")
    set_closes_at(app, form_id, utcnow() - timedelta(hours=1))
    assert lea.get("/demarches/aide/verification").status_code == 403
    assert paul.get("/demarches/aide/etapes/1").status_code == 403

    auth.login("admin@example.nc")
    until = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    posted = {
        "individuel-form_id": str(form_id),
        "individuel-email": "Lea@Example.nc",
        "individuel-until": local_input(until),
        "individuel-reason": "Hospitalisation attestée",
    }
    response = client.post("/agents/pilotage/prolongations/individuelle", data=posted)
    assert response.status_code == 302
    assert "Délai individuel accordé" in client.get(response.headers["Location"]).text
    run_worker_burst(app)
    (notice,) = mails(app, "Délai supplémentaire accordé")
    assert notice["To"] == "lea@example.nc"
    body = notice.get_content()
    assert f"jusqu’au {local_time(until)} (heure de Nouméa)" in body
    assert "Motif : Hospitalisation attestée" in body
    assert "/demarches/aide/reprendre/" in body

    # Léa finishes and sends hers; Paul, and a newcomer, still meet the closed form.
    assert f"Date limite : {local_time(until)}." in lea.get("/demarches/aide/").text
    assert lea.get("/demarches/aide/etapes/1").status_code == 200
    sent = submit(lea)
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/merci")
    assert submit(paul).status_code == 403
    with app.app_context():  # an individual extension that ran out is over
        session = get_session()
        draft = session.scalar(select(Submission).where(Submission.state == "draft"))
        draft.extended_until = utcnow() - timedelta(minutes=1)
        session.commit()
    assert submit(paul).status_code == 403
    assert paul.post("/demarches/aide/etapes/1", data={"nom": "Gope"}).status_code == 403
    assert app.test_client().post("/demarches/aide/").status_code == 403
    with app.app_context():
        session = get_session()
        states = dict(session.execute(select(Submission.applicant_email, Submission.state)).all())
        assert states == {"lea@example.nc": "submitted", "paul@example.nc": "draft"}
        granted = session.scalar(select(DeadlineExtension))
        assert (granted.applicant_email, granted.new_closes_at) == ("lea@example.nc", until)
        event = session.scalar(select(Event).where(Event.action == "applicant_deadline_extended"))
        assert event.subject_id == form_id and event.actor.email == "admin@example.nc"


def test_an_applicant_without_a_draft_gets_no_extension(app, client, auth):
    make_user(app, Role.ADMIN, email="admin@example.nc")
    form_id = closing_form(app, "aide", timedelta(hours=-1))
    auth.login("admin@example.nc")
    posted = {
        "individuel-form_id": str(form_id),
        "individuel-email": "personne@example.nc",
        "individuel-until": local_input(utcnow() + timedelta(days=2)),
        "individuel-reason": "Hospitalisation",
    }
    response = client.post("/agents/pilotage/prolongations/individuelle", data=posted)
    assert response.status_code == 422
    assert "Aucun brouillon en cours sur ce formulaire pour l’adresse personne@example.nc" in (
        response.text
    )
    posted["individuel-until"] = "demain"
    response = client.post("/agents/pilotage/prolongations/individuelle", data=posted)
    assert response.status_code == 400
    assert "Saisissez une date et une heure au format JJ/MM/AAAA HH:MM." in response.text
    with app.app_context():
        assert get_session().scalar(select(DeadlineExtension)) is None


def test_the_closing_reminder_follows_the_applicant_s_own_deadline(app):
    from forms_app import draft_notices, extensions
    from forms_app.models import Form, User

    admin_id = make_user(app, Role.ADMIN, email="admin@example.nc")
    form_id = closing_form(app, "aide", timedelta(hours=2))
    start_draft(app, "lea@example.nc")
    set_closes_at(app, form_id, utcnow() - timedelta(hours=1))
    with app.app_context():
        session = get_session()
        assert draft_notices.sweep(session)["closing"] == 0  # the form closed already
        until = utcnow() + timedelta(hours=30)
        extensions.extend_for_applicant(
            session,
            session.get(Form, form_id),
            "lea@example.nc",
            until,
            "Cyclone",
            session.get(User, admin_id),
            utcnow(),
        )
        session.commit()
        assert draft_notices.sweep(session)["closing"] == 1
        draft = session.scalar(select(Submission))
        assert draft.extended_until == until and draft.expires_at >= until
