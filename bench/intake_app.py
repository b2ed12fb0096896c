"""The app the intake benchmark serves with gunicorn: the product app plus a bare endpoint.

    gunicorn --chdir bench 'intake_app:create_app()'

`/bench/bare` is the baseline of bench/intake.py and exists only here, never in the product
app: it receives the flat fields of every page of a form as one POST, builds the same WTForms
class from the same definition (forms_app.formdefs.wtform), validates it (CSRF included),
inserts ONE row into `bench_intake` and answers 303. The definition is read once per process.
The form's files are taken as already stored, as a draft's are when it is submitted.
"""

from datetime import UTC, datetime

from flask import Blueprint, Flask, abort, redirect
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, select

from forms_app import create_app as create_product_app
from forms_app.db import get_session
from forms_app.formdefs import definition as definitions
from forms_app.formdefs.fields import UploadField
from forms_app.formdefs.wtform import form_class
from forms_app.models import Form
from forms_app.models.form import JSONType
from forms_app.security import csrf

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
