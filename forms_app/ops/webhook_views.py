"""Webhooks in the ops area, for administrators: the subscriptions, a new one (its secret shown
once), switching one off and on, the delivery log and redelivery (forms_app.webhook_subscriptions).
"""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from forms_app import webhook_subscriptions as subscriptions
from forms_app.builder.inputs import CheckboxListField
from forms_app.db import get_session
from forms_app.models import (
    DeliveryStatus,
    Role,
    WebhookDelivery,
    WebhookSubscription,
)
from forms_app.ops import bp
from forms_app.ops.choices import OneOfChoices, offer_forms
from forms_app.permissions import roles_required
from forms_app.webhooks import EVENT_TYPES

EVERY_FORM = "toutes"


class WebhookForm(FlaskForm):
    name = StringField(
        _l("Nom"),
        validators=[
            DataRequired(_l("Saisissez un nom, par exemple celui du système qui reçoit.")),
            Length(max=100, message=_l("Le nom ne doit pas dépasser 100 caractères.")),
        ],
    )
    url = StringField(
        _l("Adresse de réception"),
        validators=[DataRequired(_l("Saisissez l’adresse de réception."))],
    )
    form_id = SelectField(
        _l("Démarche"),
        choices=[],
        validate_choice=False,
        validators=[OneOfChoices(_l("Choisissez toutes les démarches ou l’une de la liste."))],
    )
    event_types = CheckboxListField(
        _l("Événements"),
        choices=lambda: [(name, subscriptions.event_label(name)) for name in EVENT_TYPES],
        validators=[DataRequired(_l("Choisissez au moins un événement."))],
    )


class ActiveForm(FlaskForm):
    active = HiddenField()


class RedeliverForm(FlaskForm):
    """Only the CSRF token: a redelivery takes no input but the delivery in the URL."""


@bp.get("/webhooks", endpoint="webhooks")
@roles_required(Role.ADMIN)
def list_webhooks():
    """The subscriptions, active first, with their failed deliveries."""
    session = get_session()
    found = session.scalars(
        select(WebhookSubscription)
        .options(
            selectinload(WebhookSubscription.form), selectinload(WebhookSubscription.created_by)
        )
        .order_by(
            WebhookSubscription.active.desc(), WebhookSubscription.name, WebhookSubscription.id
        )
    ).all()
    failed = dict(
        session.execute(
            select(WebhookDelivery.subscription_id, func.count())
            .where(WebhookDelivery.status == DeliveryStatus.FAILED)
            .group_by(WebhookDelivery.subscription_id)
        ).all()
    )
    return render_template(
        "ops/webhooks.html",
        subscriptions=found,
        failed=failed,
        event_label=subscriptions.event_label,
        active_form=ActiveForm(formdata=None),
    )


@bp.route("/webhooks/nouveau", methods=["GET", "POST"], endpoint="new_webhook")
@roles_required(Role.ADMIN)
def new_webhook():
    """Subscribe another system's URL; its signing secret is shown on the next page, once."""
    form = _with_forms(WebhookForm())
    if not form.validate_on_submit():
        return _form_page(form, 400 if form.errors else 200)
    url = form.url.data.strip()
    problem = subscriptions.url_problem(url, current_app.config["ENV"] == "production")
    if problem is not None:
        form.url.errors = [*form.url.errors, problem]
        return _form_page(form, 400)
    session = get_session()
    subscription, secret = subscriptions.create(
        session,
        current_user._get_current_object(),
        name=form.name.data.strip(),
        url=url,
        form_id=None if form.form_id.data == EVERY_FORM else int(form.form_id.data),
        event_types=form.event_types.data,
    )
    session.commit()
    page = render_template(
        "ops/webhook_created.html",
        subscription=subscription,
        secret=secret,
        event_label=subscriptions.event_label,
    )
    return page, 201, {"Cache-Control": "private, no-store"}


@bp.post("/webhooks/<int:subscription_id>/etat", endpoint="webhook_active")
@roles_required(Role.ADMIN)
def change_active(subscription_id: int):
    """Switch a subscription off (nothing more is sent, not even what waits) or back on."""
    session = get_session()
    subscription = _found(WebhookSubscription, subscription_id)
    form = ActiveForm()
    if not form.validate_on_submit() or form.active.data not in ("0", "1"):
        abort(400)
    active = form.active.data == "1"
    subscriptions.set_active(session, current_user._get_current_object(), subscription, active)
    session.commit()
    if active:
        flash(_("L’abonnement « %(name)s » est réactivé.", name=subscription.name), "success")
    else:
        flash(_("L’abonnement « %(name)s » est désactivé.", name=subscription.name), "success")
    return redirect(url_for("ops.webhooks"))


@bp.get("/webhooks/livraisons", endpoint="webhook_deliveries")
@roles_required(Role.ADMIN)
def list_deliveries():
    """The delivery log, newest first, by subscription and status, 50 a page."""
    return _deliveries_page()


@bp.post("/webhooks/livraisons/<int:delivery_id>/relivrer", endpoint="redeliver_webhook")
@roles_required(Role.ADMIN)
def redeliver(delivery_id: int):
    """Send a delivered or failed delivery again: same body, same id (receivers dedupe on it)."""
    session = get_session()
    delivery = _found(WebhookDelivery, delivery_id)
    if not RedeliverForm().validate_on_submit():
        abort(400)
    try:
        subscriptions.redeliver(session, current_user._get_current_object(), delivery)
    except subscriptions.WebhookError as error:
        session.rollback()
        return _deliveries_page(refusal=str(error)), 409
    session.commit()
    flash(_("La livraison n° %(id)s va être envoyée à nouveau.", id=delivery_id), "success")
    return redirect(url_for("ops.webhook_deliveries", abonnement=delivery.subscription_id))


def _deliveries_page(refusal: str | None = None) -> str:
    session = get_session()
    listed = session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.name)).all()
    chosen = _number(request.args.get("abonnement", ""))
    status = request.args.get("statut", "")
    status = DeliveryStatus(status) if status in set(DeliveryStatus) else None
    before = _number(request.args.get("avant", ""))
    page = subscriptions.deliveries(session, subscription_id=chosen, status=status, before=before)
    return render_template(
        "ops/webhook_deliveries.html",
        page=page,
        subscriptions=listed,
        chosen=chosen,
        status=status,
        paged=before is not None,
        status_labels=subscriptions.STATUS_LABELS,
        event_label=subscriptions.event_label,
        redeliverable=subscriptions.REDELIVERABLE,
        refusal=refusal,
    )


def _found(model, ident: int):
    """The row, or the 404 page."""
    found = get_session().get(model, ident)
    if found is None:
        abort(404)
    return found


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 12 else None


def _form_page(form: WebhookForm, status: int):
    return render_template("ops/webhook_new.html", form=form), status


def _with_forms(form: WebhookForm) -> WebhookForm:
    """Offer every form, or one that is not archived."""
    offer_forms(form.form_id, SelectChoice(EVERY_FORM, _("Toutes les démarches")))
    return form
