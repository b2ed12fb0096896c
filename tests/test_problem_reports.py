"""Signaler un problème: the footer link on every page, the form, what is stored."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from forms_app import problem_reports
from forms_app.db import get_session
from forms_app.models import Event, Form, ProblemReport, ReportStatus
from tests.support import publish_form

FIELDS = [{"key": "nom", "type": "text", "label": "Nom", "required": True}]
REPORT_LINK = re.compile(r'<a href="(/signaler-un-probleme[^"]*)">Signaler un problème</a>')
DESCRIPTION = "Le bouton « Continuer » ne répond pas à l’étape 2."


def footer_link(html: str) -> tuple[str, dict[str, list[str]]]:
    """The footer's report link and its query arguments."""
    link = unescape(REPORT_LINK.search(html).group(1))
    return link, parse_qs(urlsplit(link).query)


def input_value(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
    value = re.search(r'value="([^"]*)"', tag)
    return unescape(value.group(1)) if value else ""


def reports(app) -> list[ProblemReport]:
    with app.app_context():
        return list(get_session().scalars(select(ProblemReport).order_by(ProblemReport.id)))


def report_events(app) -> list[Event]:
    with app.app_context():
        return list(
            get_session().scalars(select(Event).where(Event.subject_type == "problem_report"))
        )


def test_a_report_from_a_form_page_keeps_the_page_and_the_form(app, client):
    publish_form(app, FIELDS, slug="essai")
    link, args = footer_link(client.get("/demarches/essai/").text)
    assert args == {"page": ["/demarches/essai/"], "form": ["essai"]}

    page = client.get(link)
    assert page.status_code == 200
    assert input_value(page.text, "page") == "/demarches/essai/"
    assert input_value(page.text, "form_slug") == "essai"
    assert "Démarche concernée" in page.text and "Formulaire d’essai" in page.text
    assert 'for="description"' in page.text and 'for="contact_email"' in page.text

    sent = client.post(
        "/signaler-un-probleme",
        data={
            "page": "/demarches/essai/",
            "form_slug": "essai",
            "description": DESCRIPTION,
            "contact_email": " Marie.Dupont@Exemple.NC ",
        },
    )
    assert sent.status_code == 302
    thanks = client.get(sent.headers["Location"])
    [report] = reports(app)
    assert f"n° {report.id}" in thanks.text
    assert "documents personnels" in thanks.text
    with app.app_context():
        form_id = get_session().scalar(select(Form.id).where(Form.slug == "essai"))
    assert (report.page, report.form_id, report.description, report.contact_email) == (
        "/demarches/essai/",
        form_id,
        DESCRIPTION,
        "marie.dupont@exemple.nc",
    )
    assert report.status is ReportStatus.NEW
    [event] = report_events(app)
    assert (event.action, event.subject_id, event.actor_id) == ("report_problem", report.id, None)
    assert event.details == {"form_id": form_id, "contact": True}


def test_a_report_without_page_form_or_contact_is_accepted(app, client):
    sent = client.post("/signaler-un-probleme", data={"description": DESCRIPTION})
    assert sent.status_code == 302
    [report] = reports(app)
    assert (report.page, report.form_id, report.contact_email) == ("", None, None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"description": "Bug"}, "au moins 10 caractères"),
        ({"description": "x" * 5001}, "ne doit pas dépasser 5 000 caractères"),
        ({"description": DESCRIPTION, "contact_email": "marie@"}, "adresse e-mail valide"),
        ({"description": DESCRIPTION, "page": "https://ailleurs.example/piege"}, "page de ce site"),
        ({"description": DESCRIPTION, "page": "//ailleurs.example/piege"}, "page de ce site"),
        ({"description": DESCRIPTION, "page": "/" + "a" * 500}, "500 caractères"),
    ],
)
def test_invalid_reports_are_refused_in_french_and_nothing_is_stored(app, client, data, message):
    response = client.post("/signaler-un-probleme", data=data)
    assert response.status_code == 400
    assert "Il y a un problème" in response.text
    assert message in unescape(response.text)
    assert 'aria-invalid="true"' in response.text
    assert reports(app) == [] and report_events(app) == []


