"""Dashboards: figures on a known dataset, bounded queries, the cache, pages, CSV and roles."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from sqlalchemy import insert, select

from forms_app import dashboards
from forms_app.db import get_session, utcnow
from forms_app.models import Event, Form, PaymentAct, ProblemReport, Role, Submission, User
from forms_app.public.space_access import EMAIL_KEY
from tests.inbox_support import StatementCounter
from tests.support import make_user, publish_form

NOW = datetime(2026, 3, 20, 1, 0, tzinfo=UTC)  # 12:00 in Nouméa
FIELDS = [{"key": "nom", "type": "text", "label": "Nom"}]
URL = "/agents/pilotage/"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make_form(app, slug: str, envelope: int | None = None) -> int:
    settings = {"reference_prefix": "AIDE"}
    if envelope is not None:
        settings["budget_envelope"] = envelope
    publish_form(app, FIELDS, slug=slug, title=f"Aide {slug}", settings=settings)
    with app.app_context():
        return get_session().scalar(select(Form.id).where(Form.slug == slug))


class Data:
    """Writes rows as the chain leaves them, at chosen times (UTC)."""

    def __init__(self, app):
        self.app, self.numbers = app, iter(range(1, 10**6))

    def request(self, form_id, state, submitted=None, *, created=None, approved=None, **extra):
        with self.app.app_context():
            db = get_session()
            form = db.get(Form, form_id)
            number = next(self.numbers)
            found = Submission(
                form_id=form_id,
                form_version_id=form.current_version_id,
                state=state,
                reference=None if state == "draft" else f"DONNEE-{number:06d}",
                answers={"nom": f"Demandeur {number}"},
                created_at=utc(created or submitted),
                submitted_at=utc(submitted) if submitted and state != "draft" else None,
                approved_amount=approved,
                **extra,
            )
            db.add(found)
            db.commit()
            return found.id

    def act(self, submission_id, amount, *, state="paid", paid=None, ridet="1234567.001", **extra):
        with self.app.app_context():
            db = get_session()
            found = db.get(Submission, submission_id)
            sequence = next(self.numbers)
            act = PaymentAct(
                number=f"2026-{sequence:06d}",
                budget_code="budget-principal",
                year=2026,
                sequence=sequence,
                submission_id=submission_id,
                live_submission_id=None if state == "cancelled" else submission_id,
                form_id=found.form_id,
                state=state,
                amount=amount,
                beneficiary={"name": f"SARL NUMÉRO {sequence}", "ridet": ridet},
                bank={"iban": "FR7699999000010001234567809"},
                details={"objet": "Aide exceptionnelle", "form_title": found.form.title},
                issued_at=extra.pop("issued", utc(paid) if paid else NOW),
                paid_at=utc(paid) if paid else None,
                **extra,
            )
            db.add(act)
            db.commit()
            return act.id

    def event(self, submission_id, action, actor_id, at):
        with self.app.app_context():
            db = get_session()
            db.add(
                Event(
                    subject_type="submission",
                    subject_id=submission_id,
                    action=action,
                    actor_id=actor_id,
                    created_at=utc(at),
                )
            )
            db.commit()

    def report(self, at, form_id=None):
        with self.app.app_context():
            db = get_session()
            db.add(
                ProblemReport(form_id=form_id, page="/", description="Erreur", created_at=utc(at))
            )
            db.commit()


@pytest.fixture
def known(app):
    """Two forms, ten requests, three payments, agents' events and problem reports."""
    a, b = make_form(app, "aide-a", envelope=1_000_000), make_form(app, "aide-b")
    alice = make_user(app, Role.AGENT, email="alice@example.nc")
    bob = make_user(app, Role.APPROVER, email="bob@example.nc")
    with app.app_context():
        db = get_session()
        db.get(User, alice).name, db.get(User, bob).name = "Alice Agent", "Bob Valideur"
        db.commit()
    d = Data(app)
    d.request(a, "draft", created="2026-03-19 10:00")
    d.request(a, "submitted", "2026-03-19 12:30")  # 23:30 in Nouméa: 19 March
    d.request(a, "submitted", "2026-03-19 13:30")  # 00:30 in Nouméa: 20 March
    reviewed = d.request(a, "in_review", "2026-03-05 00:00")
    proposed = d.request(
        a, "proposed", "2026-03-10 00:00", proposal="accept", proposed_amount=200_000
    )
    paid = d.request(a, "paid", "2026-03-01 00:00", approved=300_000)
    d.act(paid, 300_000, paid="2026-03-11 12:00")  # 10.5 days
    quick = d.request(a, "paid", "2026-03-02 00:00", approved=100_000)
    d.act(quick, 100_000, paid="2026-03-06 12:00")  # 4.5 days
    d.request(a, "approved", "2026-01-01 00:00", approved=50_000)  # before the period
    other = d.request(b, "submitted", "2026-03-19 12:30")
    slow = d.request(b, "paid", "2026-03-03 00:00", approved=80_000)
    d.act(slow, 80_000, paid="2026-03-20 00:00")  # 17 days
    d.event(reviewed, "take", alice, "2026-03-05 01:00")  # Thursday: week of 2 March
    d.event(proposed, "propose", alice, "2026-03-10 02:00")  # week of 9 March
    d.event(paid, "approve", bob, "2026-03-08 20:00")  # Sunday in UTC, Monday 9 in Nouméa
    d.event(other, "take", alice, "2026-03-19 13:00")  # Friday 20: week of 16 March
    d.event(paid, "submit", None, "2026-03-01 00:00")  # the applicant's: not staff work
    d.event(reviewed, "take", alice, "2026-01-02 00:00")  # before the period
    d.report("2026-03-19 12:00", a)
    d.report("2026-03-19 12:00")
    d.report("2026-02-18 13:30")  # 00:30 on 19 February, the first day
    d.report("2026-02-18 12:30")  # 23:30 on 18 February: before the period
    return {"a": a, "b": b, "alice": alice, "bob": bob}


