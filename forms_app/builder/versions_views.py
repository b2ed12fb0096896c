"""Builder views for published versions: history and what changed between two of them."""

from flask import abort, render_template
from flask_babel import gettext as _

from forms_app import publishing
from forms_app.builder import bp
from forms_app.builder.views import DESIGN_ROLES, get_form_or_404
from forms_app.permissions import roles_required


@bp.get("/<slug>/versions")
@roles_required(*DESIGN_ROLES)
def versions(slug: str):
    """List the published versions, newest first."""
    record = get_form_or_404(slug)
    return render_template(
        "builder/versions.html", record=record, versions=list(reversed(record.versions))
    )


@bp.get("/<slug>/versions/<int:number>")
@roles_required(*DESIGN_ROLES)
def version_diff(slug: str, number: int):
    """Compare a version with the one before it."""
    record = get_form_or_404(slug)
    by_number = {version.number: version for version in record.versions}
    version = by_number.get(number)
    if version is None:
        abort(404)
    previous = by_number.get(number - 1)
    return render_template(
        "builder/diff.html",
        record=record,
        heading=_("Version %(number)d", number=number),
        version=version,
        previous=previous,
        diff=publishing.version_diff(previous.definition if previous else None, version.definition),
    )


@bp.get("/<slug>/modifications")
@roles_required(*DESIGN_ROLES)
def draft_diff(slug: str):
    """Compare the draft with the version applicants see now."""
    record = get_form_or_404(slug)
    current = record.current_version
    return render_template(
        "builder/diff.html",
        record=record,
        heading=_("Modifications du brouillon"),
        version=None,
        previous=current,
        diff=publishing.version_diff(current.definition if current else None, record.draft),
    )
