"""The payment act's PDF, read back: every printed field, one A4 page, shipped fonts, stored once."""

import hashlib
import io
import json
import re
import subprocess

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from sqlalchemy import select

from forms_app import act_snapshot, payment_acts, pdf, storage
from forms_app.amount_words import amount_in_words
from forms_app.db import get_session
from forms_app.forms_cli import DEMO_FORMS_DIR
from forms_app.models import Event, OutboxMessage, PaymentAct, Submission
from tests.finance_support import (
    FIELDS,
    SETTINGS,
    approved_request,
    issued_act,
    publish_payment_form,
)
from tests.support import publish_form

LONG_NAME = "SARL LES JARDINS SUSPENDUS DE LA BAIE DES CITRONS ET DE L’ANSE VATA"
ADDRESS_FIELD = {"key": "siege", "type": "address", "label": "Adresse du siège", "required": True}
ADDRESS = {
    "street": "Lot 12, immeuble Le Kariba, 7 rue de Sébastopol",
    "complement": "BP 1234",
    "postal_code": "98800",
    "city": "Nouméa",
}


def pdf_text(content: bytes) -> str:
    """The PDF's text in reading order (pdftotext), on one line, spaces (no-break too) single."""
    result = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True)
    return re.sub(r"[\s\u00a0\u202f]+", " ", result.stdout.decode())


def embedded_fonts(content: bytes) -> set[tuple[str, str]]:
    """(family, PostScript name) read from the name table of each font program embedded."""
    reader = PdfReader(io.BytesIO(content))
    found = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            program = descendant["/FontDescriptor"]["/FontFile2"].get_object().get_data()
            names = TTFont(io.BytesIO(program))["name"]
            found.add((names.getDebugName(1), names.getDebugName(6)))
    return found


def stored(app, act_id: int) -> PaymentAct:
    with app.app_context():
        return get_session().get(PaymentAct, act_id)


def act_bytes(app, act_id: int) -> bytes:
    with app.app_context():
        return payment_acts.act_pdf(get_session().get(PaymentAct, act_id))


def demo_settings() -> dict:
    """The demo aid form's act settings: seven long "Vu", its imputation and signer."""
    settings = json.loads((DEMO_FORMS_DIR / "aide-entreprises.json").read_text())["settings"]
    keys = ("imputation", "signer_title", "legal_references")
    return {**SETTINGS, **{key: settings[key] for key in keys}}


def test_the_act_prints_every_field(app):
    publish_payment_form(app)
    act_id = issued_act(app, amount=150_000)
    act = stored(app, act_id)
    content = act_bytes(app, act_id)
    text = pdf_text(content)
    year = act.year
    assert act.number == f"{year}-000001"
    for expected in (
        "MANDAT DE PAIEMENT",
        f"N° {year}-000001",
        "PROVINCE SUD — Nouvelle-Calédonie",
        f"Budget principal · Exercice {year}",
        "Comptable assignataire : Payeur de la province Sud",
        f"Dossier {act.details['dossier_no']}",
        "SARL LAGON BLEU TOURS",
        "1234567.001",
        "FR76 9999 9000 0100 0123 4567 809",
        "BCADNCNN / BCI Nouméa",
        "150 000 F CFP",
        "cent cinquante mille francs CFP",
        "Fonctionnement – chapitre 65 – article 6574 – fonction 93",
        "Vu la loi organique modifiée n° 99-209 du 19 mars 1999",
        "Vu la délibération modifiée n° 43-2011/APS du 22 décembre 2011 ;",
        "Pour la présidente et par délégation, le directeur de l’Économie",
        "Aide exceptionnelle à la trésorerie – Plan d’urgence COVID-19",
        "Virement",
        "Avis de situation au RIDET",
        "Certifié exécutoire",
        "Visa du comptable",
        act_snapshot.fingerprint(act),
    ):
        assert expected in text, expected
    assert hashlib.sha256(content).hexdigest() == act.pdf_sha256


def test_a4_one_page_with_the_shipped_dejavu_fonts(app):
    """The demo form's typical act (seven "Vu", long names, an address) holds on one page."""
    publish_form(
        app,
        [*FIELDS[:2], ADDRESS_FIELD, *FIELDS[2:]],
        slug="aide",
        title="Aide exceptionnelle aux entreprises",
        settings=demo_settings(),
        rules={"amount": {"expression": "montant", "cap": 50_000_000}},
    )
    reference = approved_request(app, amount=1_500_000, name=LONG_NAME)
    with app.test_request_context():
        db = get_session()
        found = db.scalar(select(Submission).where(Submission.reference == reference))
        found.answers = {**found.answers, "siege": ADDRESS}  # as the applicant typed it
        act = payment_acts.issue_act(db, found.id)
        db.commit()
        payment_acts.render_act_pdf(db, act.id)
        db.commit()
        act_id = act.id
    reader = PdfReader(io.BytesIO(act_bytes(app, act_id)))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    shipped = {
        (names.getDebugName(1), names.getDebugName(6))
        for names in (TTFont(path)["name"] for path in (pdf.TEMPLATES / "fonts").glob("*.ttf"))
    }
    assert shipped == {("DejaVu Sans", "DejaVuSans"), ("DejaVu Sans", "DejaVuSans-Bold")}
    assert embedded_fonts(act_bytes(app, act_id)) == shipped
    assert len(stored(app, act_id).details["visas"]) == 7
    text = pdf_text(act_bytes(app, act_id))
    assert "un million cinq cent mille francs CFP" in text
    assert "(numéro à compléter) ;" in text  # the last "Vu" made it onto the page
    assert "Lot 12, immeuble Le Kariba, 7 rue de Sébastopol, BP 1234, 98800 Nouméa" in text


