"""Hostile answers on every page and PDF that shows them: escaped, never evaluated, quick.

Answers hold HTML (`<script>`, `<img onerror>`), Jinja syntax, CSS `url()` pointing at a
file and at a local HTTP server that records every request, 10,000-character texts (one of
them without a single space) and unusual Unicode (right-to-left override, zero-width and
combining characters, emoji, NUL). They go through the real pages as an applicant types
them, then are read back from the check page, the acknowledgement, the applicant's space,
the back-office request page, the receipt PDF and the payment act and decision PDFs
(pdftotext). Nothing is fetched: the recording server sees no request.
"""

import re
import subprocess
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from markupsafe import escape
from sqlalchemy import select

from forms_app import links, payment_acts, pdf, receipts, storage
from forms_app.db import get_session
from forms_app.models import PaymentAct, Role, Submission
from tests.finance_support import approved_request, publish_payment_form
from tests.support import TOKEN_FIELD, latest_submission, make_user, publish_form, submit_answers


class Recorder(BaseHTTPRequestHandler):
    """Answers every GET with a small stylesheet and records its path."""

    hits: list[str]

    def do_GET(self):
        self.hits.append(self.path)
        body = b"body { color: red }"
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Quiet."""


@contextmanager
def recording_server():
    """A local HTTP server on a free port; yields (base URL, the paths it was asked for)."""
    hits: list[str] = []
    handler = type("Handler", (Recorder,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def hostile_answers(base_url: str) -> dict[str, str]:
    """What the applicant types: markup, templates, CSS URLs, long texts, odd Unicode."""
    markup = (
        '<script>alert(1)</script> <img src=x onerror="alert(2)"> {{ 7*191 }} '
        "{% for i in range(3) %}boucle{% endfor %} <style>@import 'BASE/import.css';</style> "
        '<div style="background: url(BASE/style.png)">div</div> url(file:///etc/passwd) '
        '<link rel=stylesheet href=BASE/link.css> <img src="file:///etc/passwd">'
    ).replace("BASE", base_url)
    spaced = ("Lorem ipsum <b>dolor</b> sit amet {{ x }} " * 300)[:9_989] + " FIN_LONGUE"
    return {
        "nom": "SARL <i>Lagon</i> {{ 7*191 }}",
        "remarques": markup,
        "longue": spaced,
        "sans_espace": "A" * 9_980 + "FIN_COLLEE",
        "unicode": "Nom\u202eesrever\u202c a\u200bb\u200d e\u0301\u0301 👩‍👩‍👧 🇳🇨 \x00fin",
        "membres-0-prenom": "<svg onload=alert(3)>Kaloï",
    }


FIELDS = [
    {"key": "nom", "type": "text", "label": "Raison sociale", "required": True},
    {"key": "remarques", "type": "textarea", "label": "Remarques"},
    {"key": "longue", "type": "textarea", "label": "Texte long"},
    {"key": "sans_espace", "type": "textarea", "label": "Texte sans espace"},
    {"key": "unicode", "type": "textarea", "label": "Unicode"},
    {"key": "membres", "type": "group", "label": "Membres", "item_label": "membre",
     "fields": [{"key": "prenom", "type": "text", "label": "Prénom"}]},
]  # fmt: skip


def stored(answers: dict[str, str]) -> dict[str, str]:
    """The answers as the field types keep them: stripped, control characters dropped."""
    return {key: value.replace("\x00", "").strip() for key, value in answers.items()}


def assert_escaped(page: str, answers: dict[str, str]) -> None:
    """Every answer is on the page, escaped; no markup of theirs, no template evaluated."""
    for key, value in stored(answers).items():
        assert str(escape(value)) in page, key
    for raw in ("<script>alert", "<img src=x", "<svg onload", "<i>Lagon", "<style>@import",
                "<link rel=stylesheet", "<b>dolor"):  # fmt: skip
        assert raw not in page
    assert "1337" not in page and "boucleboucle" not in page
    assert "\x00" not in page


def pdf_text(content: bytes) -> str:
    """The PDF's text (pdftotext), with line breaks and zero-width spaces taken out."""
    result = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True)
    return re.sub(r"[\s\u200b\u00a0\u202f]+", "", result.stdout.decode())


