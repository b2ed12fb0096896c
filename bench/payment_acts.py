"""Payment acts and a 500-act bordereau, against a trivial one-page PDF rendered in the same run.

Creates a throw-away database (`guichet_bench_acts`) on the PostgreSQL server of
BENCH_DATABASE_URL, publishes the demo business-aid form, writes N approved requests, then
measures, each as a ratio to the median time of rendering a one-page WeasyPrint document with
the same stylesheet and fonts, the plain WeasyPrint way (a fresh font configuration, the
stylesheet linked and parsed again: the baseline):

- the same trivial document through forms_app.pdf's shared fonts and parsed stylesheets;
- issuing the acts (numbering, snapshot, state change, audit: no PDF), per act;
- rendering the acts' PDFs, per act (its render job makes two documents: the act and its
  arrêté attributif), and the acts rendered per second;
- the size of an act's PDF, its fonts subset (as stored) and whole (`full_fonts`);
- building a bordereau of all N acts, rendering its PDF, and signing it (PAdES, pyHanko).

Records its section "PDF" in bench/results.md (unless --no-record).

    .venv/bin/python bench/payment_acts.py [--acts 500] [--rounds 10] [--no-record]
"""

import argparse
import json
import statistics
import time
from datetime import UTC, datetime

from database import bench_app, throwaway_database
from results import record, table
from sqlalchemy import select

from forms_app import act_snapshot, bordereaux, payment_acts, pdf
from forms_app.accounts import create_user
from forms_app.db import get_session
from forms_app.forms_cli import DEMO_FORMS_DIR
from forms_app.models import Bordereau, PaymentAct, Role, Submission
from forms_app.publishing import create_form, publish

DATABASE = "guichet_bench_acts"
PASSWORD = "bench-password-123"  # noqa: S105 (a throw-away database)
TRIVIAL = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<link rel="stylesheet" href="base.css"></head><body><h1>Bonjour</h1>
<p>Un document d’une page, pour comparer.</p></body></html>"""


def trivial_pdf() -> bytes:
    """The baseline: plain WeasyPrint, fonts loaded and base.css parsed for this document."""
    from weasyprint import HTML

    return HTML(string=TRIVIAL, base_url=pdf.BASE_URL, url_fetcher=pdf._fetcher()).write_pdf()


def trivial_shared_pdf() -> bytes:
    """The same document with what forms_app.pdf shares between renders (fonts, base.css)."""
    from weasyprint import HTML

    shared = pdf.prepared()
    html = TRIVIAL.replace('<link rel="stylesheet" href="base.css">', "")
    document = HTML(string=html, base_url=pdf.BASE_URL, url_fetcher=shared.fetcher)
    stylesheets = [shared.stylesheet("base.css")]
    return document.write_pdf(stylesheets=stylesheets, font_config=shared.font_config)


def timings(render, rounds: int) -> list[float]:
    render()  # warm-up: fonts, stylesheets
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        render()
        samples.append(time.perf_counter() - started)
    return samples


def act_sizes(act: PaymentAct) -> tuple[int, int]:
    """Bytes of the act's PDF with its fonts subset (as stored), then with whole fonts."""
    from weasyprint import HTML

    shared = pdf.prepared()
    html = pdf.render_html("payment_act.html", **act_snapshot.printed(act))
    stylesheets = [shared.stylesheet(name) for name in pdf.STYLESHEETS["payment_act.html"]]
    document = HTML(string=html, base_url=pdf.BASE_URL, url_fetcher=shared.fetcher)
    full = document.write_pdf(
        stylesheets=stylesheets, font_config=shared.font_config, full_fonts=True
    )
    return len(payment_acts.act_pdf(act)), len(full)


def approved_requests(session, form, count: int) -> list[int]:
    """`count` approved requests of the demo aid form, with a company, a RIDET and an IBAN."""
    version = form.current_version
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        answers = {
            "raison_sociale": f"SARL ENTREPRISE {i:04d}",
            "ridet": f"{1000000 + i:07d}001",
            "adresse_siege": {"street": f"{i} rue de Sébastopol", "postal_code": "98800"},
            "commune_siege": "noumea",
            "titulaire_compte": f"SARL ENTREPRISE {i:04d}",
            "iban": "FR7699999000010001234567809",
            "bic": "BCADNCNN",
            "domiciliation": "BCI Nouméa",
        }
        rows.append(
            Submission(
                reference=f"AIDE-{now.year}-{i + 1:06d}",
                form_id=form.id,
                form_version_id=version.id,
                state="approved",
                answers=answers,
                approved_amount=150_000 + 1_000 * (i % 100),
                applicant_email=f"gerant{i}@example.nc",
                submitted_at=now,
            )
        )
    session.add_all(rows)
    session.commit()
    return [row.id for row in rows]


