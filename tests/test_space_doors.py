"""Closing every door of an applicant space: links sent and sessions opened stop working."""

import re
from html import unescape

from sqlalchemy import select

from forms_app import links
from forms_app.db import get_session
from forms_app.models import ApplicantAccess, OutboxMessage
from tests.support import publish_form, submit_answers

FIELDS = [
    {"key": "nom", "type": "text", "label": "Nom", "required": True},
    {"key": "courriel", "type": "email", "label": "Courriel", "required": True},
]
EMAIL = "lea.wamytan@example.nc"


def space_link(app, client) -> str:
    """Ask for the space's link as the applicant does; the link's path, read from the e-mail."""
    client.post("/mon-espace/connexion", data={"email": EMAIL})
    return mailed(app, r"/mon-espace/acces/[^\s/]+")[-1]


def mailed(app, pattern: str) -> list[str]:
    """The links matching `pattern` in the e-mails sent so far, oldest first."""
    with app.app_context():
        bodies = get_session().scalars(
            select(OutboxMessage.args)
            .where(OutboxMessage.job == "send_email")
            .order_by(OutboxMessage.id)
        )
        return [
            found.group(0) for args in bodies if (found := re.search(pattern, args.get("body", "")))
        ]


def test_closing_every_door_signs_out_every_device_and_voids_the_links(app, client):
    slug = publish_form(app, FIELDS)
    submit_answers(client, slug, {"nom": "Léa Wamytan", "courriel": EMAIL})
    link = space_link(app, client)
    phone, laptop = app.test_client(), app.test_client()
    for device in (phone, laptop):
        assert device.get(link).status_code == 302
        assert device.get("/mon-espace/").status_code == 200

    closed = phone.post("/mon-espace/deconnexion-partout", data={"everywhere": "1"})
    assert closed.status_code == 302
    assert "déconnecté de tous les appareils" in unescape(phone.get(closed.location).text)
    assert phone.get("/mon-espace/").status_code == 302
    assert laptop.get("/mon-espace/").status_code == 302  # the other device too, at once
    assert app.test_client().get(link).status_code == 400  # the link sent before
    with app.app_context():
        assert get_session().get(ApplicantAccess, EMAIL).generation == 1

    fresh = space_link(app, client)  # a link asked for afterwards opens the space again
    assert fresh != link and laptop.get(fresh).status_code == 302
    assert laptop.get("/mon-espace/").status_code == 200


def test_a_draft_s_resume_link_is_closed_too(app, client):
    slug = publish_form(app, FIELDS)
    submit_answers(client, slug, {"nom": "Léa Wamytan", "courriel": EMAIL})
    draft = app.test_client()
    draft.post(f"/demarches/{slug}/")
    draft.post(f"/demarches/{slug}/etapes/1", data={"nom": "Léa", "courriel": EMAIL})
    draft.post(f"/demarches/{slug}/enregistrer", data={"email": EMAIL})
    [resume] = mailed(app, r"/demarches/[^\s]+/reprendre/[^\s/]+")
    opened = app.test_client()
    assert opened.get(resume).status_code == 302
    assert (
        opened.post("/mon-espace/deconnexion-partout", data={"everywhere": "1"}).status_code == 302
    )
    assert app.test_client().get(resume).status_code == 400


def test_without_its_button_field_the_request_changes_nothing(app, client):
    slug = publish_form(app, FIELDS)
    submit_answers(client, slug, {"nom": "Léa Wamytan", "courriel": EMAIL})
    link = space_link(app, client)
    client.get(link)
    assert client.post("/mon-espace/deconnexion-partout").status_code == 400
    assert client.get("/mon-espace/").status_code == 200
    assert app.test_client().get(link).status_code == 302


def test_links_made_before_doors_had_generations_still_open_the_space(app, client):
    slug = publish_form(app, FIELDS)
    submit_answers(client, slug, {"nom": "Léa Wamytan", "courriel": EMAIL})
    with app.app_context():
        old = links.make("space", {"email": EMAIL})  # no generation in it
    assert app.test_client().get(f"/mon-espace/acces/{old}").status_code == 302
