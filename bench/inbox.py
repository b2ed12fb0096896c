"""Inbox pages with 100,000 requests on PostgreSQL, against baselines measured in the same run.

Creates a dedicated database (`guichet_bench_inbox`, dropped at the end) on the server of
BENCH_DATABASE_URL, loads the demo business-aid form and COPYs N generated requests into it,
then times, through the Flask test client of an app on that database, the inbox's first page,
a filtered page, a deep keyset page, two searches and the staff home page. Each is printed as
a ratio to the sign-in page (the same stack, no query) and with its absolute median, and with
the number of SQL statements it ran. The CSV and XLSX exports of every request are timed once
against reading the same rows, with the memory the CSV took.

    .venv/bin/python bench/inbox.py [--rows 100000] [--rounds 15]
"""

import argparse
import json
import random
import statistics
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from database import bench_app, signed_in, throwaway_database
from results import record, table
from sqlalchemy import event, select, text

from forms_app import search
from forms_app.accounts import create_user
from forms_app.backoffice import listing
from forms_app.db import get_db, get_session
from forms_app.formdefs import definition as definitions
from forms_app.forms_cli import DEMO_FORMS_DIR
from forms_app.models import Form, Role, Submission
from forms_app.publishing import create_form, publish

DATABASE = "guichet_bench_inbox"
PASSWORD = "bench-password-123"  # noqa: S105 (a throw-away database)
SURNAMES = [
    "Dupont",
    "Nakamura",
    "Wenceslas",
    "Tein",
    "Gope",
    "Martin",
    "Nguyen",
    "Leroy",
    "Tjibaou",
    "Boewa",
    "Bernard",
    "Pidjot",
    "Moreau",
    "Kaloi",
    "Ukeiwé",
    "Lafleur",
]
TRADES = ["Boulangerie", "Garage", "Snack", "Pension", "Plomberie", "Taxi", "Coiffure", "Pêche"]
STATES = [
    ("submitted", 40),
    ("in_review", 25),
    ("changes_requested", 5),
    ("proposed", 10),
    ("approved", 10),
    ("rejected", 5),
    ("closed", 3),
    ("paid", 2),
]
COLUMNS = (
    "form_id",
    "form_version_id",
    "state",
    "reference",
    "answers",
    "rule_results",
    "computed_amount",
    "priority",
    "applicant_email",
    "created_at",
    "submitted_at",
    "last_activity_at",
    "assignee_id",
    "search_text",
    "revision",
)


def generate(session, form: Form, rows: int, agents: list[int], seed: int = 5) -> None:
    """COPY `rows` requests (and 2 % of them flagged, plus drafts) into the database."""
    rng = random.Random(seed)
    version = form.current_version
    definition = definitions.of_version(version)
    states = [s for s, weight in STATES for _ in range(weight)]
    now = datetime.now(UTC).replace(tzinfo=None)
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY submission ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for i in range(1, rows + 1):
                surname = "Wamytan" if i % 25_000 == 7 else rng.choice(SURNAMES)
                ridet = f"{rng.randrange(1_000_000, 9_999_999)}00{rng.randrange(1, 9)}"
                email = f"{surname.lower()}.{i}@example.nc"
                reference = f"AIDE-2026-{i:06d}"
                answers = {
                    "raison_sociale": f"{rng.choice(TRADES)} {surname}",
                    "ridet": ridet,
                    "dirigeant_nom": surname,
                    "dirigeant_prenom": "Léa",
                    "email": email,
                    "effectif": rng.randrange(0, 11),
                    "ca_ref": rng.randrange(10**6, 10**8),
                }
                submitted = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
                copy.write_row(
                    (
                        form.id,
                        version.id,
                        rng.choice(states),
                        reference,
                        json.dumps(answers),
                        "{}",
                        rng.randrange(50_000, 1_500_000, 1000),
                        None if rng.random() < 0.05 else rng.randrange(1, 4),
                        email,
                        submitted,
                        submitted,
                        submitted + timedelta(hours=rng.randrange(0, 200)),
                        rng.choice(agents) if rng.random() < 0.5 else None,
                        search.search_text(definition, answers, reference, email),
                        0,
                    )
                )
            for _ in range(rows // 50):  # drafts: never listed, but in the table
                copy.write_row(
                    (
                        form.id,
                        version.id,
                        "draft",
                        None,
                        "{}",
                        "{}",
                        None,
                        None,
                        None,
                        now,
                        None,
                        now,
                        None,
                        None,
                        0,
                    )
                )
        cursor.execute(
            "INSERT INTO flag (submission_id, kind, key, message, created_at) "
            "SELECT id, CASE WHEN id % 2 = 0 THEN 'same_rid' ELSE 'same_iban' END, 'k', 'm', now() "
            "FROM submission WHERE id % 50 = 3 AND state <> 'draft'"
        )
    session.commit()
    session.execute(text("ANALYZE"))
    session.commit()


def timed(client, path: str, rounds: int, params=None) -> tuple[float, int]:
    """Median seconds of GET `path` over `rounds` runs (after one warm-up), and its status."""
    response = client.get(path, query_string=params)
    assert response.status_code == 200, (path, response.status_code)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path, query_string=params)
        response.get_data()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), response.status_code


