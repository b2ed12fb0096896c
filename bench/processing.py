"""Processing: N submitted requests taken to one signed bordereau by real worker processes.

Creates a throw-away database (`guichet_bench_processing`) on the PostgreSQL server of
BENCH_DATABASE_URL and starts a private redis-server on a free port. The baseline, measured
in the same run on the same machine: K `guichet-worker` processes draining no-op RQ jobs
(simple workers, and forking workers to show what a work horse per job costs). Then:

- A. N requests submitted through the domain code (each queues its receipt and its checks);
  K workers render and e-mail the receipts and run the checks;
- casework: every request taken and proposed for acceptance (timed apart);
- B. the proposals approved in batches (`approvals.batch_approve`, as the validation page
  does); K workers issue the N payment acts and render them (act and arrêté);
- C. one bordereau of the N acts: built (domain), rendered (job), signed (password and
  authenticator code checked as the page does, then PAdES signature).

Each phase prints its wall time and jobs per second, and the ratio to the no-op rate. At the
end it checks the acts are numbered 1..N without gaps, N receipts were stored, and the
bordereau lists N acts and carries a valid signature.

    .venv/bin/python bench/processing.py [--requests 10000] [--workers 2] [--noops 2000]
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import processing_data as data
from database import bench_app, throwaway_database
from results import record, table
from sqlalchemy import func, select
from worker_pool import WorkerPool, private_redis, time_noops, wait_for

from forms_app import bordereaux, signing, storage, totp
from forms_app.db import get_db, get_session
from forms_app.models import Bordereau, BordereauLine, OutboxMessage, PaymentAct, Submission

DATABASE = "guichet_bench_processing"
OPEN = ("pending", "enqueued", "running")


def outbox_counts(app) -> dict[str, int]:
    """Outbox rows by status, read in a session of their own."""
    with get_db(app).sessionmaker() as session:
        rows = session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    return {str(getattr(status, "value", status)): count for status, count in rows}


def settled(app, pool: WorkerPool, also=lambda: True) -> bool:
    """No outbox row waits or runs (and `also()`); raises on a failed row or a dead worker."""
    pool.check_alive()
    counts = outbox_counts(app)
    if counts.get("failed"):
        with get_db(app).sessionmaker() as session:
            error = session.scalar(
                select(OutboxMessage.last_error).where(OutboxMessage.status == "failed").limit(1)
            )
        raise RuntimeError(f"{counts['failed']} outbox rows failed, e.g.: {error}")
    return not any(counts.get(status) for status in OPEN) and also()


def total_jobs(app) -> int:
    return sum(outbox_counts(app).values())


def rendered_acts(app) -> int:
    with get_db(app).sessionmaker() as session:
        return session.scalar(
            select(func.count()).where(
                PaymentAct.pdf_sha256.is_not(None), PaymentAct.decision_pdf_key.is_not(None)
            )
        )


def phase_c(app, pool: WorkerPool) -> tuple[int, dict[str, float]]:
    """Build, render (by a worker) and sign one bordereau of every act; its id and times."""
    times = {}
    with app.test_request_context():
        session = get_session()
        finance = data.user(session, data.FINANCE)
        act_ids = list(session.scalars(select(PaymentAct.id)))
        started = time.perf_counter()
        made = bordereaux.build(session, act_ids, finance)
        session.commit()
        times["build"] = time.perf_counter() - started
        bordereau_id = made.id
    started = time.perf_counter()

    def stored() -> bool:
        with get_db(app).sessionmaker() as session:
            found = session.get(Bordereau, bordereau_id).pdf_key is not None
        return found and settled(app, pool)

    wait_for(stored, timeout=1800, interval=0.2)
    times["render"] = time.perf_counter() - started
    with app.test_request_context():
        session = get_session()
        finance = data.user(session, data.FINANCE)
        started = time.perf_counter()
        refusal = totp.confirm_identity(session, finance, data.PASSWORD, data.totp_code())
        if refusal:
            raise RuntimeError(refusal)
        bordereaux.sign(session, session.get(Bordereau, bordereau_id), finance)
        session.commit()
        times["sign"] = time.perf_counter() - started
    return bordereau_id, times


def verify(app, count: int, bordereau_id: int) -> list[str]:
    """What the run must have produced; returns the lines to print (raises on a failure)."""
    with app.test_request_context():
        session = get_session()
        sequences = list(session.scalars(select(PaymentAct.sequence).order_by(PaymentAct.sequence)))
        assert sequences == list(range(1, count + 1)), "acts not numbered 1..N without gaps"
        numbers = session.scalar(select(func.count(func.distinct(PaymentAct.number))))
        assert numbers == count, "duplicate act numbers"
        receipts = data.receipts_done(session)
        assert receipts == count, f"{receipts} receipts for {count} requests"
        mails = len(list(Path(app.config["MAIL_DIR"]).glob("*.eml")))
        bordereau = session.get(Bordereau, bordereau_id)
        lines = session.scalar(
            select(func.count()).where(BordereauLine.bordereau_id == bordereau_id)
        )
        assert bordereau.state == "signed" and bordereau.act_count == lines == count
        check = signing.verify_pdf(storage.read(bordereau.signed_pdf_key))
        assert check.ok, check.message
        signed = session.scalar(select(func.count()).where(Submission.state == "signed"))
        assert signed == count, f"{signed} requests signed of {count}"
    return [
        f"acts numbered 1..{count}, no gap, no duplicate",
        f"{receipts} receipts stored; {mails} e-mails written (receipts and state changes)",
        f"bordereau {bordereau.number}: {lines} acts, signed, signature valid ({check.message})",
    ]


def run(url: str, redis_url: str, args, log_dir: Path) -> dict:
    app = bench_app(url, REDIS_URL=redis_url)
    n, k = args.requests, args.workers
    with app.test_request_context():
        form_id = data.setup(get_session(), n).id
    found = {"requests": n, "workers": k, "class": args.worker_class}
    found["noop_simple"] = time_noops(app, redis_url, args.noops, k, "simple", log_dir)
    print(f"baseline: no-op jobs, {k} simple workers: {found['noop_simple']:.0f} jobs/s")
    found["noop_fork"] = time_noops(app, redis_url, max(args.noops // 4, 50), k, "fork", log_dir)
    print(f"          no-op jobs, {k} forking workers: {found['noop_fork']:.0f} jobs/s")
    noop = found[f"noop_{args.worker_class}"]

    with app.test_request_context():
        found["insert"] = data.submit_requests(get_session(), form_id, n)
    print(f"{n} requests submitted in {found['insert']:.1f} s (outbox rows pending)")
    with WorkerPool(app, redis_url, k, args.worker_class, log_dir) as pool:
        started = pool.wait_started()
        wait_for(lambda: settled(app, pool), timeout=3600, interval=0.5)
        found["A"] = (time.perf_counter() - started, total_jobs(app))
        report_phase("A. receipts and checks", *found["A"], noop)

        with app.test_request_context():
            found["proposed"], found["casework"] = data.propose_all(get_session())
        print(f"casework: {found['proposed']} taken and proposed in {found['casework']:.1f} s")
        wait_for(lambda: settled(app, pool), timeout=3600, interval=0.5)

        before = total_jobs(app)
        started = time.perf_counter()
        with app.test_request_context():
            approved, refused = data.approve_all(get_session(), args.batch)
        found["approve"] = time.perf_counter() - started
        assert (approved, refused) == (n, 0), (approved, refused)
        print(f"batch approval: {approved} approved in {found['approve']:.1f} s")
        wait_for(lambda: settled(app, pool, lambda: rendered_acts(app) == n), 3600, 0.5)
        found["B"] = (time.perf_counter() - started, total_jobs(app) - before)
        report_phase("B. approval, acts issued and rendered", *found["B"], noop, acts=n)

        bordereau_id, found["C"] = phase_c(app, pool)
        c = found["C"]
        print(
            f"C. bordereau of {n} acts: build {c['build']:.1f} s, render {c['render']:.1f} s, "
            f"sign {c['sign']:.1f} s"
        )
        wait_for(lambda: settled(app, pool), timeout=3600, interval=0.5)  # signing's e-mails
    found["checks"] = verify(app, n, bordereau_id)
    for line in found["checks"]:
        print(f"verified: {line}")
    get_db(app).dispose()
    return found


def report_phase(name: str, seconds: float, jobs: int, noop: float, acts: int = 0) -> None:
    rate = jobs / seconds
    extra = f", {acts / seconds:.1f} acts/s" if acts else ""
    print(
        f"{name}: {seconds:.1f} s, {jobs} jobs, {rate:.1f} jobs/s{extra}, "
        f"{rate / noop:.3f} of the no-op rate"
    )


def summary(found: dict) -> str:
    n, k, cls = found["requests"], found["workers"], found["class"]
    noop = found[f"noop_{cls}"]
    (a_s, a_jobs), (b_s, b_jobs), c = found["A"], found["B"], found["C"]
    total = found["insert"] + a_s + found["casework"] + b_s + sum(c.values())
    rows = [
        ("no-op jobs (simple workers)", "", "", f"{found['noop_simple']:.0f}", "1"),
        ("no-op jobs (forking workers)", "", "", f"{found['noop_fork']:.0f}",
         f"{found['noop_fork'] / found['noop_simple']:.2f}"),
        ("submit (bench process, domain code)", f"{found['insert']:.1f}", "", "", ""),
        ("A. receipts and checks", f"{a_s:.1f}", a_jobs, f"{a_jobs / a_s:.1f}",
         f"{a_jobs / a_s / noop:.4f}"),
        ("casework: take and propose (bench process)", f"{found['casework']:.1f}", "", "", ""),
        ("B. batch approval, acts issued and rendered", f"{b_s:.1f}", b_jobs,
         f"{b_jobs / b_s:.1f} ({n / b_s:.1f} acts/s)", f"{b_jobs / b_s / noop:.4f}"),
        ("C. bordereau: build", f"{c['build']:.1f}", "", "", ""),
        ("C. bordereau: render (1 job)", f"{c['render']:.1f}", 1, "", ""),
        ("C. bordereau: sign (password, TOTP, PAdES)", f"{c['sign']:.1f}", "", "", ""),
    ]  # fmt: skip
    header = ("phase", "wall time (s)", "jobs", "jobs/s", "÷ no-op jobs/s")
    return (
        f"{n} requests, {k} `guichet-worker` processes, WORKER_CLASS `{cls}`; PostgreSQL "
        f"throw-away database, private redis-server.\n\n{table(rows, header)}\n\n"
        f"Total wall time {total:.0f} s ({total / 60:.1f} min). A forking worker drains no-op "
        f"jobs {found['noop_simple'] / found['noop_fork']:.1f}× slower than a simple one, "
        f"which is why the workers are simple: a job runs in the warm worker process "
        f"(WeasyPrint, fonts and connections loaded once), and a crash costs one worker that "
        f"the supervisor restarts, the outbox running its job again. {k} workers: one per "
        f"core ({os.cpu_count()} here); the jobs are CPU-bound (PDF rendering).\n\n"
        + "\n".join(f"- verified: {line}" for line in found["checks"])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--worker-class", choices=("simple", "fork"), default="simple")
    parser.add_argument("--noops", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500, help="proposals approved per batch")
    parser.add_argument("--no-record", action="store_true", help="do not write results.md")
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="guichet-bench-processing-"))
    print(f"worker logs in {logs}")
    with private_redis() as redis_url, throwaway_database(DATABASE) as url:
        found = run(url, redis_url, args, logs)
    text = summary(found)
    print(text)
    if not args.no_record:
        record("Processing", text)


if __name__ == "__main__":
    main()
