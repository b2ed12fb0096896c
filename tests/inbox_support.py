"""Builders for the inbox and export tests: a form and requests written straight to the DB."""

from datetime import timedelta
from itertools import count

from sqlalchemy import event, select

from forms_app import search
from forms_app.db import get_db, get_session, utcnow
from forms_app.formdefs import definition as definitions
from forms_app.models import Flag, Form, Submission
from tests.support import publish_form

FIELDS = [
    {"key": "raison_sociale", "type": "text", "label": "Raison sociale", "required": True},
    {"key": "ridet", "type": "ridet", "label": "Numéro RIDET"},
    {"key": "email", "type": "email", "label": "Adresse e-mail"},
    {"key": "ca", "type": "amount", "label": "Chiffre d’affaires"},
    {"key": "secteur", "type": "choice", "label": "Secteur",
     "choices": [{"value": "btp", "label": "Bâtiment"}, {"value": "tourisme", "label": "Tourisme"}]},
    {"key": "membres", "type": "group", "label": "Associés", "item_label": "associé",
     "fields": [{"key": "nom", "type": "text", "label": "Nom"},
                {"key": "age", "type": "integer", "label": "Âge"}]},
]  # fmt: skip
SLUG = "aide-essai"
_numbers = count(1)


def publish(app, slug: str = SLUG) -> int:
    """Publish the test form and return its id."""
    publish_form(app, FIELDS, slug=slug, settings={"reference_prefix": "AIDE"})
    with app.app_context():
        return get_session().scalar(select(Form.id).where(Form.slug == slug))


def add_request(
    app,
    form_id: int,
    *,
    name: str = "Société Exemple",
    state: str = "submitted",
    priority: int | None = 2,
    age_days: float = 1,
    amount: int | None = 100_000,
    email: str | None = None,
    ridet: str = "1234567001",
    assignee_id: int | None = None,
    flags: tuple[str, ...] = (),
    idle_days: float = 0,
    members: list | None = None,
) -> str:
    """Write one request as a submission would leave it; return its reference."""
    number = next(_numbers)
    email = email or f"demandeur{number}@example.nc"
    answers = {"raison_sociale": name, "ridet": ridet, "email": email, "ca": 2_500_000,
               "secteur": "btp", "membres": members or [{"nom": "Wamytan", "age": 40}]}  # fmt: skip
    with app.app_context():
        session = get_session()
        form = session.get(Form, form_id)
        version = form.current_version
        definition = definitions.of_version(version)
        now = utcnow()
        is_draft = state == "draft"
        reference = None if is_draft else f"AIDE-2026-{number:06d}"
        submission = Submission(
            form_id=form_id,
            form_version_id=version.id,
            state=state,
            reference=reference,
            answers={} if is_draft else answers,
            computed_amount=amount,
            priority=priority,
            applicant_email=email,
            submitted_at=None if is_draft else now - timedelta(days=age_days),
            last_activity_at=now - timedelta(days=idle_days),
            assignee_id=assignee_id,
            search_text=None
            if is_draft
            else search.search_text(definition, answers, reference, email),
        )
        session.add(submission)
        session.flush()
        for kind in flags:
            session.add(Flag(submission_id=submission.id, kind=kind, key=kind, message=kind))
        session.commit()
        return reference or f"draft-{submission.id}"


class StatementCounter:
    """Counts the SQL statements an engine executes while it is active."""

    def __init__(self, app):
        self.engine = get_db(app).engine
        self.count = 0

    def _seen(self, *_args, **_kwargs):
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)