def compute(app, form_id=None):
    with app.app_context():
        return dashboards.compute(get_session(), NOW, form_id, days=30)


def test_figures_of_all_forms_on_a_known_dataset(app, known):
    data = compute(app)
    assert data["period"] == {"first": "2026-02-19", "last": "2026-03-20", "days": 30}
    per_day = dict(data["submissions_per_day"])
    assert len(per_day) == 30 and sum(per_day.values()) == 8
    assert per_day["2026-03-19"] == 2 and per_day["2026-03-20"] == 1
    assert per_day["2026-03-01"] == per_day["2026-03-05"] == 1
    assert data["funnel"] == {"draft": 9, "submitted": 8, "approved": 3, "paid": 3}
    assert data["backlog"] == {
        "submitted": [3, 0, 0, 0],
        "in_review": [0, 0, 1, 0],
        "changes_requested": [0, 0, 0, 0],
        "proposed": [0, 1, 0, 0],
        "approved": [0, 0, 0, 1],
        "act_issued": [0, 0, 0, 0],
        "signed": [0, 0, 0, 0],
    }
    assert data["median_days_to_payment"] == 10.5
    assert data["payment_delays"] == [1, 1, 1, 0, 0]
    assert data["amounts"] == {
        "envelope": 1_000_000,
        "proposed": 200_000,
        "approved": 530_000,
        "paid": 480_000,
    }
    throughput = data["throughput"]
    assert throughput["weeks"] == [
        "2026-02-16",
        "2026-02-23",
        "2026-03-02",
        "2026-03-09",
        "2026-03-16",
    ]
    assert throughput["agents"] == [
        {"name": "Alice Agent", "actions": [0, 0, 1, 1, 1], "decisions": [0, 0, 0, 1, 0]},
        {"name": "Bob Valideur", "actions": [0, 0, 0, 1, 0], "decisions": [0, 0, 0, 1, 0]},
    ]
    reports = dict(data["problem_reports_per_day"])
    assert reports["2026-02-19"] == 1 and reports["2026-03-19"] == 2 and sum(reports.values()) == 3


def test_figures_of_one_form(app, known):
    data = compute(app, known["a"])
    assert sum(n for _day, n in data["submissions_per_day"]) == 6
    assert data["funnel"] == {"draft": 7, "submitted": 6, "approved": 2, "paid": 2}
    assert data["backlog"]["submitted"] == [2, 0, 0, 0]
    assert data["median_days_to_payment"] == 7.5  # between 4.5 and 10.5
    assert data["payment_delays"] == [1, 1, 0, 0, 0]
    assert data["amounts"] == {
        "envelope": 1_000_000,
        "proposed": 200_000,
        "approved": 450_000,
        "paid": 400_000,
    }
    assert [a["actions"] for a in data["throughput"]["agents"]] == [
        [0, 0, 1, 1, 0],
        [0, 0, 0, 1, 0],
    ]
    assert sum(n for _day, n in data["problem_reports_per_day"]) == 1
    other = compute(app, known["b"])
    assert other["amounts"]["envelope"] is None and other["median_days_to_payment"] == 17.0


