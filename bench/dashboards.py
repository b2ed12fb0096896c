"""Dashboards with 100,000 requests on PostgreSQL, against a baseline measured in the same run.

Creates a dedicated database (`guichet_bench_dashboards`, dropped at the end) on the server of
BENCH_DATABASE_URL, loads the demo business-aid form, COPYs N requests across states with
bench/inbox.py's generator, then adds what the dashboards read: amounts, a payment act per
paid request, audit events (submit, take, propose, approve) and problem reports. It times:

- the figures computed without cache (`dashboards.compute`), all forms and one form;
- the dashboard pages through the Flask test client, uncached and cached;
- the statistics CSV and the SCDL export,

each as a ratio to the sign-in page (the same stack, no query) and with its absolute median
and the number of SQL statements it ran.

    .venv/bin/python bench/dashboards.py [--rows 100000] [--rounds 10]
"""

import argparse
import json
import os
import statistics
import time

from database import bench_app, signed_in, throwaway_database
from inbox import generate
from results import record, table
from sqlalchemy import event, text

from forms_app import dashboards
from forms_app.accounts import create_user
from forms_app.db import get_db, get_session, utcnow
from forms_app.forms_cli import DEMO_FORMS_DIR
from forms_app.models import Role
from forms_app.publishing import create_form, publish

DATABASE = "guichet_bench_dashboards"
PASSWORD = "bench-password-123"  # noqa: S105 (a throw-away database)
# What the inbox generator leaves out, added in bulk (:a, :b, :c are the staff's ids).
STAFF = "(ARRAY[:a, :b, :c]::integer[])"
EVENT = (
    "INSERT INTO event (subject_type, subject_id, action, actor_id, details, created_at) "
    "SELECT 'submission', id, '{action}', {actor}, '{{}}', submitted_at + interval '{delay}' "
    "FROM submission WHERE state IN ({states})"
)
ENRICH = [
    "UPDATE submission SET proposal = 'accept', proposed_amount = computed_amount "
    "WHERE state IN ('proposed', 'approved', 'paid')",
    "UPDATE submission SET approved_amount = computed_amount WHERE state IN ('approved', 'paid')",
    "INSERT INTO payment_act (number, budget_code, year, sequence, submission_id, "
    "live_submission_id, form_id, state, amount, beneficiary, bank, details, issued_at, paid_at) "
    "SELECT '2026-' || lpad(id::text, 6, '0'), 'budget-principal', 2026, id, id, id, form_id, "
    "'paid', approved_amount, jsonb_build_object('name', answers->>'raison_sociale', "
    "'ridet', answers->>'ridet'), '{}', "
    "jsonb_build_object('objet', 'Aide', 'form_title', 'Aide'), "
    "submitted_at + interval '5 days', "
    "submitted_at + (interval '1 hour' * (120 + (id % 500))) "
    "FROM submission WHERE state = 'paid'",
    EVENT.format(
        action="submit",
        actor="NULL",
        delay="0 s",
        states="'submitted', 'in_review', 'changes_requested', 'proposed', 'approved', "
        "'rejected', 'closed', 'paid'",
    ),
    EVENT.format(
        action="take",
        actor=f"{STAFF}[1 + id % 3]",
        delay="1 day",
        states="'in_review', 'changes_requested', 'proposed', 'approved', 'rejected', "
        "'closed', 'paid'",
    ),
    EVENT.format(
        action="propose",
        actor=f"{STAFF}[1 + id % 3]",
        delay="2 days",
        states="'proposed', 'approved', 'rejected', 'paid'",
    ),
    EVENT.format(
        action="approve",
        actor=f"{STAFF}[1 + (id + 1) % 3]",
        delay="3 days",
        states="'approved', 'paid'",
    ),
    "INSERT INTO problem_report (form_id, page, description, status, created_at) "
    "SELECT CASE WHEN n % 3 = 0 THEN NULL ELSE :form END, '/', 'Erreur', 'new', "
    "now() at time zone 'utc' - (interval '1 minute' * (n * 17 % 86400)) "
    "FROM generate_series(1, :reports) AS n",
]