def test_the_document_date_is_the_issue_time(app):
    publish_payment_form(app)
    act_id = issued_act(app)
    act = stored(app, act_id)
    reader = PdfReader(io.BytesIO(act_bytes(app, act_id)))
    assert reader.metadata.title == f"Mandat de paiement n° {act.number}"
    assert reader.metadata.creation_date.replace(tzinfo=None) == act.issued_at.replace(
        tzinfo=None, microsecond=0
    )


@pytest.mark.parametrize(
    "amount",
    [178_950, 10_000_000],
    ids=["178950", "10000000"],
)
def test_amount_in_words_through_the_pdf(app, amount):
    publish_payment_form(app)
    act_id = issued_act(app, amount=amount)
    text = pdf_text(act_bytes(app, act_id))
    words = amount_in_words(amount)
    assert stored(app, act_id).details["montant_lettres"] == words
    assert words in text
    assert f"{amount:,}".replace(",", " ") + " F CFP" in text


def test_a_stored_act_is_never_rendered_again(app):
    publish_payment_form(app)
    act_id = issued_act(app)
    first = stored(app, act_id)
    with app.app_context():
        path = storage.backend().path(first.pdf_key)
        before = path.stat()
        db = get_session()
        again = payment_acts.render_act_pdf(db, act_id)
        db.commit()
        after = path.stat()
    act = stored(app, act_id)
    assert again == act_bytes(app, act_id)
    assert (act.pdf_key, act.pdf_sha256, act.rendered_at) == (
        first.pdf_key,
        first.pdf_sha256,
        first.rendered_at,
    )
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    with app.app_context():  # one render job was queued, by the issue
        jobs = get_session().scalars(
            select(OutboxMessage).where(OutboxMessage.job == payment_acts.RENDER_JOB)
        )
        assert [job.args for job in jobs] == [{"act_id": act_id}]


def test_the_same_act_renders_to_the_same_bytes(app):
    """Two renders of one act agree byte for byte (fixed creation date, no random ids)."""
    publish_payment_form(app)
    act_id = issued_act(app)
    with app.app_context():
        act = get_session().get(PaymentAct, act_id)
        for template in ("payment_act.html", "decision.html"):
            context = act_snapshot.printed(act)
            assert pdf.render(template, **context) == pdf.render(template, **context)


def decision_bytes(app, act_id: int) -> bytes:
    with app.app_context():
        db = get_session()
        record = payment_acts.decision_record(db.get(PaymentAct, act_id))
        content = storage.read(record["key"])
        assert hashlib.sha256(content).hexdigest() == record["sha256"]
        return content


@pytest.mark.parametrize(
    ("amount", "sentence"),
    [
        (150_000, "cent cinquante mille (150 000) francs CFP"),
        (10_000_000, "dix millions (10 000 000) de francs CFP"),
    ],
)
def test_the_decision_is_rendered_with_the_act(app, amount, sentence):
    """The arrêté attributif (DOMAIN §6.3), from the same snapshot, in the same job, once."""
    publish_payment_form(app)
    act_id = issued_act(app, amount=amount)
    act = stored(app, act_id)
    content = decision_bytes(app, act_id)
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    text = pdf_text(content)
    for expected in (
        "ARRÊTÉ",
        f"Dossier {act.details['dossier_no']}",
        "Vu la loi organique modifiée n° 99-209 du 19 mars 1999",
        f"Vu la demande présentée le {act.details['date_demande']} par SARL LAGON BLEU TOURS",
        "A R R Ê T E",
        f"Une aide d’un montant de {sentence} est attribuée à SARL LAGON BLEU TOURS",
        "RIDET n° 1234567.001",
        "FR76 9999 9000 0100 0123 4567 809",
        f"Mandat de paiement n° {act.number}",
        "Pour la présidente et par délégation",
    ):
        assert expected in text, expected
    with app.test_request_context():  # the render job again: neither document is made anew
        db = get_session()
        payment_acts.render_act_pdf(db, act_id)
        db.commit()
        renders = db.scalars(
            select(Event).where(Event.action == payment_acts.DECISION_RENDERED)
        ).all()
        assert [(e.subject_id, e.actor_id) for e in renders] == [(act_id, None)]
    assert decision_bytes(app, act_id) == content


@pytest.mark.parametrize(
    "resource",
    [
        '<link rel="stylesheet" href="file:///etc/passwd">',
        '<link rel="stylesheet" href="http://example.com/x.css">',
        '<img src="http://example.com/x.png" alt="">',
        '<link rel="stylesheet" href="../forms_app/config.py">',
        '<style>@font-face { font-family: X; src: url("file:///etc/passwd"); }'
        " body { font-family: X; }</style>",
    ],
    ids=["file-outside", "http-css", "http-img", "dot-dot", "font-face"],
)
def test_the_fetcher_refuses_anything_outside_pdf_templates(resource):
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    html = f"<html><head>{resource}</head><body><p>Bonjour</p></body></html>"
    base = pdf.TEMPLATES.as_uri() + "/"
    with pytest.raises(FatalURLFetchingError) as raised:
        HTML(string=html, base_url=base, url_fetcher=pdf._fetcher()).write_pdf()
    assert isinstance(raised.value.__cause__, pdf.RefusedResource)


def test_the_fetcher_serves_the_shipped_files():
    fetcher = pdf._fetcher()
    for url in ("file:///etc/passwd", "http://example.com/x.css", "https://example.com/"):
        with pytest.raises(pdf.RefusedResource):
            fetcher.fetch(url)
    response = fetcher.fetch((pdf.TEMPLATES / "acts.css").as_uri())
    try:
        assert b".signatures" in response.read()
    finally:
        response.close()