def test_median_reads_the_histogram():
    assert dashboards.median_of([]) is None
    assert dashboards.median_of([(40, 1)]) == 4.0
    assert dashboards.median_of([(10, 1), (30, 1), (100, 1)]) == 3.0
    assert dashboards.median_of([(10, 2), (30, 1), (100, 1)]) == 2.0
    assert dashboards.median_of([(10, 1), (30, 3)]) == 3.0


def test_figures_are_cached_for_a_while_then_computed_again(app, known):
    with app.app_context():
        session = get_session()
        first = dashboards.figures(session, NOW, known["a"], days=30)
        with StatementCounter(app) as cached:
            second = dashboards.figures(session, NOW, known["a"], days=30)
        assert second == first and cached.count == 0
        key = dashboards.CACHE_KEY.format(scope=known["a"], days=30)
        ttl = Redis.from_url(app.config["REDIS_URL"]).ttl(key)
        assert 0 < ttl <= app.config["DASHBOARD_CACHE_SECONDS"]
        with StatementCounter(app) as other_period:
            dashboards.figures(session, NOW, known["a"], days=7)
        assert other_period.count > 0


def test_without_redis_the_figures_are_computed(app, known):
    expected = compute(app)
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("guichet.redis", None)
    with app.app_context():
        session = get_session()
        assert dashboards.figures(session, NOW, days=30) == expected
        with StatementCounter(app) as again:
            dashboards.figures(session, NOW, days=30)
        assert again.count > 0


def generate(app, form_id: int, rows: int, agent_id: int) -> None:
    """Many requests in every state, with payments and events, in a few bulk INSERTs."""
    now = utcnow()
    states = ["draft", "submitted", "in_review", "proposed", "approved", "paid", "rejected"]
    with app.app_context():
        db = get_session()
        version = db.get(Form, form_id).current_version_id
        first = (db.scalar(select(Submission.id).order_by(Submission.id.desc())) or 0) + 1
        db.execute(
            insert(Submission),
            [
                {
                    "form_id": form_id,
                    "form_version_id": version,
                    "state": states[i % len(states)],
                    "answers": {},
                    "created_at": now - timedelta(hours=i % 900),
                    "submitted_at": now - timedelta(hours=i % 900),
                    "approved_amount": 10_000,
                }
                for i in range(rows)
            ],
        )
        paid = [first + i for i in range(rows) if states[i % len(states)] == "paid"]
        base = 10_000 + first
        db.execute(
            insert(PaymentAct),
            [
                {
                    "number": f"2026-{base + n:06d}",
                    "budget_code": "b",
                    "year": 2026,
                    "sequence": base + n,
                    "submission_id": sid,
                    "live_submission_id": sid,
                    "form_id": form_id,
                    "state": "paid",
                    "amount": 10_000,
                    "beneficiary": {"name": "X", "ridet": "1234567001"},
                    "bank": {},
                    "details": {},
                    "issued_at": now,
                    "paid_at": now - timedelta(minutes=n),
                }
                for n, sid in enumerate(paid)
            ],
        )
        db.execute(
            insert(Event),
            [
                {
                    "subject_type": "submission",
                    "subject_id": first + i,
                    "action": "take",
                    "actor_id": agent_id,
                    "details": {},
                    "created_at": now - timedelta(hours=i % 700),
                }
                for i in range(rows)
            ],
        )
        db.commit()


def test_dashboard_pages_run_the_same_statements_whatever_the_row_count(app, client, auth):
    app.config["DASHBOARD_CACHE_SECONDS"] = 0  # measure the computation every time
    form_id = make_form(app, "aide-a", envelope=5_000_000)
    agent = make_user(app, Role.AGENT)
    auth.login()
    generate(app, form_id, 20, agent)
    pages = [URL, "/agents/pilotage/formulaires/aide-a"]
    small = []
    for page in pages:
        with StatementCounter(app) as counter:
            assert client.get(page).status_code == 200
        small.append(counter.count)
    generate(app, form_id, 1_500, agent)
    for page, expected in zip(pages, small, strict=True):
        with StatementCounter(app) as counter:
            response = client.get(page)
        assert response.status_code == 200
        assert counter.count == expected
    assert max(small) <= 14
    assert response.text.count('role="img"') == 8


