"""Deadline extensions: the platform's proposals, an admin's grants and declines, direct and
individual (force majeure) extensions. Admins act; agents read the list.
"""

from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import EmailField, HiddenField, SelectField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, ValidationError

from forms_app import extensions
from forms_app.builder.inputs import LocalDateTimeField
from forms_app.db import get_session, utcnow
from forms_app.extensions import ExtensionError
from forms_app.filters import local_time
from forms_app.models import DeadlineExtension, Event, ExtensionStatus, Form, FormStatus, Role
from forms_app.ops import bp
from forms_app.permissions import roles_required

READERS = (Role.ADMIN, Role.AGENT)
DECIDED_SHOWN = 100
REASON = [
    InputRequired(_l("Indiquez le motif de la prolongation.")),
    Length(max=1000, message=_l("Le motif ne doit pas dépasser 1 000 caractères.")),
]


def _chosen(form, field) -> None:
    if not field.data:
        raise ValidationError(_("Choisissez un formulaire."))


class GrantForm(FlaskForm):
    # The proposed date the admin saw: a proposal widened since is not granted unseen.
    expected = HiddenField()


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("Motif du refus"),
        render_kw={"rows": 2},
        validators=[
            InputRequired(_l("Indiquez le motif du refus.")),
            Length(max=1000, message=_l("Le motif ne doit pas dépasser 1 000 caractères.")),
        ],
    )


class ExtendForm(FlaskForm):
    form_id = SelectField(_l("Formulaire"), coerce=int, choices=[], validators=[_chosen])
    new_closes_at = LocalDateTimeField(
        _l("Nouvelle date limite"), validators=[InputRequired(_l("Indiquez la nouvelle date."))]
    )
    reason = TextAreaField(
        _l("Motif, affiché aux demandeurs"), render_kw={"rows": 2}, validators=REASON
    )


class ApplicantExtensionForm(FlaskForm):
    form_id = SelectField(_l("Formulaire"), coerce=int, choices=[], validators=[_chosen])
    email = EmailField(
        _l("Adresse e-mail du demandeur"),
        validators=[
            InputRequired(_l("Saisissez l’adresse e-mail du demandeur.")),
            Length(max=254, message=_l("L’adresse e-mail est trop longue.")),
            Email(_l("Saisissez une adresse e-mail valide, par exemple nom@exemple.nc.")),
        ],
    )
    until = LocalDateTimeField(
        _l("Délai accordé jusqu’au"), validators=[InputRequired(_l("Indiquez la date."))]
    )
    reason = TextAreaField(_l("Motif (force majeure)"), render_kw={"rows": 2}, validators=REASON)


@bp.get("/prolongations", endpoint="extensions")
@roles_required(*READERS)
def list_extensions():
    """List the proposals (with their outage window), then the decisions; forms to extend."""
    return _page()


@bp.post("/prolongations/<int:extension_id>/accorder")
@roles_required(Role.ADMIN)
def grant_extension(extension_id: int):
    """Grant a proposal as shown: move the deadline, announce it, e-mail the draft holders."""
    found = _get_or_404(extension_id)
    form = GrantForm()
    if not form.validate_on_submit():
        abort(400)
    if found.status is ExtensionStatus.PROPOSED and form.expected.data != _stamp(found):
        message = _("La proposition a changé depuis l’affichage de la page : vérifiez-la.")
        return _page(error=message, status=409)
    db = get_session()
    try:
        extensions.grant(db, found, current_user._get_current_object(), utcnow())
    except ExtensionError as error:
        db.rollback()
        return _page(error=str(error), status=error.status)
    db.commit()
    _flash_granted(found)
    return redirect(url_for("ops.extensions"))


@bp.post("/prolongations/<int:extension_id>/refuser")
@roles_required(Role.ADMIN)
def decline_extension(extension_id: int):
    """Decline a proposal with a reason; it is not proposed again for that outage."""
    found = _get_or_404(extension_id)
    form = DeclineForm(prefix=f"refus-{extension_id}")
    if not form.validate_on_submit():
        return _page(decline_forms={extension_id: form}, status=400)
    db = get_session()
    try:
        extensions.decline(db, found, current_user._get_current_object(), form.reason.data)
    except ExtensionError as error:
        db.rollback()
        return _page(error=str(error), status=error.status)
    db.commit()
    flash(_("Proposition de prolongation refusée."), "success")
    return redirect(url_for("ops.extensions"))


