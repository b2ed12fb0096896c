"""The public status page: current and scheduled announcements, then the dated archive."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from forms_app import announcements
from forms_app.db import get_session, utcnow
from forms_app.models import Announcement
from tests.support import publish_form
from tests.test_announcements import FIELDS, HOUR, announce, form_id

NOUMEA = ZoneInfo("Pacific/Noumea")


def publish_at(app, message: str, level: str, starts_at: datetime, ends_at: datetime | None):
    with app.app_context():
        session = get_session()
        announcements.publish(
            session, level=level, message=message, starts_at=starts_at, ends_at=ends_at, actor=None
        )
        session.commit()


def main(html: str) -> str:
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def local(days_ago: int, hour: int, minute: int = 0) -> datetime:
    """A moment `days_ago` days back, at this Noumea wall-clock time (aware)."""
    day = (utcnow() - timedelta(days=days_ago)).astimezone(NOUMEA).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NOUMEA)


def test_the_status_page_lists_current_then_past_announcements_in_noumea_time(client, app):
    publish_form(app, FIELDS, slug="aide-a", title="Aide aux entreprises")
    outage_start, outage_end = local(10, 9, 30), local(10, 12)
    # 09:30 in Noumea is 22:30 UTC the day before: the archive goes by the local date.
    assert outage_start.astimezone(UTC).date() < outage_start.date()
    publish_at(app, "Plateforme indisponible.", "unavailable", outage_start, outage_end)
    publish_at(app, "Lenteurs le matin.", "degraded", local(20, 6), local(20, 8))
    announce(app, "Pièces jointes en panne.", level="degraded", slug="aide-a")
    announce(
        app, "Maintenance programmée.", start=timedelta(days=2), end=timedelta(days=2, hours=1)
    )
    response = client.get("/etat-du-service")  # no sign-in needed
    assert response.status_code == 200
    page = main(response.text)
    assert "État du service" in page and "Pacific/Noumea" in page
    now_part, rest = page.split("Annonces programmées", 1)
    scheduled_part, past_part = rest.split("Annonces passées", 1)
    assert "Pièces jointes en panne." in now_part and "Service perturbé" in now_part
    assert "Démarche : Aide aux entreprises" in now_part
    assert "Maintenance programmée." in scheduled_part
    day = outage_start.strftime("%d/%m/%Y")
    assert f'<time datetime="{outage_start.date().isoformat()}">{day}</time>' in past_part
    assert f"du {day} 09:30 au {day} 12:00 (heure de Nouméa)" in past_part
    assert "Service indisponible" in past_part and "Plateforme indisponible." in past_part
    # Newest first.
    assert past_part.index(day) < past_part.index(local(20, 6).strftime("%d/%m/%Y"))
    assert past_part.index("Plateforme indisponible.") < past_part.index("Lenteurs le matin.")


def test_the_status_page_says_when_all_is_well(client):
    page = main(client.get("/etat-du-service").text)
    assert "Aucune annonce en cours : le service fonctionne normalement." in page
    assert "Aucune annonce passée." in page
    assert "Annonces programmées" not in page


def test_withdrawn_and_old_announcements_are_left_out(client, app):
    announce(app, "Vieille panne.", start=-200 * 24 * HOUR, end=-199 * 24 * HOUR)
    withdrawn = announce(app, "Retirée.", start=HOUR, end=2 * HOUR)
    with app.app_context():
        session = get_session()
        announcements.end(session, session.get(Announcement, withdrawn), None, utcnow())
        session.commit()
    page = main(client.get("/etat-du-service").text)
    assert "Vieille panne." not in page and "Retirée." not in page


def test_the_status_page_of_a_forms_announcement_names_the_form(client, app):
    publish_form(app, FIELDS, slug="aide-b", title="Aide au retour")
    assert form_id(app, "aide-b")
    announce(app, "Délai prolongé.", slug="aide-b")
    page = main(client.get("/etat-du-service?lang=en").text)
    assert "Délai prolongé." in page and "Aide au retour" in page
