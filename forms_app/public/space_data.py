"""The applicant's copy of their data (right of access and portability): one ZIP to download.

The archive holds `donnees.json` (every request and draft of the address: answers, history,
messages, the list of files), `LISEZMOI.txt` and, under `fichiers/`, the files themselves and
the receipts. It is written to a temporary file that spills to disk when large, and served
only once complete: a file store that does not answer gives the 503 page, never half a ZIP.
"""

import json
import re
import zipfile
from datetime import UTC, datetime
from tempfile import SpooledTemporaryFile
from typing import IO, Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template, send_file
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from forms_app import audit, drafts, links, receipts, storage
from forms_app.db import get_session, utcnow
from forms_app.formdefs import definition as definitions
from forms_app.formdefs import display
from forms_app.formdefs.file_names import DEFAULT_STEM, readable
from forms_app.models import ApplicantAccess, Attachment, Submission
from forms_app.public import bp
from forms_app.public.space_access import applicant_required, signed_in_email
from forms_app.public.space_history import thread, timeline
from forms_app.storage_errors import ObjectNotFound
from workflows import states

FORMAT = 1  # of donnees.json: raised when a key changes meaning or goes away
NOUMEA = ZoneInfo("Pacific/Noumea")
SPOOL_BYTES = 8 * 1024 * 1024  # a larger archive is written to a temporary file
# Characters some systems refuse in a file name, besides the folders readable() drops.
UNSAFE_IN_NAMES = re.compile(r'[<>:"/\\|?*]')


@bp.get("/mon-espace/mes-donnees")
@applicant_required
def space_data():
    """Download everything Guichet holds for the signed-in address, as one ZIP."""
    email = signed_in_email()
    db = get_session()
    found = _submissions_of(email)
    archive = SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (the response closes it)
    try:
        with force_locale("fr"):  # the archive speaks French, whatever the page language
            counts = _write_archive(archive, email, found)
        # Each request and draft handed over says so in its own history; counts only.
        for submission in found:
            details = counts[submission.id]
            audit.record(db, submission, "data_exported", None, by=states.BY_APPLICANT, **details)
        db.commit()
    except BaseException:
        archive.close()
        raise
    size = archive.tell()
    archive.seek(0)
    today = datetime.now(NOUMEA).date().isoformat()
    response = send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"mes-donnees-guichet-{today}.zip",
        conditional=False,
        etag=False,
    )
    response.content_length = size
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _submissions_of(email: str) -> list[Submission]:
    """Every request and draft left with this address, oldest first."""
    return list(
        get_session().scalars(
            select(Submission)
            .where(Submission.applicant_email == email)
            .options(selectinload(Submission.form_version), selectinload(Submission.attachments))
            .order_by(Submission.created_at, Submission.id)
        )
    )


def _write_archive(archive: IO[bytes], email: str, found: list[Submission]) -> dict[int, dict]:
    """Write the ZIP; return, per submission id, the counts its audit event records."""
    generated = utcnow()
    records, counts, draft_number = [], {}, 0
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for submission in found:
            if submission.reference is None:
                draft_number += 1
            folder = f"fichiers/{submission.reference or f'brouillon-{draft_number}'}"
            record = _record(zipped, submission, folder)
            records.append(record)
            counts[submission.id] = {
                "messages": len(record["messages"]),
                "files": len(record["files"]) + sum(len(m["files"]) for m in record["messages"]),
                "receipt": record["receipt"] is not None,
            }
        access = get_session().get(ApplicantAccess, email)
        data = {
            "format": FORMAT,
            "generated_at": _iso(generated),
            "organisation": current_app.config["ORGANISATION_NAME"],
            "service": current_app.config["SERVICE_NAME"],
            "email": email,
            "signed_out_everywhere_at": _iso(access.revoked_at if access else None),
            "submissions": records,
        }
        zipped.writestr("donnees.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        readme = render_template(
            "public/space/data_readme.txt",
            email=email,
            generated=generated,
            contact_url=links.absolute("public.report_problem"),
            space_url=links.absolute("public.space_login"),
        )
        zipped.writestr("LISEZMOI.txt", readme)
    return counts


def _record(zipped: zipfile.ZipFile, submission: Submission, folder: str) -> dict[str, Any]:
    """One request or draft as donnees.json tells it; its files copied under `folder`."""
    version = submission.form_version
    definition = definitions.of_version(version)
    record = {
        "reference": submission.reference,
        "form_title": definition.title,
        "form_version": version.number,
        "state": submission.state,
        "state_label": str(states.label(submission.state)),
        "created_at": _iso(submission.created_at),
        "submitted_at": _iso(submission.submitted_at),
        "updated_at": _iso(submission.updated_at),
        "answers": _answers(definition, submission.answers),
        "raw_answers": submission.answers,
        "history": [
            {"date": _iso(event.created_at), "action": event.action, "label": str(label)}
            for event, label in timeline(submission)
        ],
        "files": [_file(zipped, a, folder) for a in submission.attachments if a.message_id is None],
        "messages": [
            {
                "author": message.author.value,
                "date": _iso(message.created_at),
                "body": message.body,
                "files": [_file(zipped, a, folder) for a in message.attachments],
            }
            for message in thread(submission)
        ],
        "receipt": None,
    }
    if submission.state == drafts.DRAFT:
        record["kept_until"] = _iso(submission.expires_at)
        values = submission.draft_data or {}
        record["draft_values"] = {k: v for k, v in values.items() if k not in drafts.SPECIAL}
    if submission.receipt_key:
        path = f"{folder}/{receipts.filename(submission)}"
        if _copy(zipped, submission.receipt_key, path):
            record["receipt"] = {"path": path, "sha256": submission.receipt_sha256}
    return record


def _answers(definition: definitions.FormDefinition, answers: dict) -> list[dict[str, Any]]:
    """The answers page by page, as the request page shows them."""
    return [
        {
            "page": page["title"],
            "fields": [
                {"key": key, "label": label, "value": _shown(value)}
                for label, value, key in page["rows"]
            ],
        }
        for page in display.summary(definition, answers)
    ]


def _shown(value: Any) -> Any:
    """A displayed value; a group's items become lists of {label, value}."""
    if isinstance(value, list):
        return [[{"label": label, "value": _shown(v)} for label, v in item] for item in value]
    return value


def _file(zipped: zipfile.ZipFile, attachment: Attachment, folder: str) -> dict[str, Any]:
    """Copy one file into the archive; describe it (no path if the store lost it)."""
    name = UNSAFE_IN_NAMES.sub("_", readable(attachment.original_name)) or DEFAULT_STEM
    path = f"{folder}/{attachment.id}-{name}"
    return {
        "name": attachment.original_name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "sent_at": _iso(attachment.created_at),
        "path": path if _copy(zipped, attachment.storage_key, path) else None,
    }


def _copy(zipped: zipfile.ZipFile, key: str, path: str) -> bool:
    """Store the file `key` at `path`, as it is (PDFs and images are compressed already)."""
    try:
        content = storage.read(key)
    except ObjectNotFound:  # the rest of the archive is still owed to the applicant
        current_app.logger.warning("stored file missing: %s", key)
        return False
    zipped.writestr(path, content, compress_type=zipfile.ZIP_STORED)
    return True


def _iso(moment: datetime | None) -> str | None:
    """An aware time as ISO 8601 in UTC ("2026-03-01T22:15:00Z")."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
