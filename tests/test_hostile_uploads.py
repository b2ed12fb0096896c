"""Hostile uploads: refused with a French 400 and nothing stored, or kept under a clean name.

Files are posted through the real form pages (and the applicant's message form) as a
browser sends them. Refused: content of another type than the name or Content-Type says,
files that are two things at once (a PDF or image that is also a ZIP archive or a web
page, a "PDF" starting with <html>), archives of any kind (a ZIP bomb, a gzip bomb, a
tar), too many files, too large a file. Accepted files keep a cleaned name (no folders,
control or invisible characters, bounded length, the content's extension) and come back
only as downloads with `Content-Disposition: attachment` and `nosniff`.
"""

import gzip
import io
import re
import tarfile
import time
import unicodedata
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from forms_app.db import get_session
from forms_app.formdefs import file_names
from forms_app.models import Attachment, Role
from tests.support import TOKEN_FIELD, latest_submission, make_user, publish_form, submit_answers
from tests.test_applicant_space import sign_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
LIMIT = 100 * 1024  # max_size_mb 0.09765625
FIELDS = [
    {"key": "nom", "type": "text", "label": "Nom", "required": True},
    {"key": "pieces", "type": "file", "label": "Pièces", "required": True, "max_files": 2,
     "max_size_mb": LIMIT / 1024 / 1024},
]  # fmt: skip