def test_the_page_draws_pictures_with_their_tables(app, client, auth, known):
    make_user(app, Role.FINANCE, email="finances@example.nc")
    auth.login("finances@example.nc")
    page = client.get(URL).text
    assert page.count("<figure") == 8 and page.count("<details") == 8
    assert "Demandes déposées par jour" in page and "Enveloppe" in page
    assert 'href="/agents/pilotage/formulaires/aide-a?jours=30"' in page
    assert 'href="/agents/pilotage/subventions.csv"' in page
    assert "style=" not in page
    form_page = client.get("/agents/pilotage/formulaires/aide-b?jours=7")
    assert form_page.status_code == 200 and "Pilotage : Aide aide-b" in form_page.text
    assert '<option value="7" selected>' in form_page.text


def test_a_period_not_offered_is_refused_with_a_message(app, client, auth):
    make_user(app, Role.AGENT)
    auth.login()
    response = client.get(URL, query_string={"jours": "12"})
    assert response.status_code == 400
    assert "Choisissez une période de la liste." in response.text
    assert status(client, "/agents/pilotage/statistiques.csv?jours=x") == 400
    assert client.get("/agents/pilotage/formulaires/inconnu").status_code == 404


def test_statistics_csv_is_the_long_format(app, client, auth):
    form_id = make_form(app, "aide-a", envelope=2_000_000)
    agent = make_user(app, Role.AGENT)
    with app.app_context():
        get_session().get(User, agent).name = "=HYPERLINK(1)"
        get_session().commit()
    d = Data(app)
    moment = utcnow() - timedelta(minutes=5)
    taken = d.request(form_id, "in_review", moment.strftime("%Y-%m-%d %H:%M:%S"))
    d.event(taken, "take", agent, moment.strftime("%Y-%m-%d %H:%M:%S"))
    auth.login()
    with client.get("/agents/pilotage/formulaires/aide-a/statistiques.csv") as response:
        response.get_data()
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    assert "statistiques-aide-a-" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["indicateur", "categorie", "detail", "valeur"]
    today = (moment + dashboards.LOCAL_OFFSET).date().isoformat()
    assert ["depots_par_jour", today, "", "1"] in rows
    assert ["stock", "in_review", "0-7", "1"] in rows
    assert ["parcours", "submitted", "", "1"] in rows
    assert ["montants", "envelope", "", "2000000"] in rows
    assert ["delai_median_paiement_jours", "", "", ""] in rows
    agent_rows = [r for r in rows if r[0] == "actions_agent" and r[3] == "1"]
    assert [r[1] for r in agent_rows] == ["'=HYPERLINK(1)"]  # inert in a spreadsheet
    with client.get("/agents/pilotage/statistiques.csv") as everything:
        assert "statistiques-tous-formulaires-" in everything.headers["Content-Disposition"]


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    for path in (URL, "/agents/pilotage/statistiques.csv", "/agents/pilotage/subventions.csv"):
        with client.get(path) as response:
            assert response.status_code == 302
            assert "/agents/connexion" in response.headers["Location"]


def test_an_applicant_session_is_not_staff(app, client):
    with client.session_transaction() as session:
        session[EMAIL_KEY] = "demandeur@example.nc"
    response = client.get(URL)
    assert response.status_code == 302 and "/agents/connexion" in response.headers["Location"]


@pytest.mark.parametrize(
    ("role", "dashboard", "scdl"),
    [
        (Role.DESIGNER, 403, 403),
        (Role.AGENT, 200, 403),
        (Role.APPROVER, 200, 403),
        (Role.FINANCE, 200, 200),
        (Role.ADMIN, 200, 200),
    ],
)
def test_roles(app, client, auth, role, dashboard, scdl):
    make_form(app, "aide-a")
    make_user(app, role)
    auth.login()
    assert status(client, URL) == dashboard
    assert status(client, "/agents/pilotage/formulaires/aide-a") == dashboard
    assert status(client, "/agents/pilotage/statistiques.csv") == dashboard
    assert status(client, "/agents/pilotage/subventions.csv") == scdl


def status(client, path: str) -> int:
    """GET `path` and close the (maybe streamed) response, as a server does."""
    with client.get(path) as response:
        response.get_data()
        return response.status_code
