"""Intake through gunicorn: accepted submissions per second and p99, against a bare endpoint.

On a throw-away PostgreSQL database (`guichet_bench_intake`) with the real Redis (db 9 of
BENCH_REDIS_URL, flushed first), the demo business-aid form is loaded and one complete draft
is filled through its real HTTP steps (Flask test client); it is copied (row and attachments)
into one draft per timed request, each with its own signed session cookie (which remembers
the draft) and CSRF token. gunicorn (sync workers, CSRF on, ENV production) then serves:

- real: the check page's POST `/demarches/<slug>/verification` (the applicant's final submit:
  the whole draft validated, a reference, answers, audit event, outbox rows, commit, push to
  Redis after commit, redirect);
- bare: `/bench/bare` (bench/intake_app.py), the same field values as one form body, the same
  WTForms class validated (CSRF included), one row inserted, 303;
- floor: `/bench/floor` (bench/intake_app.py), the least a draft's submit must do by Guichet's
  rules (lock and read the draft and its files, validate, reference, state, audit event and
  jobs in one statement, commit, push to RQ), hand-written SQL without the ORM: the ceiling
  of any implementation of the real submit, so floor / bare bounds the ratio real / bare.

No RQ worker runs meanwhile: the jobs (receipt PDF, checks) only queue, so WeasyPrint does not
share the two cores with the web tier; the intake path never waits on a worker either way.
Client threads open one connection per request (no keep-alive), bodies pre-encoded. A warm-up
round of each is discarded, then rounds alternate bare/real.

    .venv/bin/python bench/intake.py [--requests 300] [--rounds 3] [--clients 8] [--workers 4]
"""

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from database import bench_app, throwaway_database
from flask_wtf.csrf import generate_csrf
from intake_app import SLUG, bench_intake
from redis import Redis
from results import record, table
from sqlalchemy import func, select, text

from forms_app.db import get_db, get_session
from forms_app.forms_cli import load_demo_forms
from forms_app.models import OutboxMessage, Submission
from workflows.queue import get_queue

DATABASE = "guichet_bench_intake"
SECRET_KEY = "bench-intake-secret-key-0123456789abcdef"  # noqa: S105 (a throw-away app)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FIELDS = {
    "raison_sociale": "SARL LAGON BLEU TOURS", "ridet": "1234567.001", "forme_juridique": "sarl",
    "code_ape": "79.11Z", "date_creation": "02/05/2014",
    "adresse_siege-street": "12 rue de Sébastopol", "adresse_siege-postal_code": "98800",
    "adresse_siege-city": "Nouméa", "commune_siege": "noumea", "siege_activite_sud": "oui",
    "civilite": "monsieur", "dirigeant_nom": "Dupuis", "dirigeant_prenom": "Paul",
    "dirigeant_qualite": "gerant", "telephone": "75.12.34", "email": "contact@lagonbleu.nc",
    "secteur": "agence_voyages", "effectif": "1", "fermeture_administrative": "non",
    "ca_ref": "2 400 000", "ca_crise": "600 000",
    "types_aide": ["tresorerie"], "montant_tresorerie": "1 000 000",
    "fonds_solidarite": "non", "chomage_partiel": "non", "pge": "non",
    "prime_exceptionnelle": "non",
    "titulaire_compte": "SARL LAGON BLEU TOURS", "iban": "FR76 9999 9000 0100 0123 4567 809",
    "bic": "BCADNCNN",
    "decl_exactitude": "y", "decl_obligations": "y", "decl_procedure_collective": "y",
    "decl_controles": "y", "decl_donnees": "y",
}  # fmt: skip
FILES = ("piece_avis_ridet", "piece_rib", "piece_identite", "piece_justificatifs_ca", "piece_cafat")
COPIED = (
    "form_id, form_version_id, state, answers, rule_results, draft_data, expires_at, "
    "created_at, last_activity_at, revision"
)
COPY_DRAFT = (
    f"INSERT INTO submission ({COPIED}, resume_token_hash) "  # noqa: S608 (constant columns)
    f"SELECT {COPIED}, md5(random()::text || n::text) || md5(n::text) "
    "FROM submission, generate_series(1, :count) AS n WHERE id = :id RETURNING id"
)


