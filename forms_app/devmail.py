"""Development only: read the e-mails the "file" backend wrote, at /dev/courriels.

The blueprint is registered only outside production and with MAIL_BACKEND == "file"; each
request checks that again. Only names the backend itself writes (32 hex digits and ".eml")
are opened, so no request can reach another file. Developer tool: its pages are not
translated.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parsedate_to_datetime
from io import BytesIO
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, render_template, send_file
from markupsafe import Markup, escape

bp = Blueprint("devmail", __name__, url_prefix="/dev/courriels")

NAME = re.compile(r"^[0-9a-f]{32}\.eml$")
# A URL runs to the first blank or quote; trailing punctuation belongs to the sentence.
_URL = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?)]}»"


def enabled(config) -> bool:
    """The page exists in development and tests, when e-mails are written to files."""
    return config["ENV"] != "production" and config["MAIL_BACKEND"] == "file"


def init_app(app: Flask) -> None:
    if enabled(app.config):
        app.register_blueprint(bp)


@bp.before_request
def _only_when_enabled():
    if not enabled(current_app.config):
        abort(404)


@dataclass(frozen=True)
class MailSummary:
    name: str
    date: datetime | None
    to: str
    subject: str


def _mail_dir() -> Path:
    return Path(current_app.config["MAIL_DIR"])


def _date(value: str | None) -> datetime | None:
    """The Date header as an aware datetime ("-0000", as the backend writes it, is UTC)."""
    try:
        date = parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
    return date.replace(tzinfo=UTC) if date is not None and date.tzinfo is None else date


def list_mails() -> list[MailSummary]:
    """Every e-mail in MAIL_DIR, newest first (Date header, then file time)."""
    directory = _mail_dir()
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        if not NAME.match(path.name) or not path.is_file():
            continue
        with path.open("rb") as handle:
            headers = BytesHeaderParser(policy=policy.default).parse(handle)
        date = _date(headers["Date"])
        stamp = date.timestamp() if date is not None else 0.0
        summary = MailSummary(
            path.name, date, str(headers["To"] or ""), str(headers["Subject"] or "")
        )
        found.append(((stamp, path.stat().st_mtime_ns), summary))
    found.sort(key=lambda item: item[0], reverse=True)
    return [summary for _key, summary in found]


def _load(name: str) -> EmailMessage:
    if not NAME.match(name):
        abort(404)
    path = _mail_dir() / name
    if not path.is_file():
        abort(404)
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def linkify(text: str) -> Markup:
    """Escape plain text and turn the http(s) URLs in it into links."""
    parts = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        parts.append(escape(text[position : match.start()]))
        parts.append(Markup('<a href="{0}">{0}</a>').format(url))
        position = match.start() + len(url)
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


def breakable(text: str) -> Markup:
    """Escape text and allow line breaks after dots, @ and slashes (long ids on phones)."""
    return Markup("").join(
        Markup("{}<wbr>").format(piece) if piece in "./@" else escape(piece)
        for piece in re.split(r"([./@])", text)
        if piece
    )


def _text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


@bp.get("/")
def index():
    """The e-mails written by the file backend, newest first."""
    return render_template(
        "dev/mail_list.html", mails=list_mails(), mail_dir=_mail_dir(), breakable=breakable
    )


@bp.get("/<name>")
def show(name: str):
    """One e-mail: headers, plain-text body with clickable links, attachments."""
    message = _load(name)
    headers = [
        (label, breakable(str(message[key])))
        for label, key in (
            ("De", "From"),
            ("À", "To"),
            ("Répondre à", "Reply-To"),
            ("Objet", "Subject"),
            ("Date", "Date"),
            ("Message-ID", "Message-ID"),
        )
        if message[key] is not None
    ]
    attachments = [
        {
            "index": index,
            "filename": part.get_filename() or f"piece-{index}",
            "content_type": part.get_content_type(),
            "size": len(part.get_payload(decode=True) or b""),
        }
        for index, part in enumerate(message.iter_attachments())
    ]
    return render_template(
        "dev/mail_show.html",
        name=name,
        subject=str(message["Subject"] or ""),
        date=_date(message["Date"]),
        headers=headers,
        body=linkify(_text_body(message)),
        attachments=attachments,
    )


@bp.get("/<name>/pieces/<int:index>")
def attachment(name: str, index: int):
    """Download one attached file, by its position among the attachments."""
    parts = list(_load(name).iter_attachments())
    if index >= len(parts):
        abort(404)
    part = parts[index]
    return send_file(
        BytesIO(part.get_payload(decode=True) or b""),
        mimetype=part.get_content_type(),
        as_attachment=True,
        download_name=part.get_filename() or f"piece-{index}",
    )
