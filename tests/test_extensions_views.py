"""The extensions page: admins grant, decline and extend over HTTP; others read or are refused."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from forms_app.db import get_session, utcnow
from forms_app.filters import local_time
from forms_app.models import DeadlineExtension, Event, ExtensionStatus, Form, Role
from tests.extension_support import add_draft, add_proposal, closing_form, extension, set_closes_at
from tests.support import make_user

PAGE = "/agents/pilotage/prolongations"


@pytest.fixture
def staff(app):
    make_user(app, Role.ADMIN, email="admin@example.nc")
    make_user(app, Role.AGENT, email="agent@example.nc")
    make_user(app, Role.DESIGNER, Role.APPROVER, email="concepteur@example.nc")


def local_input(moment) -> str:
    return moment.astimezone(ZoneInfo("Pacific/Noumea")).strftime("%d/%m/%Y %H:%M")


def grant(client, proposal_id: int, expected) -> object:
    return client.post(f"{PAGE}/{proposal_id}/accorder", data={"expected": expected.isoformat()})


def test_agents_read_admins_act_others_are_refused(app, client, auth, staff):
    form_id = closing_form(app, "aide", timedelta(hours=5))
    proposal_id = add_proposal(app, form_id)
    found = extension(app, proposal_id)
    assert client.get(PAGE).status_code == 302  # anonymous: to the sign-in page

    auth.login("agent@example.nc")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Propositions à examiner" in page.text
    assert local_time(found.new_closes_at) in page.text
    assert "Consultation seule" in page.text and "Accorder" not in page.text
    assert grant(client, proposal_id, found.new_closes_at).status_code == 403
    assert client.post(f"{PAGE}/{proposal_id}/refuser").status_code == 403
    assert client.post(f"{PAGE}/nouvelle").status_code == 403
    assert client.post(f"{PAGE}/individuelle").status_code == 403
    auth.logout()

    auth.login("concepteur@example.nc")
    assert client.get(PAGE).status_code == 403
    auth.logout()

    auth.login("admin@example.nc")
    page = client.get(PAGE)
    button = f"Accorder : prolonger jusqu’au {local_time(found.new_closes_at)}"
    assert button in page.text and "Refuser cette proposition" in page.text
    assert extension(app, proposal_id).status is ExtensionStatus.PROPOSED


def test_admin_grants_then_a_second_grant_is_refused(app, client, auth, staff):
    form_id = closing_form(app, "aide", timedelta(hours=5))
    add_draft(app, form_id, "lea@example.nc")
    proposal_id = add_proposal(app, form_id, hours=30)
    found = extension(app, proposal_id)
    auth.login("admin@example.nc")
    response = grant(client, proposal_id, found.new_closes_at)
    assert response.status_code == 302
    assert "1 détenteur de brouillon est prévenu par e-mail" in client.get(PAGE).text
    again = grant(client, proposal_id, found.new_closes_at)
    assert again.status_code == 409
    assert "Cette proposition a déjà été traitée." in again.text
    with app.app_context():
        form = get_session().get(Form, form_id)
        assert form.closes_at == found.new_closes_at
    decisions = client.get(PAGE).text.split("Décisions", 1)[1]
    assert "Accordée" in decisions and local_time(found.new_closes_at) in decisions


def test_stale_proposals_are_refused_with_409(app, client, auth, staff):
    form_id = closing_form(app, "aide", timedelta(hours=5))
    proposal_id = add_proposal(app, form_id)
    found = extension(app, proposal_id)
    auth.login("admin@example.nc")

    # The page showed another date than the proposal now holds (it was widened since).
    response = grant(client, proposal_id, found.new_closes_at - timedelta(hours=1))
    assert response.status_code == 409
    assert "La proposition a changé depuis l’affichage de la page" in response.text

    # The form's closing date moved since the proposal was made.
    set_closes_at(app, form_id, found.previous_closes_at + timedelta(hours=2))
    page = client.get(PAGE).text
    assert "cette proposition ne peut plus être accordée" in page
    response = grant(client, proposal_id, found.new_closes_at)
    assert response.status_code == 409
    assert "La date de clôture du formulaire a changé depuis cette proposition" in response.text
    assert extension(app, proposal_id).status is ExtensionStatus.PROPOSED


def test_admin_declines_with_a_reason(app, client, auth, staff):
    form_id = closing_form(app, "aide", timedelta(hours=5))
    proposal_id = add_proposal(app, form_id)
    auth.login("admin@example.nc")
    field = f"refus-{proposal_id}-reason"
    refused = client.post(f"{PAGE}/{proposal_id}/refuser", data={field: ""})
    assert refused.status_code == 400
    assert "Indiquez le motif du refus." in refused.text
    response = client.post(f"{PAGE}/{proposal_id}/refuser", data={field: "Fausse alerte"})
    assert response.status_code == 302
    assert extension(app, proposal_id).status is ExtensionStatus.DECLINED
    with app.app_context():
        event = get_session().scalar(select(Event).where(Event.action == "extension_declined"))
        assert event.details["reason"] == "Fausse alerte"
    assert "Motif du refus : Fausse alerte" in client.get(PAGE).text.split("Décisions", 1)[1]
    assert client.post(f"{PAGE}/{proposal_id}/refuser", data={field: "Encore"}).status_code == 409
    assert client.post(f"{PAGE}/999/refuser", data={field: "x"}).status_code == 404


def test_admin_extends_a_form_directly(app, client, auth, staff):
    form_id = closing_form(app, "aide", timedelta(hours=5))
    auth.login("admin@example.nc")
    page = client.get(PAGE)
    assert "Prolonger la date limite d’un formulaire" in page.text
    until = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    posted = {
        "prolonger-form_id": str(form_id),
        "prolonger-new_closes_at": local_input(until),
        "prolonger-reason": "Grève des transports",
    }
    earlier = dict(posted, **{"prolonger-new_closes_at": local_input(utcnow())})
    refused = client.post(f"{PAGE}/nouvelle", data=earlier)
    assert refused.status_code == 422
    assert "La nouvelle date limite doit être postérieure à la clôture actuelle" in refused.text
    missing = client.post(f"{PAGE}/nouvelle", data=dict(posted, **{"prolonger-form_id": "0"}))
    assert missing.status_code == 400 and "Choisissez un formulaire." in missing.text

    response = client.post(f"{PAGE}/nouvelle", data=posted)
    assert response.status_code == 302
    assert "Date limite prolongée ; aucun brouillon en cours." in client.get(PAGE).text
    with app.app_context():
        session = get_session()
        assert session.get(Form, form_id).closes_at == until
        made = session.scalar(select(DeadlineExtension))
        assert made.status is ExtensionStatus.GRANTED and made.reason == "Grève des transports"
        assert made.proposed_by.email == "admin@example.nc"


def test_every_post_needs_its_csrf_token(app, client, auth, staff):
    form_id = closing_form(app, "aide", timedelta(hours=5))
    proposal_id = add_proposal(app, form_id)
    found = extension(app, proposal_id)
    auth.login("admin@example.nc")
    app.config["WTF_CSRF_ENABLED"] = True
    assert grant(client, proposal_id, found.new_closes_at).status_code == 400
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(PAGE).text)[1]
    response = client.post(
        f"{PAGE}/{proposal_id}/accorder",
        data={"expected": found.new_closes_at.isoformat(), "csrf_token": token},
    )
    assert response.status_code == 302
    assert extension(app, proposal_id).status is ExtensionStatus.GRANTED
