"""Payment acts and bordereaux: what was ordered and paid, and their PDFs (finance tokens).

A token limited to some forms sees their acts, and the bordereaux listing at least one of
them (with only those acts named); a bordereau's PDF, which lists every act, takes a token
that sees every form.
"""

from flask import abort
from flask_smorest import Blueprint
from flask_smorest import abort as fail
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from forms_app import storage
from forms_app.api import access, pages, tokens
from forms_app.api.schemas import (
    ActPageSchema,
    ActSchema,
    BordereauPageSchema,
    BordereauSchema,
    FinanceQuery,
)
from forms_app.db import get_session
from forms_app.models import Bordereau, BordereauLine, Form, PaymentAct, Submission

PATH = "/finance"
blp = Blueprint("api_finance", __name__, description="Payment acts and bordereaux.")
PDF = {"format": "binary", "type": "string"}


def _act(act: PaymentAct, reference: str, slug: str, bordereau: str | None) -> dict:
    return {
        "id": act.id,
        "number": act.number,
        "reference": reference,
        "form": slug,
        "budget_code": act.budget_code,
        "year": act.year,
        "state": act.state,
        "amount": act.amount,
        "issued_at": act.issued_at,
        "paid_at": act.paid_at,
        "cancelled_at": act.cancelled_at,
        "bordereau": bordereau,
        "pdf_sha256": act.pdf_sha256,
    }


def _acts_query():
    return (
        select(
            PaymentAct, Submission.reference, Form.slug, Bordereau.number.label("bordereau"),
            PaymentAct.id.label("sort_key"), PaymentAct.id.label("sort_id"),
        )
        .join(Submission, Submission.id == PaymentAct.submission_id)
        .join(Form, Form.id == PaymentAct.form_id)
        .outerjoin(Bordereau, Bordereau.id == PaymentAct.bordereau_id)
        .where(access.form_filter(PaymentAct.form_id))
    )  # fmt: skip


@blp.get("/acts")
@blp.arguments(FinanceQuery, location="query")
@blp.response(200, ActPageSchema)
def acts(query: dict):
    """Payment acts, oldest first, in pages; filtered by form (slug) and state."""
    access.require_roles(*access.FINANCE_ROLES)
    statement = _acts_query()
    if "form" in query:
        statement = statement.where(Form.slug == query["form"])
    if "state" in query:
        statement = statement.where(PaymentAct.state == query["state"])
    rows, following = pages.page(
        get_session(), statement, PaymentAct.id, PaymentAct.id, order="acts",
        cursor=query.get("cursor"), limit=query["limit"], moment=False,
    )  # fmt: skip
    items = [_act(row.PaymentAct, row.reference, row.slug, row.bordereau) for row in rows]
    return {"items": items, "next_cursor": following}


def _act_or_404(act_id: int):
    row = get_session().execute(_acts_query().where(PaymentAct.id == act_id)).first()
    if row is None:
        abort(404)
    return row


@blp.get("/acts/<id:act_id>")
@blp.response(200, ActSchema)
def act(act_id: int):
    """One payment act: amount, state, the bordereau that ordered it, the hash of its PDF."""
    access.require_roles(*access.FINANCE_ROLES)
    row = _act_or_404(act_id)
    return _act(row.PaymentAct, row.reference, row.slug, row.bordereau)


@blp.get("/acts/<id:act_id>/pdf")
@blp.response(200, PDF, content_type="application/pdf")
def act_pdf(act_id: int):
    """The act's PDF, as rendered when it was issued (404 until it is rendered)."""
    access.require_roles(*access.FINANCE_ROLES)
    found = _act_or_404(act_id).PaymentAct
    if found.pdf_key is None:
        fail(404, message="The act's PDF is not rendered yet.")
    return _pdf(found.pdf_key, f"mandat-{found.number}.pdf")


def _pdf(key: str, name: str):
    response = storage.send(key, mimetype="application/pdf", download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _visible_bordereaux():
    ids = tokens.form_ids(access.token())
    statement = select(Bordereau, Bordereau.id.label("sort_key"), Bordereau.id.label("sort_id"))
    if ids is not None:
        statement = statement.where(
            exists().where(
                BordereauLine.bordereau_id == Bordereau.id,
                BordereauLine.act_id == PaymentAct.id,
                PaymentAct.form_id.in_(ids or [-1]),
            )
        )
    return statement.options(selectinload(Bordereau.lines).selectinload(BordereauLine.act))


def _bordereau(found: Bordereau) -> dict:
    ids = tokens.form_ids(access.token())
    return {
        "id": found.id,
        "number": found.number,
        "budget_code": found.budget_code,
        "year": found.year,
        "state": found.state,
        "act_count": found.act_count,
        "total": found.total,
        "created_at": found.created_at,
        "signed_at": found.signed_at,
        "paid_on": found.paid_on,
        "acts": [line.act_number for line in found.lines if ids is None or line.act.form_id in ids],
    }


@blp.get("/bordereaux")
@blp.arguments(FinanceQuery, location="query")
@blp.response(200, BordereauPageSchema)
def bordereaux(query: dict):
    """Bordereaux, oldest first, in pages; filtered by state."""
    access.require_roles(*access.FINANCE_ROLES)
    statement = _visible_bordereaux()
    if "state" in query:
        statement = statement.where(Bordereau.state == query["state"])
    if "form" in query:
        statement = statement.where(
            exists().where(
                BordereauLine.bordereau_id == Bordereau.id,
                BordereauLine.act_id == PaymentAct.id,
                PaymentAct.form_id == Form.id,
                Form.slug == query["form"],
            )
        )
    rows, following = pages.page(
        get_session(), statement, Bordereau.id, Bordereau.id, order="bordereaux",
        cursor=query.get("cursor"), limit=query["limit"], moment=False,
    )  # fmt: skip
    return {"items": [_bordereau(row.Bordereau) for row in rows], "next_cursor": following}


def _bordereau_or_404(bordereau_id: int) -> Bordereau:
    row = get_session().execute(_visible_bordereaux().where(Bordereau.id == bordereau_id)).first()
    if row is None:
        abort(404)
    return row.Bordereau


@blp.get("/bordereaux/<id:bordereau_id>")
@blp.response(200, BordereauSchema)
def bordereau(bordereau_id: int):
    """One bordereau: its state (signed, paid), total and acts."""
    access.require_roles(*access.FINANCE_ROLES)
    return _bordereau(_bordereau_or_404(bordereau_id))


@blp.get("/bordereaux/<id:bordereau_id>/pdf")
@blp.response(200, PDF, content_type="application/pdf")
def bordereau_pdf(bordereau_id: int):
    """The bordereau's PDF: the signed one once signed (takes a token seeing every form)."""
    access.require_roles(*access.FINANCE_ROLES)
    found = _bordereau_or_404(bordereau_id)
    if tokens.form_ids(access.token()) is not None:
        fail(403, message="A bordereau's PDF lists every act: it takes a token for every form.")
    key = found.signed_pdf_key or found.pdf_key
    if key is None:
        fail(404, message="The bordereau's PDF is not rendered yet.")
    return _pdf(key, f"bordereau-{found.number}.pdf")