def zipped(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def tarred(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


ZIP_BOMB = zipped("zeros.pdf", bytes(50 * 1024 * 1024))  # 50 MB unpacked, about 50 kB packed
GZIP_BOMB = gzip.compress(bytes(50 * 1024 * 1024), compresslevel=9)
HTML_FIRST = b"<html><body><script>alert(1)</script></body></html>\n" + PDF
PDF_HTML = PDF.replace(b"\n1 0 obj", b"\n<html><script>alert(1)</script></html>\n1 0 obj")
PDF_ZIP = PDF + zipped("evil.html", b"<script>alert(1)</script>")
JPEG_ZIP = JPEG + zipped("evil.jar", b"\xca\xfe\xba\xbe")
PNG_SVG = PNG[:8] + b"\x00\x00\x00\x20tEXt<svg onload=alert(1)>" + PNG[8:]
MISMATCH = "se présente comme un fichier"
POLYGLOT = "il contient aussi une archive ou une page web"
WRONG_TYPE = "doit être au format PDF, JPEG, PNG"

REFUSED = {
    "html first, named .pdf": ((HTML_FIRST, "attestation.pdf"), WRONG_TYPE),
    "pdf that is html": ((PDF_HTML, "attestation.pdf"), POLYGLOT),
    "pdf that is a zip": ((PDF_ZIP, "attestation.pdf"), POLYGLOT),
    "jpeg that is a zip": ((JPEG_ZIP, "photo.jpg"), POLYGLOT),
    "png with svg markup": ((PNG_SVG, "photo.png"), POLYGLOT),
    "zip bomb named .pdf": ((ZIP_BOMB, "releve.pdf"), WRONG_TYPE),
    "zip bomb named .zip": ((ZIP_BOMB, "releve.zip"), WRONG_TYPE),
    "gzip bomb": ((GZIP_BOMB, "releve.pdf.gz"), WRONG_TYPE),
    "tar": ((tarred("a.pdf", PDF), "pieces.tar"), WRONG_TYPE),
    "png named .jpg": ((PNG, "photo.jpg"), MISMATCH),
    "pdf named .png": ((PDF, "scan.png"), MISMATCH),
    "png sent as image/jpeg": ((FileStorage(io.BytesIO(PNG), "photo", content_type="image/jpeg"),
                                None), MISMATCH),
    "one byte too large": ((PDF + b"0" * (LIMIT + 1 - len(PDF)), "gros.pdf"), "dépasse"),
    "empty": ((b"", "vide.pdf"), "est vide"),
    "three files": ([(PDF, "a.pdf"), (PNG, "b.png"), (JPEG, "c.jpg")], "au plus 2 fichiers"),
}  # fmt: skip


def download_name(disposition: str) -> str:
    """The file name a browser saves a download under."""
    if encoded := re.search(r"filename\*=UTF-8''([^;]+)", disposition):
        return unquote(encoded[1])
    return re.search(r'filename="?([^";]+)"?', disposition)[1]


def stored_objects(app) -> list[Path]:
    folder = Path(app.instance_path) / "uploads"
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def attachments(app) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(Attachment))


def upload(client, slug: str, files):
    """Post the first page with these files as a browser does; the response."""
    client.post(f"/demarches/{slug}/")
    if isinstance(files, tuple) and isinstance(files[0], FileStorage):
        files = files[0]
    elif isinstance(files, tuple):
        files = (io.BytesIO(files[0]), files[1])
    else:
        files = [(io.BytesIO(content), name) for content, name in files]
    return client.post(
        f"/demarches/{slug}/etapes/1",
        data={"nom": "Kaloï", "pieces": files},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_hostile_files_are_refused_in_french_and_nothing_is_stored(app, client, case):
    slug = publish_form(app, FIELDS, slug="pieces")
    files, message = REFUSED[case]
    started = time.perf_counter()
    response = upload(client, slug, files)
    assert time.perf_counter() - started < 10  # nothing is unpacked
    assert response.status_code == 400
    assert message in response.text
    assert attachments(app) == 0
    assert stored_objects(app) == []


def test_a_polyglot_is_refused_in_a_message_too(app, client):
    from tests.test_applicant_space import make_submission, publish_space_form

    publish_space_form(app)
    reference = make_submission(app)
    sign_in(app, client)
    response = client.post(
        f"/mon-espace/demandes/{reference}/messages",
        data={"body": "Mon devis", "piece": (io.BytesIO(PDF_ZIP), "devis.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert POLYGLOT in response.text
    assert attachments(app) == 0


HOSTILE_NAMES = {
    # Werkzeug reads the backslashes of a quoted multipart name as escapes, as browsers send it.
    "C:\\Users\\kaloi\\Documents\\facture.pdf": "C:UserskaloiDocumentsfacture.pdf",
    "../../../etc/passwd.pdf": "passwd.pdf",
    "facture\u202efdp.exe": "facturefdp.exe.pdf",
    "a\x00b\r\n\tc.pdf": "ab c.pdf",  # the line break and tab reach the app as a space
    "rapport.html": "rapport.html.pdf",
    "\u200b\u200d\ufeff": "fichier.pdf",
    "e\u0301te\u0301 .PDF": "été.pdf",
    "<script>alert(1)</script>.pdf": "script>.pdf",
    "x" * 300 + ".pdf": "x" * 116 + ".pdf",
}


def test_names_are_cleaned_and_files_come_back_as_attachments(app, client, auth):
    slug = publish_form(app, [FIELDS[0], {**FIELDS[1], "max_files": 20}], slug="pieces")
    contents = [PDF + str(n).encode() for n in range(len(HOSTILE_NAMES))]
    answers = {"nom": "Kaloï", "pieces": list(zip(contents, HOSTILE_NAMES, strict=True))}
    check_page = submit_answers(client, slug, answers, submit=False)
    assert check_page.status_code == 200
    assert "<script>alert" not in check_page.text and "\u202e" not in check_page.text
    token = TOKEN_FIELD.search(check_page.text).group(1)
    assert client.post(f"/demarches/{slug}/verification", data={"_jeton": token}).status_code == 302
    submission = latest_submission(app)
    expected = list(HOSTILE_NAMES.values())
    assert [item["name"] for item in submission.answers["pieces"]] == expected
    with app.app_context():
        rows = get_session().scalars(select(Attachment).order_by(Attachment.id)).all()
        assert [row.original_name for row in rows] == expected
        ids = [row.id for row in rows]

    make_user(app, Role.AGENT)
    auth.login()
    urls = [f"/agents/demandes/{submission.reference}/pieces/{i}" for i in ids]
    with app.app_context():
        get_session().get(type(submission), submission.id).applicant_email = "a@example.nc"
        get_session().commit()
    owner = app.test_client()
    sign_in(app, owner, "a@example.nc")
    for name, staff_url, content in zip(expected, urls, contents, strict=True):
        space_url = staff_url.replace("/agents/", "/mon-espace/")
        for who, url in ((client, staff_url), (owner, space_url)):
            with who.get(url) as response:
                assert response.status_code == 200, url
                assert response.data == content
                assert response.mimetype == "application/pdf"
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                disposition = response.headers["Content-Disposition"]
                assert disposition.startswith("attachment;")
                assert not re.search(r"[\x00-\x1f\u202e/\\]", disposition)
                assert download_name(disposition) == name


@settings(max_examples=300)
@given(name=st.one_of(st.text(), st.sampled_from(list(HOSTILE_NAMES))),
       mime=st.sampled_from(sorted(file_names.EXTENSIONS)))  # fmt: skip
def test_any_name_is_kept_clean_short_and_with_the_contents_extension(name, mime):
    kept = file_names.kept_name(name, mime)
    assert len(kept) <= file_names.MAX_LENGTH
    assert not any(unicodedata.category(char).startswith("C") for char in kept)
    assert "/" not in kept and "\\" not in kept and kept == kept.strip()
    assert kept.endswith("." + file_names.EXTENSIONS[mime][0])
    assert not kept.startswith(".")
    assert file_names.kept_name(kept, mime) == kept
    assert unicodedata.normalize("NFC", kept) == kept
