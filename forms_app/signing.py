"""Electronic signatures: PAdES signing with the configured key, and verification.

Everything happens offline: no time-stamping server, no OCSP or CRL fetching. The key is read
from a PKCS#12 file once per process (reloaded when the file changes). Outside production a
demo PKI is created under the instance folder on first use, so a fresh machine signs with
nothing to set; production refuses to sign without an explicit key file and password.
"""

import asyncio
import functools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _

from forms_app import pki
from forms_app.pdf import TEMPLATES

STAMP_TEXT = (
    "Signé électroniquement par %(signer)s\nle %(when)s (heure de Nouméa)\nVaut ordre de payer"
)
# Bottom right of the last page, in PDF points (A4 is 595 × 842): the block that the
# bordereau template leaves empty for the signature.
STAMP_BOX = (330, 40, 565, 110)
STAMP_FONT = TEMPLATES / "fonts" / "DejaVuSans.ttf"
# What the stamp can show: Latin scripts (French, Kanak languages, Vietnamese), combining
# accents, punctuation and currency signs. Other characters show as an empty box.
STAMP_UNICODES = (
    (0x20, 0x24F),
    (0x300, 0x36F),
    (0x1E00, 0x1EFF),
    (0x2000, 0x206F),
    (0x20A0, 0x20CF),
)

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_signers: dict[tuple, object] = {}


class SigningError(RuntimeError):
    """Signing is impossible: no key configured, unreadable key file or wrong password."""


@dataclass(frozen=True)
class SignatureCheck:
    """What the verification of a PDF's (last) signature found."""

    intact: bool  # the signed bytes are those the signer hashed
    valid: bool  # intact, the signature value checks out and it covers the whole file
    trusted: bool  # the signer's certificate chains to a configured trust root
    signer: str  # the signer certificate's common name
    signed_at: datetime | None  # signing time stated by the signer (no time-stamp)
    coverage: bool  # the signature covers the whole file: nothing was added after it
    message: str  # a French summary for staff

    @property
    def ok(self) -> bool:
        return self.valid and self.trusted


def _key_location() -> tuple[Path, str]:
    """The PKCS#12 file and its password, from the configuration (demo defaults outside prod)."""
    config = current_app.config
    path, password = config.get("SIGNING_PKCS12"), config.get("SIGNING_PKCS12_PASSWORD")
    if config["ENV"] == "production" and not (path and password):
        raise SigningError(
            _(
                "La signature électronique n’est pas configurée : indiquez le fichier PKCS#12 "
                "du signataire (SIGNING_PKCS12) et son mot de passe (SIGNING_PKCS12_PASSWORD)."
            )
        )
    # GUICHET_* values are parsed as JSON: a password of digits arrives as a number.
    password = str(password) if password else pki.DEMO_PASSWORD
    if path:
        return Path(str(path)), password
    demo = pki.create_demo_pki(pki.default_directory(current_app.instance_path), password)
    return demo.signer_pkcs12, password


def _signer():
    """The SimpleSigner for the configured key, loaded once per process and file version."""
    from pyhanko.sign.signers import SimpleSigner

    path, password = _key_location()
    try:
        stat = path.stat()
    except OSError as error:
        raise SigningError(
            _("Le fichier de la clé de signature est introuvable : %(path)s", path=str(path))
        ) from error
    key = (str(path), stat.st_mtime_ns, stat.st_size, password)
    with _lock:
        signer = _signers.get(key)
        if signer is None:
            try:
                signer = SimpleSigner.load_pkcs12_data(
                    path.read_bytes(), other_certs=[], passphrase=password.encode()
                )
            except ValueError as error:
                raise SigningError(
                    _(
                        "La clé de signature %(path)s ne peut pas être ouverte "
                        "(fichier PKCS#12 abîmé ou mot de passe erroné).",
                        path=str(path),
                    )
                ) from error
            _signers.clear()
            _signers[key] = signer
    return signer


@functools.cache
def _stamp_font() -> bytes:
    """The shipped DejaVu Sans cut down to STAMP_UNICODES, at 1000 units per em.

    pyHanko writes glyph widths in font units, which PDF reads as thousandths of an em:
    DejaVu's 2048 units per em would space the letters twice too far apart. Starting from
    this small font, without layout tables, also makes each signature about five times faster.
    """
    from fontTools import subset, ttLib
    from fontTools.ttLib.scaleUpem import scale_upem

    options = subset.Options(layout_closure=False, notdef_outline=True)
    options.drop_tables += ["GPOS", "GSUB", "GDEF", "FFTM"]
    options.layout_features = []
    font = ttLib.TTFont(STAMP_FONT)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[c for low, high in STAMP_UNICODES for c in range(low, high + 1)])
    subsetter.subset(font)
    scale_upem(font, 1000)
    content = BytesIO()
    font.save(content)
    return content.getvalue()


