"""The ops pages for announcements: admins publish and end them, agents read, others are refused."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from forms_app.db import get_session, utcnow
from forms_app.filters import local_time
from forms_app.models import Announcement, Event, Role
from tests.support import make_user, publish_form
from tests.test_announcements import FIELDS, HOUR, announce, banner_zone, form_id

LIST, NEW = "/agents/pilotage/annonces", "/agents/pilotage/annonces/nouvelle"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def sign_in(app, auth, role: Role, email: str) -> None:
    make_user(app, role, email=email)
    assert auth.login(email=email).status_code == 302


def stored(app) -> list[Announcement]:
    with app.app_context():
        return get_session().scalars(select(Announcement).order_by(Announcement.id)).all()


def event_count(app) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(Event))


def test_an_admin_publishes_through_the_form_with_its_csrf_token(app, client, auth):
    publish_form(app, FIELDS, slug="aide-a")
    sign_in(app, auth, Role.ADMIN, "admin@example.nc")
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(NEW)
    assert page.status_code == 200
    assert local_time(utcnow())[:10] in page.text  # the start defaults to now, in Noumea
    token = CSRF.search(page.text).group(1)
    data = {
        "level": "unavailable",
        "message": "Dépôt des pièces jointes impossible.",
        "form_id": str(form_id(app, "aide-a")),
        "starts_at": "10/03/2026 08:00",
        "ends_at": "31/12/2099 18:00",
    }
    assert client.post(NEW, data=data).status_code == 400  # no token: refused
    assert stored(app) == []
    response = client.post(NEW, data={**data, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(LIST)
    [made] = stored(app)
    assert made.level == "unavailable" and made.form_id == form_id(app, "aide-a")
    assert made.starts_at == datetime(2026, 3, 9, 21, 0, tzinfo=UTC)  # Noumea is UTC+11
    assert made.ends_at == datetime(2099, 12, 31, 7, 0, tzinfo=UTC)
    listing = client.get(LIST).text
    assert "Dépôt des pièces jointes impossible." in listing
    assert "du 10/03/2026 08:00 au 31/12/2099 18:00 (heure de Nouméa)" in listing
    assert "Service indisponible" in banner_zone(client.get("/demarches/aide-a/").text)
    assert "Dépôt des pièces" not in client.get("/").text


def test_an_empty_start_means_now_and_the_announcement_shows_at_once(app, client, auth):
    sign_in(app, auth, Role.ADMIN, "admin@example.nc")
    before = utcnow()
    response = client.post(
        NEW, data={"level": "info", "message": "Nouveau formulaire en ligne.", "form_id": "tous"}
    )
    assert response.status_code == 302
    [made] = stored(app)
    assert made.form_id is None and made.ends_at is None and made.starts_at >= before
    assert "Nouveau formulaire en ligne." in banner_zone(client.get("/").text)


@pytest.mark.parametrize(
    ("dates", "status", "message"),
    [
        ({"starts_at": "10/03/2026 08:00", "ends_at": "10/03/2026 07:00"}, 422, "postérieure"),
        ({"starts_at": "10/03/2026 08:00", "ends_at": "10/03/2026 08:00"}, 422, "postérieure"),
        ({"starts_at": "32/03/2026 08:00"}, 400, "JJ/MM/AAAA HH:MM"),
        ({"ends_at": "demain"}, 400, "JJ/MM/AAAA HH:MM"),
    ],
)
def test_wrong_dates_get_a_french_error_and_nothing_is_written(
    app, client, auth, dates, status, message
):
    sign_in(app, auth, Role.ADMIN, "admin@example.nc")
    events = event_count(app)
    data = {"level": "degraded", "message": "Lenteurs.", "form_id": "tous", **dates}
    response = client.post(NEW, data=data)
    assert response.status_code == status
    assert "Il y a un problème" in response.text and message in response.text
    assert "<title>Erreur :" in response.text
    assert stored(app) == [] and event_count(app) == events


def test_a_missing_message_is_refused(app, client, auth):
    sign_in(app, auth, Role.ADMIN, "admin@example.nc")
    response = client.post(NEW, data={"level": "info", "message": " ", "form_id": "tous"})
    assert response.status_code == 400
    assert "Saisissez le message de l’annonce." in response.text
    assert stored(app) == []


def test_an_admin_ends_an_announcement_and_its_banner_goes(app, client, auth):
    sign_in(app, auth, Role.ADMIN, "admin@example.nc")
    made = announce(app, "Panne générale.", level="unavailable")
    assert "Panne générale." in banner_zone(client.get("/").text)
    app.config["WTF_CSRF_ENABLED"] = True
    listing = client.get(LIST).text
    assert f"/agents/pilotage/annonces/{made}/fin" in listing
    assert client.post(f"{LIST}/{made}/fin").status_code == 400  # no token
    token = CSRF.search(listing).group(1)
    response = client.post(f"{LIST}/{made}/fin", data={"csrf_token": token})
    assert response.status_code == 302
    [ended] = stored(app)
    assert ended.ends_at is not None and ended.ends_at <= utcnow()
    assert "Panne générale." not in banner_zone(client.get("/").text)
    again = client.post(f"{LIST}/{made}/fin", data={"csrf_token": token})
    assert again.status_code == 409 and "déjà terminée" in again.text
    assert client.post(f"{LIST}/9999/fin", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        actions = get_session().scalars(select(Event.action).order_by(Event.id)).all()
    assert actions == ["announce", "end_announcement"]


def test_agents_read_the_list_but_cannot_change_it(app, client, auth):
    made = announce(app, "Lenteurs.", level="degraded")
    announce(app, "Maintenance.", start=timedelta(days=1), end=timedelta(days=1, hours=2))
    announce(app, "Incident d’hier.", start=-30 * HOUR, end=-28 * HOUR)
    sign_in(app, auth, Role.AGENT, "agent@example.nc")
    listing = client.get(LIST)
    assert listing.status_code == 200
    for text in ("Lenteurs.", "Maintenance.", "Incident d’hier.", "Consultation seule"):
        assert text in listing.text
    assert "/fin" not in listing.text and NEW not in listing.text
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, data={"level": "info", "message": "x"}).status_code == 403
    assert client.post(f"{LIST}/{made}/fin").status_code == 403
    assert len(stored(app)) == 3 and stored(app)[0].ends_at is None


@pytest.mark.parametrize("role", [Role.DESIGNER, Role.APPROVER, Role.FINANCE])
def test_other_staff_are_refused(app, client, auth, role):
    sign_in(app, auth, role, "staff@example.nc")
    assert client.get(LIST).status_code == 403
    assert client.get(NEW).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(LIST)
    assert response.status_code == 302 and "/agents/connexion" in response.headers["Location"]


def test_unknown_choices_are_refused_in_french(app, client, auth):
    sign_in(app, auth, Role.ADMIN, "admin@example.nc")
    data = {"level": "panique", "message": "Lenteurs.", "form_id": "9999"}
    response = client.post(NEW, data=data)
    assert response.status_code == 400
    assert "Choisissez le niveau de l’annonce." in response.text
    assert "Choisissez toutes les pages ou une démarche de la liste." in response.text
    assert stored(app) == []
