"""Requests to work in the back-office tests: a published case form, staff, actions."""

import hashlib
import struct
import zlib

from sqlalchemy import select

from forms_app.db import get_session
from forms_app.formdefs.files import CheckedFile
from forms_app.models import Event, Role, Submission, User
from tests.support import make_user, publish_form, sign_in, submit_directly


def _png() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = _png()
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
FIELDS = [
    {"key": "nom", "type": "text", "label": "Raison sociale", "required": True},
    {"key": "courriel", "type": "email", "label": "Adresse e-mail", "required": True},
    {"key": "montant", "type": "amount", "label": "Montant sollicité", "required": True},
    {"key": "pieces", "type": "file", "label": "Justificatifs", "accept": ["pdf", "png"]},
]
SETTINGS = {
    "reference_prefix": "AIDE",
    "budget_envelope": 5_000_000,
    "approval_threshold": 1_500_000,
}
AGENT, AGENT2, APPROVER, APPROVER2 = (
    "agent@example.nc",
    "agent2@example.nc",
    "valideur@example.nc",
    "valideur2@example.nc",
)
FINANCE, ADMIN, DESIGNER = "finances@example.nc", "admin@example.nc", "concepteur@example.nc"


def publish_case_form(app, **settings) -> None:
    publish_form(
        app,
        FIELDS,
        slug="aide",
        settings={**SETTINGS, **settings},
        rules={"amount": {"expression": "montant", "cap": 5_000_000}},
    )


def _checked(name: str, content_type: str, content: bytes) -> CheckedFile:
    return CheckedFile(
        name, content_type, len(content), hashlib.sha256(content).hexdigest(), content
    )


def make_request(app, *, name="SARL Le Lagon Bleu", amount=300_000, files=False) -> str:
    """Submit a request through the real submission code; return its reference."""
    answers = {"nom": name, "courriel": "gerant@lagon-bleu.nc", "montant": amount}
    if files:
        answers["pieces"] = [
            _checked("facture.png", "image/png", PNG),
            _checked("devis.pdf", "application/pdf", PDF),
        ]
    return submit_directly(app, "aide", answers)


def staff(app, email: str, *roles: Role):
    """A signed-in test client for a new staff member holding `roles`."""
    make_user(app, *roles, email=email)
    client = app.test_client()
    response = sign_in(client, email)
    assert response.status_code == 302 and "/connexion" not in response.headers["Location"]
    return client


def load(app, reference: str) -> Submission:
    with app.app_context():
        return get_session().scalar(select(Submission).where(Submission.reference == reference))


def run(app, reference: str, email: str, action, *args, **kwargs):
    """Apply a casework function as `email`, at the request's current revision, and commit."""
    with app.test_request_context():
        db = get_session()
        found = db.scalar(select(Submission).where(Submission.reference == reference))
        user = db.scalar(select(User).where(User.email == email))
        result = action(db, found, user, found.revision, *args, **kwargs)
        db.commit()
        return result


def events(app, reference: str) -> list[str]:
    found = load(app, reference)
    with app.app_context():
        return list(
            get_session().scalars(
                select(Event.action)
                .where(Event.subject_type == "submission", Event.subject_id == found.id)
                .order_by(Event.id)
            )
        )


def post(client, reference: str, action: str, revision: int, **fields):
    data = {f"{action}-revision": revision, **{f"{action}-{k}": v for k, v in fields.items()}}
    return client.post(f"/agents/demandes/{reference}/traitement/{action}", data=data)


def snapshot(app, reference: str) -> tuple:
    found = load(app, reference)
    return (
        found.state,
        found.revision,
        found.assignee_id,
        found.proposal,
        found.proposed_amount,
        len(events(app, reference)),
    )