@bp.post("/prolongations/nouvelle")
@roles_required(Role.ADMIN)
def new_extension():
    """Extend a form's deadline directly, with a reason shown to applicants."""
    form = _choices(ExtendForm(prefix="prolonger"))
    if not form.validate_on_submit():
        return _page(extend_form=form, status=400)
    db = get_session()
    record = db.get(Form, form.form_id.data)
    try:
        made = extensions.extend(
            db,
            record,
            form.new_closes_at.parsed,
            form.reason.data,
            current_user._get_current_object(),
            utcnow(),
        )
    except ExtensionError as error:
        db.rollback()
        form.form_errors.append(str(error))
        return _page(extend_form=form, status=error.status)
    db.commit()
    _flash_granted(made)
    return redirect(url_for("ops.extensions"))


@bp.post("/prolongations/individuelle")
@roles_required(Role.ADMIN)
def extend_for_applicant():
    """Give one applicant more time to finish their drafts on a form (force majeure)."""
    form = _choices(ApplicantExtensionForm(prefix="individuel"))
    if not form.validate_on_submit():
        return _page(applicant_form=form, status=400)
    db = get_session()
    record = db.get(Form, form.form_id.data)
    try:
        extensions.extend_for_applicant(
            db,
            record,
            form.email.data,
            form.until.parsed,
            form.reason.data,
            current_user._get_current_object(),
            utcnow(),
        )
    except ExtensionError as error:
        db.rollback()
        form.form_errors.append(str(error))
        return _page(applicant_form=form, status=error.status)
    db.commit()
    flash(_("Délai individuel accordé ; le demandeur est prévenu par e-mail."), "success")
    return redirect(url_for("ops.extensions"))


def _page(*, error=None, extend_form=None, applicant_form=None, decline_forms=None, status=200):
    db = get_session()
    listed = select(DeadlineExtension).options(
        selectinload(DeadlineExtension.form),
        selectinload(DeadlineExtension.decided_by),
        selectinload(DeadlineExtension.proposed_by),
    )
    proposals = db.scalars(
        listed.where(DeadlineExtension.status == ExtensionStatus.PROPOSED).order_by(
            DeadlineExtension.proposed_at, DeadlineExtension.id
        )
    ).all()
    decided = db.scalars(
        listed.where(DeadlineExtension.status != ExtensionStatus.PROPOSED)
        .order_by(DeadlineExtension.decided_at.desc(), DeadlineExtension.id.desc())
        .limit(DECIDED_SHOWN)
    ).all()
    refusals = {
        event.details.get("extension_id"): event.details.get("reason")
        for event in db.scalars(
            select(Event).where(
                Event.subject_type == Form.__tablename__,
                Event.subject_id.in_({item.form_id for item in decided}),
                Event.action == "extension_declined",
            )
        )
    }
    decline_forms = decline_forms or {}
    for proposal in proposals:
        decline_forms.setdefault(
            proposal.id, DeclineForm(prefix=f"refus-{proposal.id}", formdata=None)
        )
    page = render_template(
        "ops/extensions.html",
        proposals=proposals,
        decided=decided,
        refusals=refusals,
        error=error,
        can_act=current_user.has_role(Role.ADMIN),
        grant_form=GrantForm(formdata=None),
        decline_forms=decline_forms,
        extend_form=extend_form or _choices(ExtendForm(prefix="prolonger", formdata=None)),
        applicant_form=applicant_form
        or _choices(ApplicantExtensionForm(prefix="individuel", formdata=None)),
        stamp=_stamp,
    )
    return page, status


def _choices(form):
    """Offer the published forms that have a closing date; dates in the configured zone."""
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    records = get_session().scalars(
        select(Form)
        .where(Form.status == FormStatus.PUBLISHED, Form.closes_at.is_not(None))
        .order_by(Form.closes_at, Form.id)
    )
    form.form_id.choices = [(0, _("Choisissez un formulaire"))] + [
        (
            r.id,
            _("%(title)s (clôture : %(date)s)", title=r.title, date=local_time(r.closes_at, zone)),
        )
        for r in records
    ]
    for name in ("new_closes_at", "until"):
        if name in form:
            form[name].zone = ZoneInfo(zone)
    return form


def _stamp(extension: DeadlineExtension) -> str:
    return extension.new_closes_at.isoformat()


def _flash_granted(extension: DeadlineExtension) -> None:
    if not extension.notified_count:
        flash(_("Date limite prolongée ; aucun brouillon en cours."), "success")
        return
    flash(
        ngettext(
            "Date limite prolongée ; %(num)s détenteur de brouillon est prévenu par e-mail.",
            "Date limite prolongée ; %(num)s détenteurs de brouillons sont prévenus par e-mail.",
            extension.notified_count,
        ),
        "success",
    )


def _get_or_404(extension_id: int) -> DeadlineExtension:
    found = get_session().get(DeadlineExtension, extension_id)
    if found is None or found.applicant_email is not None:
        abort(404)
    return found
