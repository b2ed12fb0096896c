"""Announcements: which are active, publishing and ending, banners on pages and the 503 page."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from forms_app import announcements, banners, create_app
from forms_app.announcements import AnnouncementError
from forms_app.db import get_session, utcnow
from forms_app.models import Announcement, AnnouncementLevel, Event, Form, Role, User
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL
from tests.support import make_user, publish_form

FIELDS = [{"key": "nom", "type": "text", "label": "Nom", "required": True}]
HOUR = timedelta(hours=1)


def form_id(app, slug: str) -> int:
    with app.app_context():
        return get_session().scalar(select(Form.id).where(Form.slug == slug))


def announce(
    app,
    message: str = "Annonce.",
    *,
    level: str = "info",
    start: timedelta = -HOUR,
    end: timedelta | None = None,
    slug: str | None = None,
) -> int:
    """Publish (and commit) an announcement starting `start` from now; its id."""
    target = form_id(app, slug) if slug else None
    with app.app_context():
        session = get_session()
        now = utcnow()
        made = announcements.publish(
            session,
            level=level,
            message=message,
            starts_at=now + start,
            ends_at=None if end is None else now + end,
            form_id=target,
            actor=None,
        )
        session.commit()
        return made.id


def banner_zone(html: str) -> str:
    """The part of a page between the header and the main content: where banners go."""
    return html.split("</header>", 1)[1].split("<main", 1)[0]


def counts(app) -> tuple[int, int]:
    with app.app_context():
        session = get_session()
        return (
            session.scalar(select(func.count()).select_from(Announcement)),
            session.scalar(select(func.count()).select_from(Event)),
        )


def test_active_selects_running_announcements_global_and_of_the_form(app):
    publish_form(app, FIELDS, slug="aide-a")
    publish_form(app, FIELDS, slug="aide-b")
    announce(app, "Global en cours.", start=-2 * HOUR)
    announce(app, "Global indisponible.", level="unavailable", start=-3 * HOUR, end=HOUR)
    announce(app, "Global terminé.", start=-3 * HOUR, end=-HOUR)
    announce(app, "Global programmé.", start=HOUR, end=2 * HOUR)
    announce(app, "Pour A.", level="degraded", slug="aide-a")
    announce(app, "Pour B.", level="unavailable", slug="aide-b")
    announce(app, "Global récent.", start=-timedelta(minutes=5))
    target = form_id(app, "aide-a")
    with app.app_context():
        session = get_session()
        now = utcnow()
        everywhere = [a.message for a in announcements.active(session, now)]
        on_a = [a.message for a in announcements.active(session, now, target)]
    # Most severe first, then newest.
    assert everywhere == ["Global indisponible.", "Global récent.", "Global en cours."]
    assert on_a == ["Global indisponible.", "Pour A.", "Global récent.", "Global en cours."]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"message": "  "}, "Saisissez le message"),
        ({"message": "x" * 2001}, "2 000 caractères"),
        ({"level": "catastrophe"}, "Choisissez le niveau"),
        ({"ends_at": timedelta(0)}, "postérieure à son début"),
        ({"ends_at": -HOUR}, "postérieure à son début"),
        ({"form_id": 999}, "n’existe pas"),
    ],
)
def test_publish_refuses_wrong_input_in_french_and_writes_nothing(app, fields, expected):
    with app.app_context():
        session = get_session()
        start = utcnow() - HOUR
        values = {"level": "info", "message": "Maintenance.", "form_id": None, **fields}
        if "ends_at" in fields:
            values["ends_at"] = start + fields["ends_at"]
        with pytest.raises(AnnouncementError, match=expected) as raised:
            announcements.publish(session, starts_at=start, actor=None, **values)
        assert raised.value.status == 422
        session.rollback()
    assert counts(app) == (0, 0)


def test_publish_and_end_are_audited_and_ending_twice_is_refused(app):
    admin_id = make_user(app, Role.ADMIN, email="admin@example.nc")
    with app.app_context():
        session = get_session()
        admin = session.get(User, admin_id)
        now = utcnow()
        made = announcements.publish(
            session, level="degraded", message="Lenteurs.", starts_at=now - HOUR, actor=admin
        )
        session.commit()
        announcements.end(session, made, admin, now)
        session.commit()
        assert made.ends_at == now and not made.is_active(now)
        with pytest.raises(AnnouncementError, match="déjà terminée") as raised:
            announcements.end(session, made, admin, now + HOUR)
        assert raised.value.status == 409
        events = session.scalars(select(Event).order_by(Event.id)).all()
    assert [(e.action, e.actor_id, e.subject_id) for e in events] == [
        ("announce", admin_id, made.id),
        ("end_announcement", admin_id, made.id),
    ]
    assert events[0].details["level"] == "degraded"


def test_ending_a_scheduled_announcement_withdraws_it(app):
    scheduled = announce(app, "Maintenance prévue.", start=2 * HOUR, end=3 * HOUR)
    with app.app_context():
        session = get_session()
        found = session.get(Announcement, scheduled)
        announcements.end(session, found, None, utcnow())
        session.commit()
        assert found.ends_at == found.starts_at
        shown = announcements.history(session, utcnow() + 4 * HOUR)
    assert (shown.current, shown.scheduled, shown.past) == ([], [], [])


def test_history_splits_current_scheduled_and_recent_past(app):
    announce(app, "En cours.")
    announce(app, "À venir.", start=HOUR)
    announce(app, "Hier.", start=-26 * HOUR, end=-25 * HOUR)
    announce(app, "Avant-hier.", start=-50 * HOUR, end=-49 * HOUR)
    announce(app, "Il y a longtemps.", start=-100 * 24 * HOUR, end=-99 * 24 * HOUR)
    with app.app_context():
        found = announcements.history(get_session(), utcnow(), days=90)
        assert [a.message for a in found.current] == ["En cours."]
        assert [a.message for a in found.scheduled] == ["À venir."]
        assert [a.message for a in found.past] == ["Hier.", "Avant-hier."]


def test_banners_show_global_announcements_everywhere_and_a_forms_on_its_pages(app, client):
    publish_form(app, FIELDS, slug="aide-a")
    publish_form(app, FIELDS, slug="aide-b")
    start = datetime(2026, 3, 9, 21, 0, tzinfo=UTC)  # 10/03/2026 08:00 in Noumea
    target = form_id(app, "aide-a")
    with app.app_context():
        session = get_session()
        announcements.publish(
            session,
            level="degraded",
            message="Lenteurs sur tout le site.",
            starts_at=start,
            ends_at=utcnow() + 24 * HOUR,
            actor=None,
        )
        announcements.publish(
            session,
            level="unavailable",
            message="Pièces jointes indisponibles pour l’aide A.",
            starts_at=utcnow() - HOUR,
            form_id=target,
            actor=None,
        )
        session.commit()
    home = banner_zone(client.get("/").text)
    assert "Lenteurs sur tout le site." in home
    assert "Service perturbé" in home
    assert "du 10/03/2026 08:00 au" in home and "(heure de Nouméa)" in home
    assert 'role="region"' in home and 'aria-label="Information de service"' in home
    assert 'href="/etat-du-service"' in home
    assert "aide A" not in home
    on_a = banner_zone(client.get("/demarches/aide-a/").text)
    assert "Service indisponible" in on_a and "Pièces jointes indisponibles" in on_a
    # The most severe comes first.
    assert on_a.index("Service indisponible") < on_a.index("Service perturbé")
    on_b = banner_zone(client.get("/demarches/aide-b/").text)
    assert "Lenteurs sur tout le site." in on_b and "aide A" not in on_b


def test_a_banner_goes_away_when_its_announcement_ends(app, client):
    made = announce(app, "Incident en cours.", level="unavailable")
    assert "Incident en cours." in banner_zone(client.get("/").text)
    with app.app_context():
        session = get_session()
        announcements.end(session, session.get(Announcement, made), None, utcnow())
        session.commit()  # the commit clears this process's cache
    assert "Incident en cours." not in client.get("/").text
    assert "service-banner" not in banner_zone(client.get("/").text)


def test_banners_are_cached_a_few_seconds_per_process(app, client):
    app.config["BANNER_CACHE_SECONDS"] = 600
    assert "service-banner" not in banner_zone(client.get("/").text)
    with app.app_context():  # written as another process would: no ORM event here
        session = get_session()
        session.execute(
            insert(Announcement).values(
                level=AnnouncementLevel.INFO,
                message="Écrit ailleurs.",
                starts_at=utcnow() - HOUR,
                created_at=utcnow(),
            )
        )
        session.commit()
    assert "Écrit ailleurs." not in client.get("/").text
    banners.clear_cache()
    assert "Écrit ailleurs." in client.get("/").text
    app.config["BANNER_CACHE_SECONDS"] = 0
    with app.app_context():
        session = get_session()
        session.execute(
            insert(Announcement).values(
                level=AnnouncementLevel.DEGRADED,
                message="Sans cache.",
                starts_at=utcnow() - HOUR,
                created_at=utcnow(),
            )
        )
        session.commit()
    assert "Sans cache." in client.get("/").text


def unreachable_database_urls() -> list[str]:
    urls = ["postgresql+psycopg://nobody@127.0.0.1:1/none"]  # nothing listens on port 1
    if ON_POSTGRES:  # a real server without that database
        from sqlalchemy import make_url

        missing = make_url(TEST_DATABASE_URL).set(database="guichet_no_such_database")
        urls.append(missing.render_as_string(hide_password=False))
    return urls


@pytest.mark.parametrize("url", unreachable_database_urls())
def test_the_503_page_still_shows_the_configured_banner(app_config, tmp_path, monkeypatch, url):
    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path))
    config = dict(
        app_config,
        DATABASE_URL=url,
        SERVICE_BANNER="Panne du fournisseur d’hébergement.",
        SERVICE_BANNER_LEVEL="unavailable",
    )
    client = create_app(config).test_client()
    response = client.get("/")
    assert response.status_code == 503
    assert "Service momentanément indisponible" in response.text
    zone = banner_zone(response.text)
    assert "Panne du fournisseur d’hébergement." in zone
    assert "Service indisponible" in zone and "service-banner--unavailable" in zone
