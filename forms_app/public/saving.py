"""Save a draft and come back later, from any device, through a link sent by e-mail."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import Email, InputRequired, Length

from forms_app import drafts
from forms_app.db import get_session, utcnow
from forms_app.draft_notices import send_resume_link
from forms_app.limiter import limit_from_config
from forms_app.public import bp
from forms_app.public.filling_state import Filling, bind, form_and_draft
from forms_app.public.lookup import published_form
from forms_app.public.space_access import open_space


class SaveForm(FlaskForm):
    email = EmailField(
        "Adresse e-mail",
        validators=[
            InputRequired("Saisissez votre adresse e-mail."),
            Length(max=254, message="L’adresse e-mail est trop longue."),
            Email("Saisissez une adresse e-mail valide, par exemple nom@exemple.nc."),
        ],
    )


@bp.route("/demarches/<slug>/enregistrer", methods=["GET", "POST"])
@limit_from_config("MAGIC_LINK_RATE_LIMIT")
def save_for_later(slug: str):
    """Send the applicant a link to their draft; the draft is already saved."""
    db = get_session()
    form, draft = form_and_draft(db, slug)
    if draft is None:
        return redirect(url_for("public.fill", slug=slug))
    save_form = SaveForm(data={"email": draft.applicant_email})
    if save_form.validate_on_submit():
        drafts.leave_address(draft, save_form.email.data.strip().lower())
        send_resume_link(db, draft, reason="saved")
        db.commit()
        return render_template(
            "public/saved.html", form=form, email=draft.applicant_email, draft=draft
        )
    status = 400 if save_form.errors else 200
    return render_template("public/save.html", form=form, save_form=save_form, draft=draft), status


@bp.get("/demarches/<slug>/reprendre/<token>")
def resume(slug: str, token: str):
    """Open a draft from its e-mailed link, on any device."""
    form = published_form(slug)
    db = get_session()
    found = drafts.from_resume_token(db, token)
    if found is None or found.form_id != form.id:
        return render_template("public/resume_invalid.html", form=form), 400
    if found.state != drafts.DRAFT:
        return render_template("public/already_submitted.html", form=form, submission=found)
    if found.expires_at is not None and found.expires_at <= utcnow():
        return render_template("public/resume_invalid.html", form=form), 400
    bind(found, form)
    if found.applicant_email:
        open_space(found.applicant_email)
    flash(_("Votre brouillon est retrouvé : vous pouvez continuer."), "success")
    return redirect(Filling.of(form, found).resume_point())
