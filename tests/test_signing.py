"""PAdES signatures on the project's own PDFs, checked by pyHanko and by poppler's pdfsig."""

import asyncio
import io
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from pypdf import PdfReader

from forms_app import pdf, pki, signing

SIGNER = "Françoise Finances"
PDFSIG = shutil.which("pdfsig") or "/usr/bin/pdfsig"
PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"
ROWS = [
    (f"Mandat 2026-{n:06d}", f"SARL Lagon Bleu n° {n} – 150 000 F CFP – Nouméa", f"m{n}")
    for n in range(45)
]


@pytest.fixture(scope="module")
def document() -> bytes:
    """A receipt of a few pages, rendered by the project's renderer and template."""
    return pdf.render(
        "receipt.html",
        organisation="Province Sud",
        service="Guichet",
        form_title="Aide exceptionnelle – Plan d’urgence",
        reference="AIDE-2026-000042",
        submitted_at="14/04/2026 09:30",
        version=1,
        summary=[{"title": f"Page {n}", "rows": ROWS} for n in range(2)],
        answers_sha256="0" * 64,
    )


def sign(app, document: bytes, **overrides) -> bytes:
    options = {"signer_name": SIGNER, "reason": "Ordre de payer", "location": "Nouméa"}
    with app.app_context():
        return signing.sign_pdf(document, **(options | overrides))


def verify(app, content: bytes) -> signing.SignatureCheck:
    with app.app_context():
        return signing.verify_pdf(content)


def pdfsig(content: bytes, tmp_path, *options: str) -> str:
    """pdfsig's report; HOME points to an empty folder so no user's NSS database is read.

    The demo certificates name no OCSP responder, so pdfsig has nothing to fetch.
    """
    path = tmp_path / "checked.pdf"
    path.write_bytes(content)
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [PDFSIG, *options, str(path)], capture_output=True, text=True, env=env, timeout=60
    )
    return run.stdout + run.stderr


def pages_text(content: bytes, tmp_path) -> list[str]:
    path = tmp_path / "text.pdf"
    path.write_bytes(content)
    run = subprocess.run([PDFTOTEXT, str(path), "-"], capture_output=True, text=True, check=True)
    return run.stdout.split("\f")


def test_first_signature_creates_the_demo_pki_and_validates(app, document, tmp_path):
    directory = pki.default_directory(app.instance_path)
    assert not directory.exists()
    signed = sign(app, document)
    assert (directory / "signer.p12").exists() and (directory / "ca.pem").exists()
    assert signed.startswith(document)  # an incremental update: the rendered bytes are kept

    check = verify(app, signed)
    assert check.intact and check.valid and check.trusted and check.coverage and check.ok
    assert check.signer == pki.SIGNER_NAME
    assert check.signed_at is not None and check.signed_at.tzinfo is not None
    assert check.message == f"Signature valide de {pki.SIGNER_NAME}, certificat reconnu."

    report = pdfsig(signed, tmp_path)
    assert "Signature Validation: Signature is Valid." in report
    assert f"Signer Certificate Common Name: {pki.SIGNER_NAME}" in report
    assert "Total document signed" in report and "Not total document signed" not in report
    assert "ETSI.CAdES.detached" in report  # PAdES
    assert "SHA-256" in report


def test_stamp_sits_at_the_foot_of_the_last_page_and_reads_back(app, document, tmp_path):
    signed = sign(app, document)
    reader = PdfReader(io.BytesIO(signed))
    assert len(reader.pages) >= 2
    widgets = [
        annotation.get_object()
        for page in reader.pages
        for annotation in page.get("/Annots", [])
        if annotation.get_object().get("/FT") == "/Sig"
    ]
    assert len(widgets) == 1
    assert [float(v) for v in widgets[0]["/Rect"]] == list(signing.STAMP_BOX)
    assert widgets[0]["/P"].get_object() == reader.pages[-1]

    text = [page for page in pages_text(signed, tmp_path) if page.strip()]
    assert f"Signé électroniquement par {SIGNER}" in text[-1]
    assert "(heure de Nouméa)" in text[-1] and "Vaut ordre de payer" in text[-1]
    assert "Signé électroniquement" not in "".join(text[:-1])


