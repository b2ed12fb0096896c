"""Announcements in the ops area: the list (current, scheduled, past), publishing, ending.

Administrators publish and end announcements; agents read the list.
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from forms_app import announcements
from forms_app.announcements import AnnouncementError
from forms_app.builder.inputs import LocalDateTimeField
from forms_app.db import get_session, utcnow
from forms_app.models import Announcement, AnnouncementLevel, Role
from forms_app.ops import bp
from forms_app.ops.choices import OneOfChoices, offer_forms
from forms_app.permissions import roles_required

READERS = (Role.ADMIN, Role.AGENT)
LISTED_DAYS = 365  # past announcements on the ops list
EVERY_FORM = "tous"


class AnnouncementForm(FlaskForm):
    level = RadioField(
        _l("Niveau"),
        choices=[
            SelectChoice(level.value, label) for level, label in announcements.LEVEL_LABELS.items()
        ],
        default=AnnouncementLevel.INFO.value,
        validate_choice=False,
        validators=[OneOfChoices(_l("Choisissez le niveau de l’annonce."))],
    )
    message = TextAreaField(
        _l("Message"),
        render_kw={"rows": 4},
        validators=[
            DataRequired(_l("Saisissez le message de l’annonce.")),
            Length(
                max=announcements.MAX_MESSAGE,
                message=_l("Le message ne doit pas dépasser 2 000 caractères."),
            ),
        ],
    )
    form_id = SelectField(
        _l("Pages concernées"),
        choices=[],
        validate_choice=False,
        validators=[OneOfChoices(_l("Choisissez toutes les pages ou une démarche de la liste."))],
    )
    starts_at = LocalDateTimeField(_l("Début"))
    ends_at = LocalDateTimeField(_l("Fin (facultatif)"))


class EndForm(FlaskForm):
    """Only the CSRF token: ending takes no input."""


@bp.get("/annonces", endpoint="announcements")
@roles_required(*READERS)
def list_announcements():
    """List the announcements running now, those scheduled, and past ones."""
    return _list_page()


@bp.route("/annonces/nouvelle", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_announcement():
    """Publish an announcement: level, message, every page or one form's, start and end."""
    form = _with_forms(AnnouncementForm())
    if not form.is_submitted():
        form.starts_at.data = utcnow().replace(second=0, microsecond=0)
        return _form_page(form)
    if not form.validate():
        return _form_page(form, 400)
    db = get_session()
    try:
        announcements.publish(
            db,
            level=form.level.data,
            message=form.message.data,
            starts_at=form.starts_at.parsed or utcnow(),
            ends_at=form.ends_at.parsed,
            form_id=None if form.form_id.data == EVERY_FORM else int(form.form_id.data),
            actor=current_user._get_current_object(),
        )
    except AnnouncementError as error:
        db.rollback()
        field = getattr(form, error.field or "", None)
        if field is not None:
            field.errors = [*field.errors, str(error)]
        else:
            form.form_errors.append(str(error))
        return _form_page(form, error.status)
    db.commit()
    flash(_("Annonce publiée."), "success")
    return redirect(url_for("ops.announcements"))


@bp.post("/annonces/<int:announcement_id>/fin")
@roles_required(Role.ADMIN)
def end_announcement(announcement_id: int):
    """End a running announcement now, or withdraw a scheduled one."""
    db = get_session()
    found = db.get(Announcement, announcement_id)
    if found is None:
        abort(404)
    if not EndForm().validate_on_submit():
        abort(400)
    try:
        announcements.end(db, found, current_user._get_current_object(), utcnow())
    except AnnouncementError as error:
        db.rollback()
        return _list_page(error=str(error), status=error.status)
    db.commit()
    flash(_("Annonce terminée : elle n’est plus affichée."), "success")
    return redirect(url_for("ops.announcements"))


def _list_page(error: str | None = None, status: int = 200):
    found = announcements.history(get_session(), utcnow(), days=LISTED_DAYS)
    page = render_template(
        "ops/announcements.html",
        history=found,
        listed_days=LISTED_DAYS,
        error=error,
        can_change=current_user.has_role(Role.ADMIN),
        level_label=announcements.level_label,
        form_title=announcements.form_title,
        period=announcements.period,
    )
    return page, status


def _form_page(form: AnnouncementForm, status: int = 200):
    return render_template("ops/announcement_new.html", form=form), status


def _with_forms(form: AnnouncementForm) -> AnnouncementForm:
    """Offer every page, or the pages of one form that is not archived."""
    offer_forms(form.form_id, SelectChoice(EVERY_FORM, _("Toutes les pages du site")))
    return form