def test_the_domain_refuses_what_the_form_would(app):
    with app.test_request_context():
        session = get_session()
        for page in ("http://ailleurs.example/", "/\\ailleurs.example", "/a\nb", "javascript:x"):
            with pytest.raises(problem_reports.ReportError) as refused:
                problem_reports.create(session, page=page, description=DESCRIPTION)
            assert refused.value.field == "page"
        with pytest.raises(problem_reports.ReportError):
            problem_reports.create(session, page="/", description=" court ")
        session.rollback()
    assert reports(app) == []


def test_an_address_elsewhere_is_not_prefilled(client):
    page = client.get("/signaler-un-probleme?page=https://ailleurs.example/&form=inconnu")
    assert page.status_code == 200
    assert input_value(page.text, "page") == ""
    assert "Démarche concernée" not in page.text
    assert "ailleurs.example" not in page.text


def test_a_form_never_published_is_not_named(app, client):
    from forms_app import publishing

    with app.app_context():
        session = get_session()
        publishing.create_form(
            session,
            {
                "format": 1,
                "slug": "secret",
                "title": "Projet confidentiel",
                "pages": [{"key": "page_1", "title": "Page 1", "fields": FIELDS}],
            },
            None,
        )
        session.commit()
    page = client.get("/signaler-un-probleme?page=/&form=secret")
    assert "Projet confidentiel" not in page.text
    client.post("/signaler-un-probleme", data={"description": DESCRIPTION, "form_slug": "secret"})
    assert reports(app)[0].form_id is None


def test_bots_filling_the_trap_are_dropped_silently(app, client):
    page = client.get("/signaler-un-probleme")
    assert 'class="report-trap" aria-hidden="true"' in page.text
    sent = client.post(
        "/signaler-un-probleme",
        data={"description": DESCRIPTION, "website": "http://spam.example"},
    )
    assert sent.status_code == 302
    assert client.get(sent.headers["Location"]).status_code == 200
    assert reports(app) == []


def test_posting_needs_the_csrf_token(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/signaler-un-probleme", data={"description": DESCRIPTION})
    assert response.status_code == 400
    assert reports(app) == []


def test_the_footer_links_are_on_the_portal_a_form_page_and_an_error_page(app, client):
    publish_form(app, FIELDS, slug="essai")
    portal = client.get("/")
    assert footer_link(portal.text)[1] == {"page": ["/"]}
    assert 'href="/etat-du-service">État du service</a>' in portal.text

    step = client.post("/demarches/essai/", follow_redirects=True)
    assert step.status_code == 200
    assert footer_link(step.text)[1] == {"page": ["/demarches/essai/etapes/1"], "form": ["essai"]}

    missing = client.get("/nulle-part")
    assert missing.status_code == 404
    assert footer_link(missing.text)[1] == {"page": ["/nulle-part"]}
    assert "État du service" in missing.text


def test_the_footer_link_never_carries_a_link_token(app, client):
    publish_form(app, FIELDS, slug="essai")
    page = client.get("/demarches/essai/reprendre/jeton-tres-secret")
    assert page.status_code == 400
    link, args = footer_link(page.text)
    assert "jeton-tres-secret" not in link
    assert args["page"] == ["/demarches/essai/reprendre/…"]


def test_the_footer_link_is_on_staff_pages_too(client):
    login = client.get("/agents/connexion")
    assert footer_link(login.text)[1] == {"page": ["/agents/connexion"]}


def test_the_footer_link_is_on_the_database_outage_page(app_config, tmp_path, monkeypatch):
    """The footer never needs the database: the 503 page still offers to report."""
    from forms_app import create_app

    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path))
    config = dict(app_config, DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = create_app(config).test_client().get("/")
    assert response.status_code == 503
    assert footer_link(response.text)[1] == {"page": ["/"]}