def enrich(session, rows: int, form_id: int, staff: list[int]) -> None:
    """Add amounts, payment acts, audit events and problem reports to the generated rows."""
    a, b, c = staff
    params = {"reports": max(1, rows // 20), "form": form_id, "a": a, "b": b, "c": c}
    for statement in ENRICH:
        session.execute(text(statement), params)
    session.commit()
    session.execute(text("ANALYZE"))
    session.commit()


def fetch(client, path: str) -> None:
    """GET `path`, read it whole and close it (a streamed CSV ends its context on close)."""
    with client.get(path) as response:
        assert response.status_code == 200, (path, response.status_code)
        response.get_data()


def timed(client, path: str, rounds: int) -> float:
    """Median seconds of GET `path` over `rounds` runs, after one warm-up."""
    fetch(client, path)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fetch(client, path)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def statements(app, action) -> int:
    """How many SQL statements `action()` runs."""
    seen = []
    engine = get_db(app).engine

    def listener(*_args, **_kwargs):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def time_compute(app, rounds: int, form_id: int | None) -> tuple[float, int]:
    """Median seconds of the uncached figures, and the statements one computation runs."""
    with app.app_context():
        session = get_session()
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            dashboards.compute(session, utcnow(), form_id)
            samples.append(time.perf_counter() - started)
            session.rollback()
        count = statements(app, lambda: dashboards.compute(session, utcnow(), form_id))
    return statistics.median(samples), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with throwaway_database(DATABASE) as url:
        run(url, args)


def run(url: str, args) -> None:
    app = bench_app(
        url,
        DASHBOARD_CACHE_SECONDS=0,  # every page computes its figures
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    with app.app_context():
        session = get_session()
        data = json.loads((DEMO_FORMS_DIR / "aide-entreprises.json").read_text(encoding="utf-8"))
        form = create_form(session, data, None)
        publish(session, form, None)
        roles = [Role.AGENT, Role.APPROVER, Role.ADMIN]
        staff = [
            create_user(session, email=f"agent{i}@example.nc", name=f"Agent {i}", **account)
            for i, account in enumerate({"password": PASSWORD, "roles": [r]} for r in roles)
        ]
        session.commit()
        agents = [user.id for user in staff]
        started = time.perf_counter()
        generate(session, form, args.rows, agents)
        enrich(session, args.rows, form.id, agents)
        print(f"generated {args.rows} requests in {time.perf_counter() - started:.1f} s")
        counts = session.execute(
            text("SELECT (SELECT count(*) FROM payment_act), (SELECT count(*) FROM event)")
        ).one()
        print(f"  with {counts[0]} payment acts and {counts[1]} audit events")
        form_id, slug = form.id, form.slug
    client = signed_in(app, "agent2@example.nc", PASSWORD)
    baseline = timed(app.test_client(), "/agents/connexion", args.rounds)  # signed out
    print(f"baseline: sign-in page {baseline * 1000:.2f} ms")
    print(f"{'case':34} {'median':>10} {'ratio':>7} {'queries':>8}")
    rows = []

    def show(name: str, median: float, queries: int) -> None:
        print(f"{name:34} {median * 1000:8.1f} ms {median / baseline:7.1f} {queries:8d}")
        rows.append((name, f"{median * 1000:.1f} ms", f"{median / baseline:.1f}", queries))

    for name, scope in (("figures, all forms (uncached)", None), ("figures, one form", form_id)):
        show(name, *time_compute(app, args.rounds, scope))
    pages = [
        ("dashboard page, all forms", "/agents/pilotage/"),
        ("dashboard page, one form", f"/agents/pilotage/formulaires/{slug}"),
        ("dashboard page, 365 days", "/agents/pilotage/?jours=365"),
        ("statistics CSV", "/agents/pilotage/statistiques.csv"),
        ("SCDL export (paid acts)", "/agents/pilotage/subventions.csv"),
    ]
    for name, path in pages:
        median = timed(client, path, args.rounds)
        show(name, median, statements(app, lambda path=path: fetch(client, path)))
    app.config["DASHBOARD_CACHE_SECONDS"] = 60  # then the page reads the figures from Redis
    median = timed(client, "/agents/pilotage/", args.rounds)
    show(
        "dashboard page, cached",
        median,
        statements(app, lambda: fetch(client, "/agents/pilotage/")),
    )
    get_db(app).dispose()
    body = f"{args.rows:,} requests, median of {args.rounds} rounds; baseline: sign-in page "
    body += f"{baseline * 1000:.2f} ms.\n\n"
    record(
        "Dashboards",
        body + table(rows, ("case", "median", "ratio to sign-in page", "SQL statements")),
    )


if __name__ == "__main__":
    main()