def timed(call):
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def test_hostile_answers_render_escaped_on_pages_and_in_the_receipt(app, client, auth):
    slug = publish_form(app, FIELDS, slug="hostile")
    with recording_server() as (base_url, hits):
        answers = hostile_answers(base_url)
        check_page = submit_answers(client, slug, answers, submit=False)
        assert check_page.status_code == 200
        assert_escaped(check_page.text, answers)
        token = TOKEN_FIELD.search(check_page.text).group(1)
        sent = client.post(f"/demarches/{slug}/verification", data={"_jeton": token})
        assert sent.status_code == 302
        submission = latest_submission(app)
        assert submission.answers["nom"] == "SARL <i>Lagon</i> {{ 7*191 }}"
        assert "\x00" not in submission.answers["unicode"]

        thanks, thanks_time = timed(lambda: client.get(f"/demarches/{slug}/merci"))
        assert thanks.status_code == 200 and submission.reference in thanks.text

        with app.app_context():
            token = links.make("space", {"email": "x@example.nc"})
            db = get_session()
            db.get(Submission, submission.id).applicant_email = "x@example.nc"
            db.commit()
        client.get(f"/mon-espace/acces/{token}")
        space, space_time = timed(
            lambda: client.get(f"/mon-espace/demandes/{submission.reference}")
        )
        assert space.status_code == 200
        assert_escaped(space.text, answers)

        make_user(app, Role.AGENT)
        staff = app.test_client()
        staff.post("/agents/connexion", data={"email": "agent@example.nc",
                                              "password": "correct-horse-battery"})  # fmt: skip
        dossier, dossier_time = timed(lambda: staff.get(f"/agents/demandes/{submission.reference}"))
        assert dossier.status_code == 200
        assert_escaped(dossier.text, answers)

        with app.test_request_context():
            db = get_session()
            found = db.get(Submission, submission.id)
            content, render_time = timed(lambda: receipts.ensure_receipt(db, found))
            db.commit()
        with client.get(f"/demarches/{slug}/merci/recu.pdf") as download:
            assert download.status_code == 200 and download.data == content
            assert download.headers["Content-Disposition"].startswith("attachment")
        assert hits == []  # neither the pages (escaped) nor WeasyPrint asked for anything

    text = re.sub(rf"{submission.reference}Page\d+/\d+", "", pdf_text(content))  # footers
    for key, value in stored(answers).items():
        if key != "unicode":  # bidi and combining marks come out of pdftotext reordered
            assert re.sub(r"\s+", "", value) in text, key
    assert "1337" not in text and "boucleboucle" not in text
    unicode_row = text[text.index("Unicode") :][:60]
    print("\nthe Unicode answer as pdftotext reads it:", unicode_row)
    assert "Nom" in unicode_row and "reverse" in unicode_row and "fin" in unicode_row
    assert b"/etc/passwd" not in content or "url(file:///etc/passwd)" in text
    assert b"root:x:0:0" not in content
    timeout = app.config["PDF_JOB_TIMEOUT"]
    print(
        f"\nreceipt PDF with 3 x 10,000-character answers: {render_time:.2f} s "
        f"(PDF_JOB_TIMEOUT {timeout} s); pages: acknowledgement "
        f"{thanks_time:.2f} s, applicant space {space_time:.2f} s, back office "
        f"{dossier_time:.2f} s"
    )
    assert render_time < timeout


def test_one_unbroken_run_renders_in_linear_time(app):
    """A 100,000-character run without a space: WeasyPrint alone took minutes."""
    summary = [{"title": "Page", "rows": [("Texte", "B" * 100_000, "t")]}]
    context = {"organisation": "O", "service": "S", "form_title": "F", "reference": "R",
               "submitted_at": "-", "version": 1, "summary": summary, "answers_sha256": "0"}  # fmt: skip
    pdf.render("receipt.html", **{**context, "summary": []})  # fonts and stylesheets warm
    content, seconds = timed(lambda: pdf.render("receipt.html", **context))
    print(f"\nreceipt PDF with a 100,000-character unbroken run: {seconds:.2f} s")
    assert pdf_text(content).count("B") == 100_000  # on 35 pages
    assert seconds < app.config["PDF_JOB_TIMEOUT"]


def test_the_recording_server_sees_what_an_unrestricted_fetcher_fetches(app):
    """The control for `hits == []`: WeasyPrint's own fetcher does reach the server."""
    from weasyprint import HTML

    with recording_server() as (base_url, hits):
        HTML(string=f'<link rel=stylesheet href="{base_url}/control.css"><p>x</p>').write_pdf()
        assert hits == ["/control.css"]
        source = pdf.render_html("receipt.html", organisation="O", service="S",
                                 form_title="F", reference="R", submitted_at="-", version=1,
                                 summary=[{"title": "P", "rows": [
                                     ("L", f'<link rel=stylesheet href="{base_url}/x.css">',
                                      "k")]}],
                                 answers_sha256="0")  # fmt: skip
        assert "&lt;link rel=stylesheet" in source
        with pytest.raises(pdf.RefusedResource):
            pdf.prepared().fetcher.fetch(f"{base_url}/through-the-product.css")
        assert hits == ["/control.css"]


def test_hostile_names_reach_the_payment_act_as_text(app):
    """The beneficiary and account holder come from answers: printed, escaped, not fetched."""
    publish_payment_form(app)
    with recording_server() as (base_url, hits):
        name = (
            f"<img src={base_url}/act.png> {{{{ 7*191 }}}} url({base_url}/css) "
            "\u202eSARL\u202c " + "Z" * 900
        )
        reference = approved_request(app, name=name)
        with app.test_request_context():
            db = get_session()
            found = db.scalar(select(Submission).where(Submission.reference == reference))
            act = payment_acts.issue_act(db, found.id)
            db.commit()
            content, seconds = timed(lambda: payment_acts.render_act_pdf(db, act.id))
            db.commit()
            decision = storage.read(payment_acts.decision_record(db.get(PaymentAct, act.id))["key"])
        assert hits == []
    print(f"\npayment act and decision with a hostile 1,000-character name: {seconds:.2f} s")
    for document in (content, decision):
        text = pdf_text(document)
        assert re.sub(r"\s+", "", f"<img src={base_url}/act.png> {{{{ 7*191 }}}}") in text
        assert "Z" * 900 in text
        assert "1337" not in text
