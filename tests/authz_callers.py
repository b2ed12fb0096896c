"""The callers of the authorization table (tests/test_route_authorization.py) and its
outcomes, in the table's words."""

import re
from dataclasses import dataclass, field
from typing import Any

from tests import backoffice_support, finance_support

ANON, OWNER, OTHER = "anonymous", "owner", "other applicant"
ADMIN, DESIGNER, AGENT, APPROVER = "admin", "designer", "agent", "approver"
FINANCE, PENDING = "finance", "past the password only"
CALLERS = (ANON, OWNER, OTHER, ADMIN, DESIGNER, AGENT, APPROVER, FINANCE, PENDING)
# Staff callers' e-mail addresses (the payment chain's staff, and a designer).
STAFF = {
    ADMIN: finance_support.ADMIN,
    DESIGNER: "concepteur@example.nc",
    AGENT: finance_support.AGENT,
    APPROVER: finance_support.APPROVER,
    FINANCE: finance_support.FINANCE,
    PENDING: finance_support.FINANCE2,
}
OWNER_EMAIL, OTHER_EMAIL = "lea.wamytan@example.nc", "marc.gope@example.nc"
OWNER_NAME, OTHER_NAME = "Léa Wamytan", "Marc Gope"
OWNER_DRAFT = f"Brouillon de {OWNER_NAME}"

OK, GO, LOGIN, SPACE, ENROL = "ok", "redirect", "login", "space", "enrol"
Outcome = str | int
REDIRECT_OUTCOMES = {
    "/agents/connexion": LOGIN,
    "/mon-espace/connexion": SPACE,
    "/agents/connexion/activation": ENROL,
}
# A public address: what the site sees of an ordinary visitor (TEST-NET-3).
REMOTE_ADDR = "203.0.113.7"
ERROR_400 = "Demande incorrecte"  # the heading of the 400 error page (a refused CSRF token)
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
FORM, SCRATCH, PAYMENT_FORM = "dossier", "atelier", "aide"
FIELDS = backoffice_support.FIELDS  # nom, courriel, montant (required), pieces (PDF or PNG)
# The builder works on a form of its own, never on the one applicants fill.
BLUEPRINT_VALUES = {"builder": {"slug": SCRATCH}}


@dataclass(frozen=True)
class Route:
    """What each caller gets from one route, and how to ask it."""

    endpoint: str
    expected: dict[str, Outcome]
    params: dict[str, Any] = field(default_factory=dict)  # values, or callables of the World
    data: dict[str, str] = field(default_factory=dict)  # the POST body (the token aside)


def R(endpoint: str, *outcomes: Outcome, **request: Any) -> Route:
    """A row of ROUTES: the endpoint, one outcome per caller in CALLERS' order, overrides."""
    return Route(endpoint, dict(zip(CALLERS, outcomes, strict=True)), **request)
