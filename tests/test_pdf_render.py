"""What renders share (fonts, parsed stylesheets) changes neither the bytes nor what is printed."""

import io
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

from jinja2 import FileSystemLoader
from pypdf import PdfReader

from forms_app import pdf

ROOT = Path(__file__).resolve().parent.parent
SUBPROCESS = """
import sys
from tests.test_pdf_render import act_context
from forms_app import pdf
sys.stdout.buffer.write(pdf.render(sys.argv[1], **act_context()))
"""


def act_context(number: str = "2026-000042") -> dict:
    """What act_snapshot.printed gives the act templates, for an act of the demo aid form."""
    act = SimpleNamespace(
        number=number,
        beneficiary={"name": "SARL LAGON BLEU TOURS", "ridet": "1234567.001", "address": ""},
        bank={
            "holder": "SARL LAGON BLEU TOURS",
            "iban": "FR7699999000010001234567809",
            "bic": "BCADNCNN",
            "domiciliation": "BCI Nouméa",
        },
        details={
            "collectivite": "PROVINCE SUD — Nouvelle-Calédonie",
            "budget": "Budget principal",
            "exercice": 2026,
            "comptable": "Payeur de la province Sud",
            "service": "Direction de l’Économie",
            "dossier_no": "AIDE-2026-000042",
            "objet": "Aide exceptionnelle à la trésorerie",
            "date_demande": "02/03/2026",
            "date_decision": "05/03/2026",
            "decision_ref": "Décision d’attribution du 05/03/2026 (dossier AIDE-2026-000042)",
            "visas": ["Vu la loi organique modifiée n° 99-209 du 19 mars 1999"] * 7,
            "imputation": "Fonctionnement – chapitre 65 – article 6574",
            "montant_lettres": "cent cinquante mille francs CFP",
            "mode_reglement": "Virement",
            "pieces": ["Formulaire de demande", "Relevé d’identité bancaire"],
            "service_fait": "05/03/2026 – Agathe Instructrice",
            "date_emission": "06/03/2026",
            "signataire": "Pour la présidente et par délégation",
        },
    )
    return {
        "act": act,
        "amount": "150 000 F CFP",
        "amount_sentence": "cent cinquante mille (150 000) francs CFP",
        "created": "2026-03-06T01:02:03Z",
        "fingerprint": "0123456789abcdef" * 4,
    }


def in_another_process(template: str) -> bytes:
    """The template rendered by a fresh interpreter: nothing prepared, nothing cached."""
    done = subprocess.run(
        [sys.executable, "-c", SUBPROCESS, template], cwd=ROOT, capture_output=True, check=True
    )
    return done.stdout


def test_two_processes_render_the_same_bytes():
    """A fresh process (cold fonts) and this one (warm, after other renders) agree."""
    for template in ("payment_act.html", "decision.html"):
        pdf.render(template, **act_context("2026-000001"))  # warm: another act first
        assert pdf.render(template, **act_context()) == in_another_process(template)


def test_a_thread_has_its_own_fonts_and_renders_the_same_bytes():
    here = pdf.render("payment_act.html", **act_context())
    found = {}

    def render():
        found["prepared"] = pdf.prepared()
        found["content"] = pdf.render("payment_act.html", **act_context())

    thread = threading.Thread(target=render)
    thread.start()
    thread.join(timeout=60)
    assert found["content"] == here
    assert found["prepared"] is not pdf.prepared()


def test_fonts_stay_subset_and_embedded():
    """Subset fonts: the whole DejaVu Sans (about 740 KB a face) is not in every act."""
    content = pdf.render("payment_act.html", **act_context())
    assert len(content) < 100_000
    reader = PdfReader(io.BytesIO(content))
    fonts = reader.pages[0]["/Resources"]["/Font"].values()
    names = {font.get_object()["/BaseFont"].split("+")[-1] for font in fonts}
    assert names == {"Guichet-Sans", "Guichet-Sans-Bold"}


def test_a_changed_stylesheet_on_disk_is_used_at_the_next_render(tmp_path, monkeypatch):
    folder = tmp_path / "pdf_templates"
    shutil.copytree(pdf.TEMPLATES, folder)
    monkeypatch.setattr(pdf, "TEMPLATES", folder)
    monkeypatch.setattr(pdf, "BASE_URL", folder.as_uri() + "/")
    monkeypatch.setattr(pdf._environment, "loader", FileSystemLoader(folder))
    monkeypatch.setattr(pdf._prepared, "value", None, raising=False)

    def page_size() -> tuple[int, int]:
        content = pdf.render("receipt.html", **receipt_context())
        box = PdfReader(io.BytesIO(content)).pages[0].mediabox
        return round(float(box.width)), round(float(box.height))

    assert page_size() == (595, 842)
    first = pdf.prepared()
    assert page_size() == (595, 842) and pdf.prepared() is first  # reused while unchanged
    stylesheet = folder / "base.css"
    stylesheet.write_text(stylesheet.read_text().replace("size: A4;", "size: A5;"))
    assert page_size() == (420, 595)
    assert pdf.prepared() is not first


def receipt_context() -> dict:
    return {
        "organisation": "Province Sud",
        "service": "Guichet",
        "form_title": "Aide",
        "reference": "AIDE-2026-000042",
        "submitted_at": "06/03/2026 10:00",
        "version": 1,
        "summary": [],
        "answers_sha256": "0" * 64,
    }