def run(url: str, args) -> None:
    app = bench_app(url)
    trivial_samples = timings(trivial_pdf, args.rounds)
    shared_samples = timings(trivial_shared_pdf, args.rounds)
    with app.test_request_context():
        session = get_session()
        data = json.loads((DEMO_FORMS_DIR / "aide-entreprises.json").read_text(encoding="utf-8"))
        form = create_form(session, data, None)
        publish(session, form, None)
        signer = create_user(
            session, email="finances@example.nc", name="Françoise Finances", password=PASSWORD,
            roles=[Role.FINANCE],
        )  # fmt: skip
        session.commit()
        ids = approved_requests(session, form, args.acts)

        started = time.perf_counter()
        for submission_id in ids:
            payment_acts.issue_act(session, submission_id)
            session.commit()
        issue = (time.perf_counter() - started) / len(ids)
        session.info.clear()  # the render jobs the issues queued: rendered below, in-process

        act_ids = list(session.scalars(select(PaymentAct.id).order_by(PaymentAct.id)))
        started = time.perf_counter()
        for act_id in act_ids:
            payment_acts.render_act_pdf(session, act_id)
            session.commit()
        render = (time.perf_counter() - started) / len(act_ids)
        subset_size, full_size = act_sizes(session.get(PaymentAct, act_ids[0]))
        # The baselines again, after the acts: a busy machine weighs on both halves alike.
        trivial = statistics.median(trivial_samples + timings(trivial_pdf, args.rounds))
        shared = statistics.median(shared_samples + timings(trivial_shared_pdf, args.rounds))

        started = time.perf_counter()
        bordereau = bordereaux.build(session, act_ids, signer)
        session.commit()
        build = time.perf_counter() - started
        session.info.clear()
        started = time.perf_counter()
        bordereaux.render_bordereau_pdf(session, bordereau.id)
        session.commit()
        render_list = time.perf_counter() - started
        started = time.perf_counter()
        bordereaux.sign(session, session.get(Bordereau, bordereau.id), signer)
        session.commit()
        sign = time.perf_counter() - started

    n = len(act_ids)
    total = build + render_list + sign
    rows = [
        ("trivial one-page PDF, plain WeasyPrint (baseline)", f"{trivial * 1000:.1f} ms", "×1"),
        ("the same, fonts and base.css shared", f"{shared * 1000:.1f} ms", ratio(shared, trivial)),
        ("issue an act (no PDF)", f"{issue * 1000:.1f} ms", ratio(issue, trivial)),
        ("render an act job (act + arrêté, two PDFs)", f"{render * 1000:.1f} ms",
         ratio(render, trivial)),
        ("acts rendered per second, one process", f"{1 / render:.1f}", ""),
        ("act PDF, fonts subset (stored)", f"{subset_size / 1024:.0f} KiB", ""),
        ("act PDF, whole fonts (not used)", f"{full_size / 1024:.0f} KiB", ""),
        (f"bordereau of {n} acts: build", f"{build:.2f} s", ratio(build, trivial)),
        (f"bordereau of {n} acts: render", f"{render_list:.2f} s", ratio(render_list, trivial)),
        (f"bordereau of {n} acts: sign (PAdES)", f"{sign:.2f} s", ratio(sign, trivial)),
        (f"bordereau of {n} acts: total", f"{total:.2f} s", ratio(total, trivial)),
    ]  # fmt: skip
    body = (
        f"{n} acts of the demo aid form on a throw-away PostgreSQL database, rendered in one "
        f"process one after the other (each act's render job stores two PDFs: the act and its "
        f"arrêté attributif). Baseline: median of {2 * args.rounds} renders (half before the acts, "
        "half after) of a one-page document with base.css and the shipped fonts, the plain "
        "WeasyPrint way.\n\n"
        + table(rows, ("measure", "time / value", "ratio to the baseline"))
        + f"\n\n**{1 / render:.1f} acts per second per process; an act job is "
        f"×{render / trivial:.1f} the trivial document.**\n"
    )
    print(body)
    if not args.no_record:
        record("PDF", body)


def ratio(value: float, baseline: float) -> str:
    return f"×{value / baseline:.1f}" if value < 100 * baseline else f"×{value / baseline:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--acts", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-record", action="store_true", help="do not write bench/results.md")
    args = parser.parse_args()
    with throwaway_database(DATABASE) as url:
        run(url, args)


if __name__ == "__main__":
    main()
