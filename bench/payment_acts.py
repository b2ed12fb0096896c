"""Payment acts and a 500-act bordereau, against a trivial one-page PDF rendered in the same run.

Creates a throw-away database (`guichet_bench_acts`) on the PostgreSQL server of
BENCH_DATABASE_URL, publishes the demo business-aid form, writes N approved requests, then
measures, each as a ratio to the median time of rendering a one-page WeasyPrint document with
the same stylesheet and fonts (the baseline):

- issuing the acts (numbering, snapshot, state change, audit: no PDF), per act;
- rendering the acts' PDFs, per act (its render job makes two documents: the act and its
  arrêté attributif), and the acts rendered per second;
- building a bordereau of all N acts, rendering its PDF, and signing it (PAdES, pyHanko).

    .venv/bin/python bench/payment_acts.py [--acts 500] [--rounds 10]
"""

import argparse
import json
import statistics
import time
from datetime import UTC, datetime

from database import bench_app, throwaway_database
from sqlalchemy import select

from forms_app import bordereaux, payment_acts, pdf
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
    from weasyprint import HTML

    base = pdf.TEMPLATES.as_uri() + "/"
    return HTML(string=TRIVIAL, base_url=base, url_fetcher=pdf._fetcher()).write_pdf()


def baseline(rounds: int) -> float:
    trivial_pdf()  # warm-up: fonts, stylesheets
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        trivial_pdf()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


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
    trivial = baseline(args.rounds)
    print(f"baseline: trivial one-page PDF {trivial * 1000:.0f} ms (median of {args.rounds})")
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
    print(f"issue an act (no PDF): {issue * 1000:.1f} ms, ×{issue / trivial:.2f} of the baseline")
    print(
        f"render an act and its arrêté (two PDFs): {render * 1000:.0f} ms, "
        f"×{render / trivial:.2f} of the baseline, "
        f"{1 / render:.1f} acts per second on one process"
    )
    total = build + render_list + sign
    print(
        f"bordereau of {n} acts: build {build:.2f} s, render {render_list:.2f} s, "
        f"sign {sign:.2f} s; total {total:.2f} s = ×{total / trivial:.0f} of the baseline"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--acts", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with throwaway_database(DATABASE) as url:
        run(url, args)


if __name__ == "__main__":
    main()