def fill_one_draft(client) -> int:
    """Fill the form page by page as a browser does, up to the check page; the draft's id."""
    response = client.post(f"/demarches/{SLUG}/")
    while response.status_code == 302:
        path = response.headers["Location"]
        if "/etapes/" not in path:
            break
        data = {**FIELDS, **{key: (_pdf(), f"{key}.pdf") for key in FILES}}
        response = client.post(path, data=data, content_type="multipart/form-data")
    assert path.endswith("/verification"), (response.status_code, path)
    assert client.get(path).status_code == 200, "the draft is not complete and eligible"
    with client.session_transaction() as session:
        return session["drafts"][SLUG]


def _pdf():
    import io

    return io.BytesIO(PDF)


def copy_draft(session, draft_id: int, count: int) -> list[int]:
    """Copy the draft (row and attachments) `count` times; the new ids."""
    ids = session.scalars(text(COPY_DRAFT), {"count": count, "id": draft_id}).all()
    session.execute(
        text(
            "INSERT INTO attachment (submission_id, field_key, original_name, content_type, "
            "size, sha256, storage_key, created_at) "
            "SELECT s.id, a.field_key, a.original_name, a.content_type, a.size, a.sha256, "
            "a.storage_key, a.created_at FROM attachment a, unnest(CAST(:ids AS int[])) AS s(id) "
            "WHERE a.submission_id = :draft"
        ),
        {"ids": list(ids), "draft": draft_id},
    )
    session.commit()
    return list(ids)


def prepared(app, draft_ids: list[int | None], body: dict) -> list[tuple[bytes, str]]:
    """One (body, cookie) per request: a signed session binding the draft, and a CSRF token."""
    serializer = app.session_interface.get_signing_serializer(app)
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    requests = []
    for draft_id in draft_ids:
        with app.test_request_context():
            from flask import session

            token = generate_csrf()
            if draft_id is not None:
                session["drafts"] = {SLUG: draft_id}
                session.permanent = True
            cookie = f"{cookie_name}={serializer.dumps(dict(session))}"
        encoded = urlencode({**body, "csrf_token": token, "_jeton": os.urandom(16).hex()}, True)
        requests.append((encoded.encode(), cookie))
    return requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, redis_url: str, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": SECRET_KEY,
        "GUICHET_ENV": "production",
        # The client threads stand for many applicants, all from 127.0.0.1 here.
        "GUICHET_SUBMIT_RATE_LIMIT": "1000000 per minute",
    }
    bench = Path(__file__).resolve().parent
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "--chdir", str(bench)),
            *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
            *("--worker-class", "sync", "--no-control-socket"),
            *("--pythonpath", str(bench.parent), "intake_app:create_app()"),
        ],
        env=env,
        cwd=bench.parent,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if _request(port, "GET", "/healthz", None, None)[0] == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not answer")


def _request(port, method, path, body, cookie) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Connection": "close"}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if cookie:
        headers["Cookie"] = cookie
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location") or ""
    finally:
        conn.close()


def run_round(port: int, path: str, requests: list, clients: int, expect: set[int]):
    """Send `requests` from `clients` threads; (wall seconds, latencies in seconds)."""
    latencies, failures, lock = [], [], threading.Lock()
    pending = iter(requests)

    def client() -> None:
        while True:
            with lock:
                item = next(pending, None)
            if item is None:
                return
            begin = time.perf_counter()
            status, location = _request(port, "POST", path, *item)
            elapsed = time.perf_counter() - begin
            with lock:
                latencies.append(elapsed)
                if status not in expect or not location.endswith("/merci"):
                    failures.append(status)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - begin
    if failures:
        raise RuntimeError(f"{path}: {len(failures)} unexpected answers, e.g. {failures[:5]}")
    return wall, latencies