@functools.cache
def _stamp_style():
    """The visible signature: three lines of DejaVu Sans in a thin frame."""
    from pyhanko.pdf_utils.font.api import FontEngineFactory
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    class StampFont(FontEngineFactory):
        def create_font_engine(self, writer, obj_stream=None):
            if obj_stream is None and writer.stream_xrefs:
                obj_stream = writer.prepare_object_stream()
            font = BytesIO(_stamp_font())
            return GlyphAccumulator(writer, font, font_size=8, obj_stream=obj_stream)

    return TextStampStyle(
        stamp_text=STAMP_TEXT,
        text_box_style=TextBoxStyle(font=StampFont(), font_size=8, leading=11),
        border_width=1,
    )


def sign_pdf(
    pdf: bytes, *, signer_name: str, reason: str, location: str, field_name: str = "Signature1"
) -> bytes:
    """Sign a PDF (PAdES baseline B, SHA-256) with a visible stamp at the foot of its last page."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers

    signer = _signer()
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
        name=signer_name,
    )
    field = fields.SigFieldSpec(sig_field_name=field_name, on_page=-1, box=STAMP_BOX)
    now = datetime.now(ZoneInfo("Pacific/Noumea"))
    when = f"{now:%d/%m/%Y} à {now:%H:%M}"
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        pdf_signer = signers.PdfSigner(
            metadata, signer, stamp_style=_stamp_style(), new_field_spec=field
        )
        output = _run(
            pdf_signer.async_sign_pdf(
                writer, appearance_text_params={"when": when}, output=BytesIO()
            )
        )
    except (PdfError, ValueError) as error:  # pyHanko's SigningError is a ValueError
        message = _("Ce document PDF ne peut pas être signé : %(error)s", error=error)
        raise SigningError(message) from error
    return output.getvalue()


def _run(coroutine):
    """Run one of pyHanko's coroutines to its end from synchronous code.

    pyHanko's synchronous helpers call asyncio.run(), which refuses to start while the
    thread already runs an event loop (an async server, a driver such as Playwright's): then
    the coroutine runs on a thread of its own.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _trust_roots() -> list:
    from pyhanko.keys import load_certs_from_pemder

    configured = current_app.config.get("SIGNING_TRUST_ROOTS")
    path = (
        Path(configured)
        if configured
        else pki.default_directory(current_app.instance_path) / pki.CA_FILE
    )
    if not path.exists():
        if configured:
            logger.warning("SIGNING_TRUST_ROOTS names a missing file: no signer is trusted")
        return []
    return list(load_certs_from_pemder([str(path)]))


def _unsigned(message: str) -> SignatureCheck:
    return SignatureCheck(False, False, False, "", None, False, message)


def verify_pdf(pdf: bytes) -> SignatureCheck:
    """Check the last signature of a PDF against the configured trust roots, offline."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        signatures = PdfFileReader(BytesIO(pdf), strict=False).embedded_regular_signatures
    except (PdfError, ValueError):
        return _unsigned(_("Document PDF illisible"))
    if not signatures:
        return _unsigned(_("Aucune signature"))
    context = ValidationContext(trust_roots=_trust_roots(), allow_fetching=False)
    try:
        status = _run(
            async_validate_pdf_signature(
                signatures[-1], signer_validation_context=context, skip_diff=True
            )
        )
    except (SignatureValidationError, PdfError, ValueError):
        return _unsigned(_("Signature illisible"))
    signer = status.signing_cert.subject.native.get("common_name", "")
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    valid = status.intact and status.valid and whole
    trusted = status.trusted
    if not status.intact:
        message = _("Signature invalide : le document a été modifié après la signature.")
    elif not status.valid:
        message = _("Signature invalide : la valeur de la signature est fausse.")
    elif not whole:
        message = _("Signature invalide : le document a été complété après la signature.")
    elif not trusted:
        message = _(
            "Signature de %(signer)s intacte, mais son certificat n’est pas reconnu.",
            signer=signer,
        )
    else:
        message = _("Signature valide de %(signer)s, certificat reconnu.", signer=signer)
    return SignatureCheck(
        intact=status.intact,
        valid=valid,
        trusted=trusted,
        signer=signer,
        signed_at=status.signer_reported_dt,
        coverage=whole,
        message=message,
    )
