"""The incident timeline: evidence charts, detected windows beside declared announcements."""

import re
from datetime import timedelta

import pytest

from forms_app import ops_evidence
from forms_app.db import get_session, utcnow
from forms_app.filters import local_time
from forms_app.models import Announcement, AnnouncementLevel, ProblemReport, Role
from tests.support import make_user

URL = "/agents/pilotage/incidents"


def simulate_outage(app, hours_ago: float = 5) -> tuple:
    """A burst of 5xx answers and problem reports in two buckets; the window's bounds."""
    start = ops_evidence.bucket_start(utcnow() - timedelta(hours=hours_ago), 15)
    ops_evidence.count(app, "server_errors", 40, at=start + timedelta(minutes=2))
    ops_evidence.count(app, "server_errors", 35, at=start + timedelta(minutes=17))
    ops_evidence.flush(app)
    with app.app_context():
        session = get_session()
        for minute in (3, 4, 8, 16, 20, 29):
            moment = start + timedelta(minutes=minute)
            session.add(ProblemReport(page="/", description="Page blanche", created_at=moment))
        session.commit()
    return start, start + timedelta(minutes=30)


def announce(app, level: AnnouncementLevel, starts_at, ends_at, message: str) -> None:
    with app.app_context():
        session = get_session()
        session.add(
            Announcement(level=level, message=message, starts_at=starts_at, ends_at=ends_at)
        )
        session.commit()


def table(html: str, css: str) -> str:
    match = re.search(rf'<table class="table {css}">.*?</table>', html, re.S)
    return match.group(0) if match else ""


def windows_table(html: str) -> str:
    return table(html, "timeline-windows")


def test_admin_sees_the_detected_window_beside_the_announcement(app, client, auth):
    make_user(app, Role.ADMIN)
    start, end = simulate_outage(app)
    announce(
        app,
        AnnouncementLevel.UNAVAILABLE,
        start + timedelta(minutes=10),
        end + timedelta(hours=1),
        "Le service est interrompu.",
    )
    announce(app, AnnouncementLevel.INFO, start, None, "Simple information.")
    auth.login()
    response = client.get(URL)
    assert response.status_code == 200
    html = response.text
    assert "Incidents de la plateforme" in html
    detected = windows_table(html)
    assert local_time(start) in detected and local_time(end) in detected
    assert "30 min" in detected
    assert "erreurs du serveur (5xx), signalements" in detected
    assert detected.count("<tr>") == 2  # the heading and one window
    assert html.count('class="chart chart--bar"') == 4
    assert "chart__band chart__band--outage" in html
    assert "chart__band chart__band--announced" in html
    assert "chart__bar chart__bar--alert" in html
    declared = table(html, "timeline-announcements")
    assert "Le service est interrompu." in declared
    assert "Service indisponible" in declared
    assert "Simple information." not in declared  # information is not a declared outage
    assert "selected>3 derniers jours" in html
    assert 'href="/agents/pilotage/prolongations"' in html


def test_a_quiet_period_has_no_window(app, client, auth):
    make_user(app, Role.AGENT)
    simulate_outage(app, hours_ago=30)  # outside the last 24 hours
    auth.login()
    html = client.get(URL, query_string={"periode": "24h"}).text
    assert "Aucun incident détecté sur la période." in html
    assert "chart__band--outage" not in html
    assert "selected>24 dernières heures" in html
    html = client.get(URL, query_string={"periode": "7j"}).text
    assert windows_table(html).count("<tr>") == 2


def test_an_unknown_period_is_refused_with_a_french_message(app, client, auth):
    make_user(app, Role.ADMIN)
    auth.login()
    response = client.get(URL, query_string={"periode": "1an"})
    assert response.status_code == 400
    assert "Choisissez une période de la liste." in response.text


@pytest.mark.parametrize("role", [Role.DESIGNER, Role.APPROVER, Role.FINANCE])
def test_other_roles_are_refused(app, client, auth, role):
    make_user(app, role)
    auth.login()
    assert client.get(URL).status_code == 403


def test_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/agents/connexion" in response.headers["Location"]
