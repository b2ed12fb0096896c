"""Problem reports in the ops area: list and filters, answer by e-mail, close, who may."""

import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from html import unescape

import pytest
from sqlalchemy import func, select

from forms_app import problem_reports
from forms_app.db import get_session
from forms_app.models import Event, Form, OutboxMessage, ProblemReport, ReportStatus, Role
from tests import support
from tests.support import make_user, publish_form, run_worker_burst, sent_mails
from tests.test_applicant_space import sign_in

FIELDS = [{"key": "nom", "type": "text", "label": "Nom", "required": True}]
DESCRIPTION = "La page de paiement affiche une erreur."
LIST = "/agents/pilotage/signalements"
ROW_LINK = re.compile(r'href="/agents/pilotage/signalements/(\d+)"')


def add_report(app, *, created_at=None, status=ReportStatus.NEW, slug=None, email=None) -> int:
    """A report as a visitor would leave it, possibly older or already handled."""
    with app.app_context():
        session = get_session()
        form_id = session.scalar(select(Form.id).where(Form.slug == slug)) if slug else None
        report = problem_reports.create(
            session, page="/", description=DESCRIPTION, contact_email=email, form_id=form_id
        )
        report.status = status
        if created_at is not None:
            report.created_at = created_at
        session.commit()
        return report.id


def get_report(app, report_id: int) -> ProblemReport:
    with app.app_context():
        return get_session().get(ProblemReport, report_id)


def events(app, report_id: int) -> list[str]:
    with app.app_context():
        return list(
            get_session().scalars(
                select(Event.action)
                .where(Event.subject_type == "problem_report", Event.subject_id == report_id)
                .order_by(Event.id)
            )
        )


def listed(html: str) -> list[int]:
    return [int(found) for found in ROW_LINK.findall(html)]


def sign_in_as(app, client, *roles: Role, email: str = "agent@example.nc") -> None:
    make_user(app, *roles, email=email)
    response = support.sign_in(client, email)
    assert response.status_code == 302 and "/connexion" not in response.headers["Location"]


def test_agents_see_reports_newest_first_and_filter_them(app, client):
    publish_form(app, FIELDS, slug="essai")
    publish_form(app, FIELDS, slug="autre")
    day = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 12:00 in Nouméa
    old = add_report(app, created_at=day - timedelta(days=5), slug="essai")
    closed = add_report(app, created_at=day - timedelta(days=1), status=ReportStatus.CLOSED)
    recent = add_report(app, created_at=day, slug="autre", email="a@exemple.nc")
    sign_in_as(app, client, Role.AGENT)

    page = client.get(LIST)
    assert page.status_code == 200
    assert listed(page.text) == [recent, closed, old]
    assert "10/03/2026 12:00" in page.text  # Nouméa time

    assert listed(client.get(LIST, query_string={"statut": "closed"}).text) == [closed]
    with app.app_context():
        essai = get_session().scalar(select(Form.id).where(Form.slug == "essai"))
    assert listed(client.get(LIST, query_string={"formulaire": essai}).text) == [old]
    period = {"du": "09/03/2026", "au": "10/03/2026"}
    assert listed(client.get(LIST, query_string=period).text) == [recent, closed]
    assert listed(client.get(LIST, query_string={"au": "08/03/2026"}).text) == [old]


def test_a_bad_date_filter_is_explained_in_french(app, client):
    add_report(app)
    sign_in_as(app, client, Role.ADMIN)
    page = client.get(LIST, query_string={"du": "31/02/2026"})
    assert page.status_code == 400
    assert "n’existe pas" in unescape(page.text)
    assert 'href="#filtre-du"' in page.text
    assert listed(page.text) == []


def test_reports_come_fifty_at_a_time(app, client):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [add_report(app, created_at=start + timedelta(minutes=i)) for i in range(51)]
    sign_in_as(app, client, Role.AGENT)
    first = client.get(LIST)
    assert listed(first.text) == ids[::-1][:50]
    following = unescape(re.search(r'href="([^"]+)" rel="next"', first.text).group(1))
    second = client.get(following)
    assert listed(second.text) == [ids[0]]
    assert 'rel="next"' not in second.text