def test_a_flipped_byte_breaks_the_signature(app, document, tmp_path):
    signed = bytearray(sign(app, document))
    contents = PdfReader(io.BytesIO(document)).pages[0].raw_get("/Contents")
    header = signed.index(f"\n{contents.idnum} 0 obj".encode())
    position = signed.index(b"stream", header) + 40  # inside the first page's content stream
    assert position < len(document)
    signed[position] ^= 0x01
    tampered = bytes(signed)

    check = verify(app, tampered)
    assert not check.intact and not check.valid and not check.ok
    assert check.message == "Signature invalide : le document a été modifié après la signature."
    report = pdfsig(tampered, tmp_path)
    assert "Signature Validation: Signature is Valid." not in report
    assert "Digest Mismatch" in report


def append_update(signed: bytes, change: str) -> bytes:
    """Add an incremental update after the signature: a drawing on page 1, or new metadata."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    if change == "drawing":
        stream = generic.StreamObject(stream_data=b"1 0 0 rg 300 400 200 60 re f")
        writer.add_stream_to_page(0, writer.add_object(stream))
    else:
        info = generic.DictionaryObject(
            {generic.NameObject("/Title"): generic.pdf_string("Modifié")}
        )
        writer.set_info(writer.add_object(info))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


@pytest.mark.parametrize("change", ["drawing", "metadata"])
def test_an_update_appended_after_signing_is_not_valid(app, document, tmp_path, change):
    signed = sign(app, document)
    updated = append_update(signed, change)
    assert updated.startswith(signed)

    check = verify(app, updated)
    assert check.intact and not check.coverage
    assert not check.valid and not check.ok
    assert check.message == "Signature invalide : le document a été complété après la signature."
    assert "Not total document signed" in pdfsig(updated, tmp_path)


def test_a_key_from_another_ca_is_intact_but_not_trusted(app, document, tmp_path):
    with app.app_context():
        pki.create_demo_pki(pki.default_directory(app.instance_path), pki.DEMO_PASSWORD)
    other = pki.create_demo_pki(tmp_path / "other", "un-autre-mot-de-passe")
    app.config["SIGNING_PKCS12"] = str(other.signer_pkcs12)
    app.config["SIGNING_PKCS12_PASSWORD"] = "un-autre-mot-de-passe"
    signed = sign(app, document)

    check = verify(app, signed)
    assert check.intact and check.valid and check.coverage
    assert not check.trusted and not check.ok
    assert "n’est pas reconnu" in check.message
    assert "Signature Validation: Signature is Valid." in pdfsig(signed, tmp_path)

    both = tmp_path / "roots.pem"  # one PEM file may hold several roots (a renewed CA)
    ours = pki.default_directory(app.instance_path) / pki.CA_FILE
    both.write_bytes(ours.read_bytes() + other.ca_certificate.read_bytes())
    app.config["SIGNING_TRUST_ROOTS"] = str(both)
    assert verify(app, signed).ok


def test_pdfsig_trusts_the_demo_ca_once_it_is_in_an_nss_database(app, document, tmp_path):
    signed = sign(app, document)
    database = tmp_path / "nssdb"
    database.mkdir()
    ca = pki.default_directory(app.instance_path) / "ca.pem"
    certutil = shutil.which("certutil")
    assert certutil, "certutil (libnss3-tools) is missing: `make browser` installs it"
    subprocess.run([certutil, "-N", "-d", f"sql:{database}", "--empty-password"], check=True)
    add = [certutil, "-A", "-d", f"sql:{database}", "-n", "guichet-demo", "-t", "CT,C,C"]
    subprocess.run([*add, "-i", str(ca)], check=True)
    report = pdfsig(signed, tmp_path, "-nssdir", f"sql:{database}")
    assert "Signature Validation: Signature is Valid." in report
    assert "Certificate Validation: Certificate is Trusted." in report


def test_unsigned_and_unreadable_documents(app, document):
    check = verify(app, document)
    assert (check.intact, check.valid, check.trusted, check.coverage) == (False,) * 4
    assert check.message == "Aucune signature" and check.signed_at is None
    assert verify(app, b"pas un PDF").message == "Document PDF illisible"


def test_what_cannot_be_signed_is_a_clear_error(app, document):
    for content in (b"pas un PDF", document[: len(document) // 2]):
        with pytest.raises(signing.SigningError, match="ne peut pas être signé"):
            sign(app, content)
    signed = sign(app, document)
    with pytest.raises(signing.SigningError, match="ne peut pas être signé"):
        sign(app, signed)  # the field is filled already
    countersigned = sign(app, signed, field_name="Signature2")
    assert verify(app, countersigned).ok


def test_production_refuses_to_sign_without_a_key_and_creates_none(app, document):
    app.config["ENV"] = "production"
    for settings in ({}, {"SIGNING_PKCS12": "/nowhere/signer.p12"}):
        app.config.update(settings)
        with pytest.raises(signing.SigningError, match="SIGNING_PKCS12_PASSWORD"):
            sign(app, document)
    assert not pki.default_directory(app.instance_path).exists()


def test_production_signs_with_the_configured_key(app, document, tmp_path):
    key = pki.create_demo_pki(tmp_path / "secrets", "mot-de-passe-de-production")
    app.config.update(
        ENV="production",
        SIGNING_PKCS12=str(key.signer_pkcs12),
        SIGNING_PKCS12_PASSWORD="mot-de-passe-de-production",
        SIGNING_TRUST_ROOTS=str(key.ca_certificate),
    )
    assert verify(app, sign(app, document)).ok
    assert not pki.default_directory(app.instance_path).exists()


def test_a_wrong_password_or_missing_file_is_a_clear_error(app, document, tmp_path):
    key = pki.create_demo_pki(tmp_path / "secrets", "le-bon-mot-de-passe")
    app.config.update(SIGNING_PKCS12=str(key.signer_pkcs12), SIGNING_PKCS12_PASSWORD="faux")
    with pytest.raises(signing.SigningError, match="mot de passe erroné"):
        sign(app, document)
    app.config["SIGNING_PKCS12"] = str(tmp_path / "absent.p12")
    with pytest.raises(signing.SigningError, match="introuvable"):
        sign(app, document)
    assert not pki.default_directory(app.instance_path).exists()


def test_a_password_of_digits_from_the_environment_opens_the_key(app, document, tmp_path):
    key = pki.create_demo_pki(tmp_path / "secrets", "20262026")
    # GUICHET_SIGNING_PKCS12_PASSWORD=20262026 arrives as a number (values are parsed as JSON)
    app.config.update(SIGNING_PKCS12=str(key.signer_pkcs12), SIGNING_PKCS12_PASSWORD=20262026)
    assert verify(app, sign(app, document)).intact


def test_the_key_is_loaded_once_per_file_version(app, runner):
    with app.app_context():
        first = signing._signer()
        assert signing._signer() is first
    assert runner.invoke(args=["pki", "demo", "--force"]).exit_code == 0
    with app.app_context():
        renewed = signing._signer()
    assert renewed is not first
    assert renewed.signing_cert != first.signing_cert


def test_signing_and_checking_work_while_the_thread_runs_an_event_loop(app, document):
    """pyHanko's own sync helpers call asyncio.run(), refused inside a running loop."""

    async def inside_a_loop():
        signed = sign(app, document)
        return signed, verify(app, signed)

    with ThreadPoolExecutor(max_workers=1) as pool:  # a thread whose loop is ours alone
        signed, check = pool.submit(asyncio.run, inside_a_loop()).result()
    assert check.ok, check.message
    assert verify(app, signed).ok