def count_statements(app, client, path: str, params=None) -> int:
    seen = []
    engine = get_db(app).engine

    def listener(*_args, **_kwargs):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        client.get(path, query_string=params).get_data()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def deep_cursor(app, form_id: int, offset: int) -> str:
    """The cursor a reader reaches after `offset` rows of the unfiltered inbox."""
    with app.app_context():
        key = listing.sort_key(Submission)
        row = (
            get_session()
            .execute(
                select(Submission.priority, Submission.submitted_at, Submission.id)
                .where(Submission.form_id == form_id, Submission.state != "draft")
                .order_by(*key)
                .offset(offset - 1)
                .limit(1)
            )
            .one()
        )
        return listing.Cursor(*row).encode()


def pk_lookup(app, rounds: int) -> float:
    """Median seconds of a primary-key SELECT through the app's session."""
    with app.app_context():
        session = get_session()
        samples = []
        for i in range(rounds):
            started = time.perf_counter()
            session.execute(select(Submission.state).where(Submission.id == 1000 + i)).one()
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)


def export(app, client, inbox: str, form_id: int) -> list[str]:
    """Time both exports of every request against reading the same rows, then the CSV's memory.

    The baseline streams the rows' columns and answers out of the database with the same
    server-side cursor and batch size, without writing anything.
    """
    with app.app_context():
        session = get_session()
        started = time.perf_counter()
        query = select(
            Submission.reference,
            Submission.state,
            Submission.submitted_at,
            Submission.computed_amount,
            Submission.applicant_email,
            Submission.answers,
        ).where(Submission.form_id == form_id, Submission.state != "draft")
        count = sum(1 for _ in session.execute(query.execution_options(yield_per=1000)))
        baseline = time.perf_counter() - started
        session.rollback()
    lines = [f"Baseline: reading the {count:,} rows' columns and answers: {baseline:.1f} s"]
    print(lines[-1])
    for suffix in ("csv", "xlsx"):
        started = time.perf_counter()
        with client.get(f"{inbox}.{suffix}") as response:
            size = sum(len(chunk) for chunk in response.iter_encoded())
        elapsed = time.perf_counter() - started
        lines.append(
            f"{suffix.upper()} export of all {count:,} requests: {elapsed:.1f} s "
            f"(×{elapsed / baseline:.1f} the baseline), {size / 1e6:.1f} MB"
        )
        print(lines[-1])
    tracemalloc.start()
    with client.get(f"{inbox}.csv") as response:
        rows = sum(chunk.count(b"\r\n") for chunk in response.iter_encoded()) - 1
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    lines.append(
        f"CSV export, {rows:,} rows: peak Python memory while streaming {peak / 1e6:.1f} MB"
    )
    print(lines[-1])
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-export", action="store_true")
    args = parser.parse_args()
    with throwaway_database(DATABASE) as url:
        run(url, args)


def run(url: str, args) -> None:
    app = bench_app(url)
    with app.app_context():
        session = get_session()
        data = json.loads((DEMO_FORMS_DIR / "aide-entreprises.json").read_text(encoding="utf-8"))
        form = create_form(session, data, None)
        publish(session, form, None)
        agents = [
            create_user(
                session,
                email=f"agent{i}@example.nc",
                name=f"Agent {i}",
                password=PASSWORD,
                roles=[Role.AGENT],
            ).id
            for i in range(3)
        ]
        session.commit()
        started = time.perf_counter()
        generate(session, form, args.rows, agents)
        print(f"generated {args.rows} requests in {time.perf_counter() - started:.1f} s")
        form_id, slug = form.id, form.slug
    client = signed_in(app, "agent0@example.nc", PASSWORD)
    inbox = f"/agents/demarches/{slug}/demandes"
    deep = args.rows * 6 // 10
    cases = [
        ("first page", inbox, None),
        (
            "filtered page",
            inbox,
            {
                "etat": ["in_review", "proposed"],
                "instructeur": "none",
                "montant_min": "500000",
                "signalement": "any",
            },
        ),
        (f"deep keyset page (row {deep:,})", inbox, {"apres": deep_cursor(app, form_id, deep)}),
        ("search, rare name", inbox, {"q": "wamytan"}),
        ("search, reference", inbox, {"q": f"AIDE-2026-{args.rows // 2:06d}"}),
        ("staff home (counts per state)", "/agents/", None),
    ]
    baseline, _ = timed(app.test_client(), "/agents/connexion", args.rounds)  # signed out
    head = (
        f"baseline: sign-in page {baseline * 1000:.2f} ms; "
        f"primary-key lookup {pk_lookup(app, args.rounds) * 1000:.3f} ms"
    )
    print(head)
    print(f"{'case':32} {'median':>10} {'ratio':>7} {'queries':>8}")
    rows = []
    for name, path, params in cases:
        median, _ = timed(client, path, args.rounds, params)
        queries = count_statements(app, client, path, params)
        print(f"{name:32} {median * 1000:8.1f} ms {median / baseline:7.1f} {queries:8d}")
        rows.append((name, f"{median * 1000:.1f} ms", f"{median / baseline:.1f}", queries))
    exports = [] if args.no_export else export(app, client, inbox, form_id)
    get_db(app).dispose()
    body = f"{args.rows:,} requests, median of {args.rounds} rounds; {head}.\n\n"
    body += table(rows, ("case", "median", "ratio to sign-in page", "SQL statements"))
    record("Back office", body + "".join(f"\n\n{line}" for line in exports))


if __name__ == "__main__":
    main()
