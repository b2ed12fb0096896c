"""The finance area: payment acts awaiting signature, bordereaux, signature, payment files."""

from flask import Blueprint

bp = Blueprint("finance", __name__, url_prefix="/agents/finances")

from forms_app.finance import (  # noqa: E402, F401
    act_views,
    bordereau_views,
    payment_views,
    second_factor_guard,
)