def summary(rounds: list[tuple[float, list[float]]]) -> dict:
    latencies = sorted(x for _, lat in rounds for x in lat)
    wall = sum(w for w, _ in rounds)
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"rate": len(latencies) / wall, "p50": q[49] * 1000, "p99": q[98] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per round and kind")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    redis_base = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
    redis_url = re.sub(r"/\d*$", "", redis_base) + "/9"
    Redis.from_url(redis_url).flushdb()
    total = args.warmup + args.requests * args.rounds

    with throwaway_database(DATABASE) as url:
        app = bench_app(url, REDIS_URL=redis_url)
        bench_intake.metadata.create_all(get_db(app).engine)
        with app.app_context():
            load_demo_forms()
            draft_id = fill_one_draft(app.test_client())
            draft_ids = copy_draft(get_session(), draft_id, 2 * total)
        get_db(app).dispose()
        signer = bench_app(url, SECRET_KEY=SECRET_KEY, WTF_CSRF_ENABLED=True, ENV="production")
        real = prepared(signer, draft_ids[:total], {})
        floor = prepared(signer, draft_ids[total:], {})
        bare = prepared(signer, [None] * total, FIELDS)
        get_db(signer).dispose()

        port = free_port()
        server = start_gunicorn(url, redis_url, port, args.workers)
        try:
            check = f"/demarches/{SLUG}/verification"
            runs = {"bare": [], "floor": [], "real": []}
            plan = [
                ("bare", "/bench/bare", bare, {303}),
                ("floor", "/bench/floor", floor, {303}),
                ("real", check, real, {302}),
            ]
            for number in range(args.rounds + 1):
                size = args.warmup if number == 0 else args.requests
                for name, path, requests, expect in plan:
                    batch = [requests.pop() for _ in range(size)]
                    measured = run_round(port, path, batch, args.clients, expect)
                    if number:
                        runs[name].append(measured)
        finally:
            server.terminate()
            server.wait(30)

        with app.app_context():
            session = get_session()
            submitted = session.scalar(
                select(func.count()).where(Submission.reference.is_not(None))
            )
            statuses = dict(
                session.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                ).all()
            )
            bare_rows = session.scalar(select(func.count()).select_from(bench_intake))
            queued = len(get_queue(app))
        get_db(app).dispose()

    expected = args.warmup + args.requests * args.rounds
    assert submitted == 2 * expected, (submitted, 2 * expected)
    assert bare_rows == expected, (bare_rows, expected)
    bare, floor, real = (summary(runs[kind]) for kind in ("bare", "floor", "real"))
    report(args, bare, floor, real, statuses, queued)


def report(args, bare: dict, floor: dict, real: dict, statuses: dict, queued: int) -> None:
    ratio, p99_ratio = real["rate"] / bare["rate"], real["p99"] / bare["p99"]
    rows = [
        (name, f"{r['rate']:.1f}", f"{r['rate'] / bare['rate']:.2f}", f"{r['p50']:.1f}",
         f"{r['p99']:.1f}")
        for name, r in (
            ("bare endpoint (baseline)", bare),
            ("floor: the least a submit must do", floor),
            ("check page submit", real),
        )
    ]  # fmt: skip
    outbox = ", ".join(f"{getattr(k, 'value', k)}: {v}" for k, v in sorted(statuses.items()))
    body = (
        f"gunicorn, {args.workers} sync workers, PostgreSQL, Redis; {args.clients} client "
        f"threads, one connection per request; {args.rounds} rounds of {args.requests} requests "
        f"per kind after a warm-up of {args.warmup}, alternating bare/floor/real. No RQ worker "
        "ran: the jobs only queued.\n\n"
        + table(rows, ("endpoint", "requests/s", "/ bare", "p50 ms", "p99 ms"))
        + f"\n\n**Throughput ratio (real / bare): {ratio:.2f}** (target ≥ 0.8); "
        f"p99 ratio (real / bare): {p99_ratio:.2f}. The floor bounds it: floor / bare "
        f"{floor['rate'] / bare['rate']:.2f}; the product's submit runs at "
        f"{real['rate'] / floor['rate']:.2f} of the floor.\n\n"
        f"Outbox rows after the run: {outbox}; RQ queue length: {queued}.\n"
    )
    print(body)
    if not args.no_record:
        record("Intake", body)


if __name__ == "__main__":
    main()
