"""The app the intake benchmark serves with gunicorn: the product app plus a bare endpoint.

    gunicorn --chdir bench 'intake_app:create_app()'

`/bench/bare` is the baseline of bench/intake.py and exists only here, never in the product
app: it receives the flat fields of every page of a form as one POST, builds the same WTForms
class from the same definition (forms_app.formdefs.wtform), validates it (CSRF included),
inserts ONE row into `bench_intake` and answers 303. The definition is read once per process.
The form's files are taken as already stored, as a draft's are when it is submitted.

`/bench/floor` is the least any final submit of a draft must do by Guichet's own rules, written
by hand with no ORM: read the draft bound to the session and its files FOR UPDATE (one
statement), validate the same WTForms class on its values (CSRF included), then one statement
taking the reference number and writing the submission's state, reference and answers, its
audit event and its two jobs; commit; push the jobs to RQ; remember the reference in the
session; 303. It skips what the product adds beyond that (the form's rules, the search text,
the opening dates, replays): the product's submit can come close to the floor, not pass it.
"""

import json
from datetime import UTC, datetime

from flask import Blueprint, Flask, abort, current_app, redirect, session
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, select, text
from werkzeug.datastructures import MultiDict

from forms_app import create_app as create_product_app
from forms_app import drafts
from forms_app.db import get_session, utcnow
from forms_app.formdefs import definition as definitions
from forms_app.formdefs.fields import UploadField
from forms_app.formdefs.wtform import form_class
from forms_app.models import Form
from forms_app.models.form import JSONType
from forms_app.public.views import RECEIPT_KEY
from forms_app.security import csrf, csrf_valid
from workflows import outbox

SLUG = "aide-entreprises-covid"
KEPT_FILE = {"name": "piece.pdf", "size": 1024, "sha256": "0" * 64}

metadata = MetaData()
bench_intake = Table(
    "bench_intake",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("answers", JSONType, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

bp = Blueprint("bench", __name__, url_prefix="/bench")
_definition: dict = {}


def create_app() -> Flask:
    """The product app (configured from the environment) with the bench blueprint."""
    app = create_product_app()
    app.register_blueprint(bp)
    return app


def _pinned():
    """(version sha256, definition) of the form, read once per process."""
    if not _definition:
        form = get_session().scalar(select(Form).where(Form.slug == SLUG))
        version = form.current_version
        _definition.update(sha256=version.sha256, definition=definitions.of_version(version))
    return _definition["sha256"], _definition["definition"]


@csrf.exempt
@bp.post("/bare")
def bare():
    """Validate the posted fields of every page (CSRF included), insert one row, 303."""
    sha256, definition = _pinned()
    web_form = form_class(definition, sha256)()
    for field in web_form:
        if isinstance(field, UploadField):
            field.kept = [KEPT_FILE]
    if not web_form.validate():
        abort(400)
    session = get_session()
    session.execute(
        bench_intake.insert().values(
            answers=web_form.answers, created_at=datetime.now(UTC).replace(tzinfo=None)
        )
    )
    session.commit()
    return redirect(f"/demarches/{SLUG}/merci", code=303)


FLOOR_READ = text(
    "SELECT s.state, s.draft_data, (SELECT coalesce(json_agg(json_build_object("
    "'key', a.field_key, 'name', a.original_name, 'size', a.size, 'sha256', a.sha256)), '[]') "
    "FROM attachment a WHERE a.submission_id = s.id) AS files "
    "FROM submission s WHERE s.id = :id FOR UPDATE OF s"
)
FLOOR_WRITE = text(
    "WITH counter AS (INSERT INTO reference_counter (prefix, year, last_value) "
    "VALUES (:prefix, :year, 1) ON CONFLICT (prefix, year) DO UPDATE "
    "SET last_value = reference_counter.last_value + 1 RETURNING last_value), "
    "changed AS (UPDATE submission SET state = 'submitted', "
    "reference = :prefix || '-' || :year || '-' || lpad(counter.last_value::text, 6, '0'), "
    "answers = CAST(:answers AS jsonb), submitted_at = :now, last_activity_at = :now, "
    "draft_data = NULL, resume_token_hash = NULL, expires_at = NULL, revision = revision + 1 "
    "FROM counter WHERE submission.id = :id AND submission.state = 'draft' "
    "RETURNING submission.id, submission.reference), "
    "audited AS (INSERT INTO event (subject_type, subject_id, action, from_state, to_state, "
    "details, created_at) SELECT 'submission', id, 'submit', 'draft', 'submitted', "
    '\'{"by": "applicant"}\', :now FROM changed), '
    "jobs AS (INSERT INTO outbox_message (job, args, status, attempts, created_at, "
    "next_attempt_at, enqueued_at) SELECT job, jsonb_build_object('submission_id', changed.id), "
    "'enqueued', 0, :now, :now, :now FROM changed, unnest(CAST(:jobs AS text[])) AS job "
    "RETURNING id, job) "
    "SELECT jobs.id, jobs.job, changed.reference FROM jobs, changed"
)


@csrf.exempt
@bp.post("/floor")
def floor():
    """Submit the session's draft doing no more than Guichet requires (see the module)."""
    sha256, definition = _pinned()
    draft_id = session.get("drafts", {}).get(SLUG)
    db = get_session()
    row = db.execute(FLOOR_READ, {"id": draft_id}).one_or_none()
    if row is None or row.state != "draft" or not csrf_valid():
        abort(409)
    data = MultiDict(
        [(k, v) for k, values in row.draft_data.items() if k not in drafts.SPECIAL for v in values]
    )
    web_form = form_class(definition, sha256)(formdata=data, meta={"csrf": False})
    files: dict[str, list] = {}
    for item in row.files:
        files.setdefault(item.pop("key"), []).append(item)
    for field in web_form:
        if isinstance(field, UploadField):
            field.kept = files.get(field.name, [])
    if not web_form.validate():
        abort(400)
    now = utcnow()
    written = db.execute(
        FLOOR_WRITE,
        {
            "prefix": definition.settings["reference_prefix"],
            "year": now.year,
            "id": draft_id,
            "now": now,
            "answers": json.dumps(web_form.answers),
            "jobs": ["send_receipt", "check_submission"],
        },
    ).all()
    db.commit()
    outbox.push(current_app, [(r.id, r.job) for r in written])
    session[RECEIPT_KEY] = written[0].reference
    return redirect(f"/demarches/{SLUG}/merci", code=303)
