"""Files sent by applicants, downloaded by staff; never served from anywhere else."""

from flask import abort

from forms_app import storage
from forms_app.backoffice import bp
from forms_app.backoffice.views import CASE_ROLES
from forms_app.db import get_session
from forms_app.models import Attachment
from forms_app.permissions import roles_required
from forms_app.submissions import get_by_reference


@bp.get("/demandes/<reference>/pieces/<int:attachment_id>")
@roles_required(*CASE_ROLES)
def attachment(reference: str, attachment_id: int):
    """Download a file of a request, as an attachment (never shown inline)."""
    db = get_session()
    found = get_by_reference(db, reference)
    item = db.get(Attachment, attachment_id)
    if found is None or item is None or item.submission_id != found.id:
        abort(404)
    return storage.send(
        item.storage_key,
        mimetype=item.content_type,
        as_attachment=True,
        download_name=item.original_name,
    )