def test_answering_e_mails_the_contact_exactly_once(app, client):
    report_id = add_report(app, email="marie@exemple.nc")
    sign_in_as(app, client, Role.AGENT)
    page = client.get(f"{LIST}/{report_id}")
    assert page.status_code == 200
    assert "marie@exemple.nc" in page.text and DESCRIPTION in unescape(page.text)

    url = f"{LIST}/{report_id}/reponse"
    answered = client.post(url, data={"answer": "Le paiement fonctionne de nouveau."})
    assert answered.status_code == 302
    again = client.post(url, data={"answer": "Deuxième clic."})
    assert again.status_code == 409
    assert "déjà reçu une réponse" in unescape(again.text)

    run_worker_burst(app)
    run_worker_burst(app)
    [mail] = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sent_mails(app)]
    assert mail["To"] == "marie@exemple.nc"
    assert mail["Subject"] == f"Votre signalement n° {report_id}"
    body = mail.get_body(("plain",)).get_content()
    assert "Le paiement fonctionne de nouveau." in body
    assert "Deuxième clic" not in body

    report = get_report(app, report_id)
    assert report.status is ReportStatus.ANSWERED
    assert report.answer == "Le paiement fonctionne de nouveau."
    assert report.answered_at is not None and report.answered_by_id is not None
    assert events(app, report_id) == ["report_problem", "answer_report"]


def test_an_empty_answer_is_refused_and_nothing_is_sent(app, client):
    report_id = add_report(app, email="marie@exemple.nc")
    sign_in_as(app, client, Role.AGENT)
    response = client.post(f"{LIST}/{report_id}/reponse", data={"answer": "  "})
    assert response.status_code == 400
    assert "Écrivez votre réponse." in unescape(response.text)
    assert get_report(app, report_id).status is ReportStatus.NEW
    with app.app_context():
        assert get_session().scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_report_without_contact_cannot_be_answered(app, client):
    report_id = add_report(app)
    sign_in_as(app, client, Role.AGENT)
    page = client.get(f"{LIST}/{report_id}")
    assert 'action="/agents/pilotage/signalements/' + str(report_id) + "/reponse" not in page.text
    response = client.post(f"{LIST}/{report_id}/reponse", data={"answer": "Bonjour."})
    assert response.status_code == 409
    assert "pas d’adresse e-mail" in unescape(response.text)
    assert get_report(app, report_id).status is ReportStatus.NEW
    assert events(app, report_id) == ["report_problem"]


def test_closing_and_reopening_are_audited(app, client):
    report_id = add_report(app, email="marie@exemple.nc")
    sign_in_as(app, client, Role.ADMIN)
    assert client.post(f"{LIST}/{report_id}/cloture").status_code == 302
    assert get_report(app, report_id).status is ReportStatus.CLOSED
    assert client.post(f"{LIST}/{report_id}/cloture").status_code == 409
    refused = client.post(f"{LIST}/{report_id}/reponse", data={"answer": "Bonjour."})
    assert refused.status_code == 409 and "rouvrez-le" in unescape(refused.text)
    assert client.post(f"{LIST}/{report_id}/reouverture").status_code == 302
    assert get_report(app, report_id).status is ReportStatus.NEW
    assert events(app, report_id) == ["report_problem", "close_report", "reopen_report"]
    history = client.get(f"{LIST}/{report_id}").text
    assert "Signalement clos" in history and "Signalement rouvert" in history


def test_status_changes_need_the_csrf_token(app, client):
    report_id = add_report(app)
    sign_in_as(app, client, Role.AGENT)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"{LIST}/{report_id}/cloture").status_code == 400
    assert get_report(app, report_id).status is ReportStatus.NEW


def test_an_unknown_report_is_not_found(app, client):
    sign_in_as(app, client, Role.AGENT)
    assert client.get(f"{LIST}/999").status_code == 404
    assert client.post(f"{LIST}/999/cloture").status_code == 404


ROUTES = [
    ("get", LIST),
    ("get", LIST + "/{id}"),
    ("post", LIST + "/{id}/reponse"),
    ("post", LIST + "/{id}/cloture"),
    ("post", LIST + "/{id}/reouverture"),
]


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_visitors_and_applicants_are_sent_to_the_login(app, client, method, route):
    report_id = add_report(app, email="marie@exemple.nc")
    url = route.format(id=report_id)
    anonymous = getattr(client, method)(url, data={"answer": "Bonjour."})
    assert anonymous.status_code == 302
    assert "/agents/connexion" in anonymous.headers["Location"]
    sign_in(app, client, "marie@exemple.nc")  # the applicant space, not a staff account
    applicant = getattr(client, method)(url, data={"answer": "Bonjour."})
    assert applicant.status_code == 302
    assert "/agents/connexion" in applicant.headers["Location"]
    assert get_report(app, report_id).status is ReportStatus.NEW


@pytest.mark.parametrize("role", [Role.DESIGNER, Role.APPROVER, Role.FINANCE])
@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_other_staff_are_refused(app, client, role, method, route):
    report_id = add_report(app, email="marie@exemple.nc")
    sign_in_as(app, client, role)
    response = getattr(client, method)(route.format(id=report_id), data={"answer": "Bonjour."})
    assert response.status_code == 403
    assert get_report(app, report_id).status is ReportStatus.NEW
