"""The portal: open forms with their deadlines, forms to come, closed ones, service banners."""

from datetime import timedelta

from forms_app.db import get_session, utcnow
from forms_app.models import Form
from tests.support import publish_form

FIELDS = [{"key": "nom", "type": "text", "label": "Nom", "required": True}]


def set_dates(app, slug: str, **dates) -> None:
    with app.app_context():
        session = get_session()
        form = session.query(Form).filter_by(slug=slug).one()
        for name, delta in dates.items():
            setattr(form, name, utcnow() + delta)
        session.commit()


def test_portal_lists_open_forms_with_deadlines_and_forms_to_come(app, client):
    publish_form(app, FIELDS, slug="ouverte", title="Aide ouverte")
    publish_form(app, FIELDS, slug="bientot", title="Aide à venir")
    publish_form(app, FIELDS, slug="finie", title="Aide close")
    set_dates(app, "ouverte", closes_at=timedelta(days=3))
    set_dates(app, "bientot", opens_at=timedelta(days=2))
    set_dates(app, "finie", closes_at=timedelta(days=-1))
    page = client.get("/").text
    assert "/demarches/ouverte/" in page and "jusqu’au" in page
    assert "Démarches à venir" in page and "Aide à venir" in page
    assert "/demarches/bientot/" not in page  # listed, not yet a link
    assert "Aide close" not in page
    assert "/mon-espace/connexion" in page


def test_start_page_shows_the_deadline_and_the_steps(app, client):
    publish_form(app, FIELDS, slug="ouverte")
    set_dates(app, "ouverte", closes_at=timedelta(days=3))
    page = client.get("/demarches/ouverte/").text
    assert "Date limite" in page
    assert "Page 1" in page and "Vérification de vos réponses et envoi" in page
    assert "Commencer" in page


def test_a_form_not_open_yet_or_closed_says_so(app, client):
    publish_form(app, FIELDS, slug="bientot")
    publish_form(app, FIELDS, slug="finie")
    set_dates(app, "bientot", opens_at=timedelta(days=2))
    set_dates(app, "finie", closes_at=timedelta(days=-1))
    soon = client.get("/demarches/bientot/")
    assert soon.status_code == 403
    assert "pas encore ouverte" in soon.text
    closed = client.get("/demarches/finie/")
    assert closed.status_code == 403
    assert "Cette démarche est close" in closed.text
    assert client.post("/demarches/finie/").status_code == 403  # no draft started either


def test_the_service_banner_is_on_every_public_page(app, client):
    slug = publish_form(app, FIELDS)
    app.config.update(
        SERVICE_BANNER="Maintenance ce soir de 20 h à 22 h.", SERVICE_BANNER_LEVEL="degraded"
    )
    client.post(f"/demarches/{slug}/")
    for path in (
        "/",
        f"/demarches/{slug}/",
        f"/demarches/{slug}/etapes/1",
        "/mon-espace/connexion",
    ):
        page = client.get(path).text
        assert "Maintenance ce soir de 20 h à 22 h." in page, path
        assert "service-banner--degraded" in page
    app.config["SERVICE_BANNER"] = ""
    assert "service-banner" not in client.get("/").text.split("</header>")[1].split("<main")[0]
