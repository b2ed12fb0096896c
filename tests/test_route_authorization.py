"""Authorization proven: every route of `app.url_map` answers every kind of caller as ROUTES says.

ROUTES is written by hand, from who each page is for (docs/architecture.md, the role lists
of the views): it is not read from the code under test, so a guard that is lost, loosened or
tightened fails a test. A route the app has and ROUTES lacks, or an entry for a route the
app no longer has, fails `test_the_table_lists_every_route`.

Callers (the columns): an anonymous visitor; the applicant who owns the objects in the URLs
(their request, draft, receipt, files, e-mailed links); another applicant with requests,
a draft and a space of their own; one staff member per role (admins, approvers and finance
past their second factor); and a finance officer past the password only, who has not enrolled
a second factor yet: signed in nowhere. Every caller comes from a public address (so
`/metrics` is closed to all) and posts with a valid CSRF token, as a browser would.

Outcomes: OK a 2xx; GO a redirect elsewhere than a sign-in; LOGIN a redirect to the staff
sign-in; SPACE a redirect to the applicant space's sign-in; ENROL a redirect to the
second factor's enrolment; a number for any other status. A POST that a caller is allowed to
make is sent without its input wherever that input would change something (the answer is
then the view's own 400 or 409, which a refused caller never reaches), or on an object made
for that request (`fresh_*`), so no request changes what a later one finds.

Object-level tests follow the table: files, receipts, links and acts asked for under
another request, form, bordereau or applicant get 404/400/409, never the data.
"""

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from hashlib import sha256
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forms_app import (
    announcements,
    create_app,
    mail,
    problem_reports,
    publishing,
    storage,
)
from forms_app.db import get_db, get_session, utcnow
from forms_app.models import (
    ActState,
    Attachment,
    Bordereau,
    OutboxMessage,
    PaymentAct,
    Role,
    Submission,
    User,
)
from tests import backoffice_support, finance_support
from tests.bordereau_support import enrol
from tests.conftest import base_config, flushed_redis_url, schema_database_url
from tests.extension_support import add_proposal, closing_form
from tests.finance_support import publish_payment_form, staff_users
from tests.payments_support import make_acts, sign_acts
from tests.support import (
    PASSWORD,
    make_user,
    publish_form,
    sent_mails,
    sign_in,
    submit_answers,
    submit_directly,
)

# The callers, in the order of the table's columns.
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


def fresh_form(world: "World") -> str:
    """A published form of its own, for a request that changes it."""
    return world.scratch_form()


def fresh_draft_form(world: "World") -> str:
    """A form of its own never published, for a request that publishes it."""
    return world.scratch_form(publish=False)


def fresh_closed_form(world: "World") -> str:
    """A closed form of its own, for a request that reopens or archives it."""
    return world.scratch_form(close=True)


def fresh_own_request(world: "World") -> str:
    """A request of the owner's of its own, for a request that withdraws it."""
    return world.owner_request()


def fresh_announcement(world: "World") -> int:
    """A running announcement of its own, for a request that ends it."""
    return world.announcement()


def fresh_report(world: "World") -> int:
    """A new problem report of its own, for a request that closes it."""
    return world.problem_report()


def agent_id(world: "World") -> int:
    """The agent's account, for the administrators' account pages."""
    with world.app.app_context():
        return get_session().scalar(select(User.id).filter_by(email=STAFF[AGENT]))


# fmt: off
ROUTES: dict[str, Route] = {
    # Columns: anonymous, owner, other applicant, admin, designer, agent, approver, finance,
    # past the password only.
    # --- the portal and a form's pages: public; each browser fills its own draft ---------------
    "GET /":
        R("public.index",                   OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK),
    "GET /demarches/<slug>/":
        R("public.fill",                    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK),
    "POST /demarches/<slug>/":
        R("public.start",                   GO,    GO,    GO,    GO,    GO,    GO,    GO,    GO,    GO),
    "GET /demarches/<slug>/etapes/<int:number>":
        R("public.step",                    GO,    OK,    OK,    GO,    GO,    GO,    GO,    GO,    GO),
    "POST /demarches/<slug>/etapes/<int:number>":
        R("public.save_step",               400,   400,   400,   400,   400,   400,   400,   400,   400),
    "POST /demarches/<slug>/etapes/<int:number>/brouillon":
        R("public.autosave",                409,   OK,    OK,    409,   409,   409,   409,   409,   409),
    "GET /demarches/<slug>/verification":
        R("public.check",                   GO,    GO,    GO,    GO,    GO,    GO,    GO,    GO,    GO),
    "POST /demarches/<slug>/verification":
        R("public.submit",                  GO,    GO,    GO,    GO,    GO,    GO,    GO,    GO,    GO),
    "GET /demarches/<slug>/merci":
        R("public.acknowledge",             GO,    OK,    OK,    GO,    GO,    GO,    GO,    GO,    GO),
    "GET /demarches/<slug>/merci/recu.pdf":
        R("public.receipt",                 404,   OK,    OK,    404,   404,   404,   404,   404,   404),
    "GET /demarches/<slug>/enregistrer":
        R("public.save_for_later",          GO,    OK,    OK,    GO,    GO,    GO,    GO,    GO,    GO),
    "POST /demarches/<slug>/enregistrer":
        R("public.save_for_later",          GO,    400,   400,   GO,    GO,    GO,    GO,    GO,    GO),
    # A resume link, like a space link, opens what it names for whoever holds it (bearer).
    "GET /demarches/<slug>/reprendre/<token>":
        R("public.resume",                  GO,    GO,    GO,    GO,    GO,    GO,    GO,    GO,    GO,
          params={"token": lambda world: world.ids["owner_resume_token"]}),
    "GET /etat-du-service":
        R("public.service_status",          OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK),
    "GET /signaler-un-probleme":
        R("public.report_problem",          OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK),
    "POST /signaler-un-probleme":
        R("public.report_problem",          400,   400,   400,   400,   400,   400,   400,   400,   400),
    "GET /signaler-un-probleme/merci":
        R("public.report_received",         OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK),
    # --- the applicant space: the owner's request is a 404 to anyone else ----------------------
    "GET /mon-espace/connexion":
        R("public.space_login",             OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK),
    "POST /mon-espace/connexion":
        R("public.space_login",             400,   400,   400,   400,   400,   400,   400,   400,   400),
    "GET /mon-espace/acces/<token>":
        R("public.space_access",            GO,    GO,    GO,    GO,    GO,    GO,    GO,    GO,    GO),
    "POST /mon-espace/deconnexion":
        R("public.space_logout",            GO,    GO,    GO,    GO,    GO,    GO,    GO,    GO,    GO),
    "GET /mon-espace/":
        R("public.space_home",              SPACE, OK,    OK,    SPACE, SPACE, SPACE, SPACE, SPACE, SPACE),
    "GET /mon-espace/demandes/<reference>":
        R("public.space_submission",        SPACE, OK,    404,   SPACE, SPACE, SPACE, SPACE, SPACE, SPACE),
    "GET /mon-espace/demandes/<reference>/recu.pdf":
        R("public.space_receipt",           SPACE, OK,    404,   SPACE, SPACE, SPACE, SPACE, SPACE, SPACE),
    "GET /mon-espace/demandes/<reference>/pieces/<int:attachment_id>":
        R("public.space_attachment",        SPACE, OK,    404,   SPACE, SPACE, SPACE, SPACE, SPACE, SPACE),
    "POST /mon-espace/demandes/<reference>/messages":
        R("public.space_reply",             SPACE, 400,   404,   SPACE, SPACE, SPACE, SPACE, SPACE, SPACE),
    "POST /mon-espace/demandes/<reference>/renvoi":
        R("public.space_resubmit",          SPACE, GO,    404,   SPACE, SPACE, SPACE, SPACE, SPACE, SPACE),
    "GET /mon-espace/demandes/<reference>/retrait":
        R("public.space_withdraw",          SPACE, OK,    404,   SPACE, SPACE, SPACE, SPACE, SPACE, SPACE),
    "POST /mon-espace/demandes/<reference>/retrait":
        R("public.space_withdraw",          SPACE, GO,    404,   SPACE, SPACE, SPACE, SPACE, SPACE, SPACE,
          params={"reference": fresh_own_request}),
    # --- staff sign-in ---------------------------------------------------------------------------
    "GET /agents/connexion":
        R("auth.login",                     OK,    OK,    OK,    GO,    GO,    GO,    GO,    GO,    OK),
    "POST /agents/connexion":
        R("auth.login",                     400,   400,   400,   GO,    GO,    GO,    GO,    GO,    400),
    "GET /agents/connexion/code":
        R("auth.second_factor",             LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, ENROL),
    "POST /agents/connexion/code":
        R("auth.second_factor",             LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, ENROL),
    "GET /agents/connexion/activation":
        R("auth.second_factor_enrol",       LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, OK),
    "POST /agents/connexion/activation":
        R("auth.second_factor_enrol",       LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 400),
    "POST /agents/deconnexion":
        R("auth.logout",                    GO,    GO,    GO,    GO,    GO,    GO,    GO,    GO,    GO),
    # --- back office: requests for agents, approvers, finance and admins ------------------------
    "GET /agents/":
        R("backoffice.home",                LOGIN, LOGIN, LOGIN, OK,    OK,    OK,    OK,    OK,    LOGIN),
    "GET /agents/demandes/<reference>":
        R("backoffice.submission",          LOGIN, LOGIN, LOGIN, OK,    403,   OK,    OK,    OK,    LOGIN),
    "GET /agents/demandes/<reference>/recu.pdf":
        R("backoffice.submission_receipt",  LOGIN, LOGIN, LOGIN, OK,    403,   OK,    OK,    OK,    LOGIN),
    "GET /agents/demandes/<reference>/pieces/<int:attachment_id>":
        R("backoffice.attachment",          LOGIN, LOGIN, LOGIN, OK,    403,   OK,    OK,    OK,    LOGIN),
    "GET /agents/demandes/<reference>/pieces/<int:attachment_id>/apercu":
        R("backoffice.attachment_preview",  LOGIN, LOGIN, LOGIN, OK,    403,   OK,    OK,    OK,    LOGIN),
    # "take": agents and admins (400: no revision posted); the role × action matrix refuses others.
    "POST /agents/demandes/<reference>/traitement/<action>":
        R("backoffice.act",                 LOGIN, LOGIN, LOGIN, 400,   403,   400,   403,   403,   LOGIN),
    "POST /agents/demandes/<reference>/notes":
        R("backoffice.add_note",            LOGIN, LOGIN, LOGIN, 400,   403,   400,   403,   403,   LOGIN),
    "POST /agents/demandes/<reference>/messages":
        R("backoffice.post_message",        LOGIN, LOGIN, LOGIN, 400,   403,   400,   403,   403,   LOGIN),
    "GET /agents/validation/":
        R("backoffice.approval_queue",      LOGIN, LOGIN, LOGIN, 403,   403,   403,   OK,    403,   LOGIN),
    "POST /agents/validation/lot":
        R("backoffice.approve_batch",       LOGIN, LOGIN, LOGIN, 403,   403,   403,   GO,    403,   LOGIN),
    "GET /agents/demarches/<slug>/demandes":
        R("backoffice.inbox",               LOGIN, LOGIN, LOGIN, OK,    403,   OK,    OK,    403,   LOGIN),
    "GET /agents/demarches/<slug>/demandes.csv":
        R("backoffice.export_csv",          LOGIN, LOGIN, LOGIN, OK,    403,   OK,    OK,    403,   LOGIN),
    "GET /agents/demarches/<slug>/demandes.xlsx":
        R("backoffice.export_xlsx",         LOGIN, LOGIN, LOGIN, OK,    403,   OK,    OK,    403,   LOGIN),
    # --- the builder: designers and admins --------------------------------------------------------
    "GET /agents/formulaires/":
        R("builder.index",                  LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "GET /agents/formulaires/nouveau":
        R("builder.create",                 LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "POST /agents/formulaires/nouveau":
        R("builder.create",                 LOGIN, LOGIN, LOGIN, 400,   400,   403,   403,   403,   LOGIN),
    "GET /agents/formulaires/importer":
        R("builder.import_definition",      LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "POST /agents/formulaires/importer":
        R("builder.import_definition",      LOGIN, LOGIN, LOGIN, 400,   400,   403,   403,   403,   LOGIN),
    "GET /agents/formulaires/<slug>/":
        R("builder.edit",                   LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "POST /agents/formulaires/<slug>/pages":
        R("builder.add_page",               LOGIN, LOGIN, LOGIN, 400,   400,   403,   403,   403,   LOGIN),
    "GET /agents/formulaires/<slug>/pages/<page_key>":
        R("builder.edit_page",              LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "POST /agents/formulaires/<slug>/pages/<page_key>":
        R("builder.edit_page",              LOGIN, LOGIN, LOGIN, GO,    GO,    403,   403,   403,   LOGIN,
          params={"slug": fresh_form}),
    "POST /agents/formulaires/<slug>/pages/<page_key>/deplacer":
        R("builder.move_page",              LOGIN, LOGIN, LOGIN, 400,   400,   403,   403,   403,   LOGIN),
    # A page holding fields asks for a confirmation first (200), whatever the method.
    "GET /agents/formulaires/<slug>/pages/<page_key>/supprimer":
        R("builder.delete_page",            LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "POST /agents/formulaires/<slug>/pages/<page_key>/supprimer":
        R("builder.delete_page",            LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "GET /agents/formulaires/<slug>/nouveau-champ":
        R("builder.new_field",              LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "POST /agents/formulaires/<slug>/nouveau-champ":
        R("builder.new_field",              LOGIN, LOGIN, LOGIN, 400,   400,   403,   403,   403,   LOGIN),
    "GET /agents/formulaires/<slug>/champs/<key>":
        R("builder.edit_field",             LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "POST /agents/formulaires/<slug>/champs/<key>":
        R("builder.edit_field",             LOGIN, LOGIN, LOGIN, GO,    GO,    403,   403,   403,   LOGIN,
          params={"slug": fresh_form}),
    "POST /agents/formulaires/<slug>/champs/<key>/deplacer":
        R("builder.move_field",             LOGIN, LOGIN, LOGIN, 400,   400,   403,   403,   403,   LOGIN),
    "POST /agents/formulaires/<slug>/champs/<key>/supprimer":
        R("builder.delete_field",           LOGIN, LOGIN, LOGIN, GO,    GO,    403,   403,   403,   LOGIN,
          params={"slug": fresh_form}),
    "GET /agents/formulaires/<slug>/parametres":
        R("builder.settings",               LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "POST /agents/formulaires/<slug>/parametres":
        R("builder.settings",               LOGIN, LOGIN, LOGIN, GO,    GO,    403,   403,   403,   LOGIN,
          params={"slug": fresh_form}),
    "GET /agents/formulaires/<slug>/regles":
        R("builder.rules",                  LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "POST /agents/formulaires/<slug>/regles":
        R("builder.rules",                  LOGIN, LOGIN, LOGIN, GO,    GO,    403,   403,   403,   LOGIN,
          params={"slug": fresh_form}),
    "GET /agents/formulaires/<slug>/calendrier":
        R("builder.schedule",               LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "POST /agents/formulaires/<slug>/calendrier":
        R("builder.schedule",               LOGIN, LOGIN, LOGIN, GO,    GO,    403,   403,   403,   LOGIN,
          params={"slug": fresh_form}),
    "GET /agents/formulaires/<slug>/cloner":
        R("builder.clone",                  LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "POST /agents/formulaires/<slug>/cloner":
        R("builder.clone",                  LOGIN, LOGIN, LOGIN, 400,   400,   403,   403,   403,   LOGIN),
    "GET /agents/formulaires/<slug>/apercu":
        R("builder.preview",                LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "POST /agents/formulaires/<slug>/apercu":
        R("builder.preview",                LOGIN, LOGIN, LOGIN, 400,   400,   403,   403,   403,   LOGIN),
    "POST /agents/formulaires/<slug>/publier":
        R("builder.publish",                LOGIN, LOGIN, LOGIN, GO,    GO,    403,   403,   403,   LOGIN,
          params={"slug": fresh_draft_form}),
    "POST /agents/formulaires/<slug>/fermer":
        R("builder.close",                  LOGIN, LOGIN, LOGIN, GO,    GO,    403,   403,   403,   LOGIN,
          params={"slug": fresh_form}),
    "POST /agents/formulaires/<slug>/rouvrir":
        R("builder.reopen",                 LOGIN, LOGIN, LOGIN, GO,    GO,    403,   403,   403,   LOGIN,
          params={"slug": fresh_closed_form}),
    "POST /agents/formulaires/<slug>/archiver":
        R("builder.archive",                LOGIN, LOGIN, LOGIN, GO,    GO,    403,   403,   403,   LOGIN,
          params={"slug": fresh_closed_form}),
    "GET /agents/formulaires/<slug>/export.json":
        R("builder.export",                 LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "GET /agents/formulaires/<slug>/versions":
        R("builder.versions",               LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "GET /agents/formulaires/<slug>/versions/<int:number>":
        R("builder.version_diff",           LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "GET /agents/formulaires/<slug>/modifications":
        R("builder.draft_diff",             LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    # --- finance: admins read, finance acts ------------------------------------------------------
    "GET /agents/finances/":
        R("finance.index",                  LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   OK,    LOGIN),
    "POST /agents/finances/bordereaux":
        R("finance.build_bordereau",        LOGIN, LOGIN, LOGIN, 403,   403,   403,   403,   400,   LOGIN),
    "GET /agents/finances/bordereaux/<int:bordereau_id>":
        R("finance.bordereau",              LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   OK,    LOGIN),
    "POST /agents/finances/bordereaux/<int:bordereau_id>/signature":
        R("finance.sign_bordereau",         LOGIN, LOGIN, LOGIN, 403,   403,   403,   403,   400,   LOGIN),
    "POST /agents/finances/bordereaux/<int:bordereau_id>/abandon":
        R("finance.discard_bordereau",      LOGIN, LOGIN, LOGIN, 403,   403,   403,   403,   400,   LOGIN),
    "GET /agents/finances/bordereaux/<int:bordereau_id>/bordereau.pdf":
        R("finance.bordereau_pdf",          LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   OK,    LOGIN),
    "GET /agents/finances/bordereaux/<int:bordereau_id>/bordereau-signe.pdf":
        R("finance.signed_bordereau_pdf",   LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   OK,    LOGIN),
    "GET /agents/finances/bordereaux/<int:bordereau_id>/paiement":
        R("finance.payment_page",           LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   OK,    LOGIN),
    "GET /agents/finances/bordereaux/<int:bordereau_id>/virements.csv":
        R("finance.payment_csv",            LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   OK,    LOGIN),
    "GET /agents/finances/bordereaux/<int:bordereau_id>/virements.xml":
        R("finance.payment_xml",            LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   OK,    LOGIN),
    "POST /agents/finances/bordereaux/<int:bordereau_id>/paiement":
        R("finance.payment_mark_paid",      LOGIN, LOGIN, LOGIN, 403,   403,   403,   403,   400,   LOGIN,
          data={"paiement-paid_on": "pas une date"}),
    "POST /agents/finances/bordereaux/<int:bordereau_id>/retour-banque":
        R("finance.payment_return",         LOGIN, LOGIN, LOGIN, 403,   403,   403,   403,   400,   LOGIN),
    "POST /agents/finances/bordereaux/<int:bordereau_id>/actes/<int:act_id>/rejet":
        R("finance.payment_reject",         LOGIN, LOGIN, LOGIN, 403,   403,   403,   403,   400,   LOGIN),
    "GET /agents/finances/actes/<int:act_id>":
        R("finance.act",                    LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   OK,    LOGIN),
    "GET /agents/finances/actes/<int:act_id>/mandat.pdf":
        R("finance.act_pdf",                LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   OK,    LOGIN),
    "GET /agents/finances/actes/<int:act_id>/arrete.pdf":
        R("finance.decision_pdf",           LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   OK,    LOGIN),
    "POST /agents/finances/actes/<int:act_id>/annulation":
        R("finance.cancel_act",             LOGIN, LOGIN, LOGIN, 403,   403,   403,   403,   400,   LOGIN),
    # The owner's request is not accepted: a new act is refused (409), to finance only.
    "POST /agents/finances/demandes/<reference>/nouvel-acte":
        R("finance.reissue_act",            LOGIN, LOGIN, LOGIN, 403,   403,   403,   403,   409,   LOGIN),
    # --- ops: dashboards for casework and finance staff; the rest for agents and admins --------
    "GET /agents/pilotage/":
        R("ops.dashboard",                  LOGIN, LOGIN, LOGIN, OK,    403,   OK,    OK,    OK,    LOGIN),
    "GET /agents/pilotage/formulaires/<slug>":
        R("ops.form_dashboard",             LOGIN, LOGIN, LOGIN, OK,    403,   OK,    OK,    OK,    LOGIN),
    "GET /agents/pilotage/statistiques.csv":
        R("ops.statistics_csv",             LOGIN, LOGIN, LOGIN, OK,    403,   OK,    OK,    OK,    LOGIN),
    "GET /agents/pilotage/formulaires/<slug>/statistiques.csv":
        R("ops.statistics_csv",             LOGIN, LOGIN, LOGIN, OK,    403,   OK,    OK,    OK,    LOGIN),
    "GET /agents/pilotage/subventions.csv":
        R("ops.scdl_csv",                   LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   OK,    LOGIN),
    "GET /agents/pilotage/incidents":
        R("ops.timeline",                   LOGIN, LOGIN, LOGIN, OK,    403,   OK,    403,   403,   LOGIN),
    "GET /agents/pilotage/annonces":
        R("ops.announcements",              LOGIN, LOGIN, LOGIN, OK,    403,   OK,    403,   403,   LOGIN),
    "GET /agents/pilotage/annonces/nouvelle":
        R("ops.new_announcement",           LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   403,   LOGIN),
    "POST /agents/pilotage/annonces/nouvelle":
        R("ops.new_announcement",           LOGIN, LOGIN, LOGIN, 400,   403,   403,   403,   403,   LOGIN),
    "POST /agents/pilotage/annonces/<int:announcement_id>/fin":
        R("ops.end_announcement",           LOGIN, LOGIN, LOGIN, GO,    403,   403,   403,   403,   LOGIN,
          params={"announcement_id": fresh_announcement}),
    "GET /agents/pilotage/prolongations":
        R("ops.extensions",                 LOGIN, LOGIN, LOGIN, OK,    403,   OK,    403,   403,   LOGIN),
    # Granting checks the date the admin saw: none posted, 409.
    "POST /agents/pilotage/prolongations/<int:extension_id>/accorder":
        R("ops.grant_extension",            LOGIN, LOGIN, LOGIN, 409,   403,   403,   403,   403,   LOGIN),
    "POST /agents/pilotage/prolongations/<int:extension_id>/refuser":
        R("ops.decline_extension",          LOGIN, LOGIN, LOGIN, 400,   403,   403,   403,   403,   LOGIN),
    "POST /agents/pilotage/prolongations/nouvelle":
        R("ops.new_extension",              LOGIN, LOGIN, LOGIN, 400,   403,   403,   403,   403,   LOGIN),
    "POST /agents/pilotage/prolongations/individuelle":
        R("ops.extend_for_applicant",       LOGIN, LOGIN, LOGIN, 400,   403,   403,   403,   403,   LOGIN),
    "GET /agents/pilotage/signalements":
        R("ops.problem_reports",            LOGIN, LOGIN, LOGIN, OK,    403,   OK,    403,   403,   LOGIN),
    "GET /agents/pilotage/signalements/<int:report_id>":
        R("ops.problem_report",             LOGIN, LOGIN, LOGIN, OK,    403,   OK,    403,   403,   LOGIN),
    "POST /agents/pilotage/signalements/<int:report_id>/reponse":
        R("ops.answer_problem_report",      LOGIN, LOGIN, LOGIN, 400,   403,   400,   403,   403,   LOGIN),
    "POST /agents/pilotage/signalements/<int:report_id>/cloture":
        R("ops.close_problem_report",       LOGIN, LOGIN, LOGIN, GO,    403,   GO,    403,   403,   LOGIN,
          params={"report_id": fresh_report}),
    # The report is not closed: reopening it is refused (409).
    "POST /agents/pilotage/signalements/<int:report_id>/reouverture":
        R("ops.reopen_problem_report",      LOGIN, LOGIN, LOGIN, 409,   403,   409,   403,   403,   LOGIN),
    # Staff accounts, for admins; a change without the admin's password and code is a 400.
    "GET /agents/pilotage/comptes":
        R("ops.accounts",                   LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   403,   LOGIN),
    "GET /agents/pilotage/comptes/nouveau":
        R("ops.account_new",                LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   403,   LOGIN),
    "POST /agents/pilotage/comptes/nouveau":
        R("ops.account_new",                LOGIN, LOGIN, LOGIN, 400,   403,   403,   403,   403,   LOGIN),
    "GET /agents/pilotage/comptes/<int:user_id>":
        R("ops.account",                    LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   403,   LOGIN,
          params={"user_id": agent_id}),
    "POST /agents/pilotage/comptes/<int:user_id>/roles":
        R("ops.account_roles",              LOGIN, LOGIN, LOGIN, 400,   403,   403,   403,   403,   LOGIN,
          params={"user_id": agent_id}),
    "POST /agents/pilotage/comptes/<int:user_id>/etat":
        R("ops.account_active",             LOGIN, LOGIN, LOGIN, 400,   403,   403,   403,   403,   LOGIN,
          params={"user_id": agent_id}),
    "POST /agents/pilotage/comptes/<int:user_id>/double-authentification":
        R("ops.account_second_factor",      LOGIN, LOGIN, LOGIN, 400,   403,   403,   403,   403,   LOGIN,
          params={"user_id": agent_id}),
    # Unlocking an account that is not locked changes nothing.
    "POST /agents/pilotage/comptes/<int:user_id>/deverrouillage":
        R("ops.account_unlock",             LOGIN, LOGIN, LOGIN, GO,    403,   403,   403,   403,   LOGIN,
          params={"user_id": agent_id}),
    "GET /agents/pilotage/travaux":
        R("ops.failed_jobs",                LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   403,   LOGIN),
    # The outbox row did not fail: retrying it is refused (409); no job named, 400.
    "POST /agents/pilotage/travaux/<int:message_id>/relancer":
        R("ops.retry_job",                  LOGIN, LOGIN, LOGIN, 409,   403,   403,   403,   403,   LOGIN),
    "POST /agents/pilotage/travaux/relancer-tout":
        R("ops.retry_failed_jobs",          LOGIN, LOGIN, LOGIN, 400,   403,   403,   403,   403,   LOGIN),
    # --- probes and files: public; /metrics only for the monitoring server ------------------
    "GET /healthz":
        R("health.healthz",                 OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK),
    "GET /readyz":
        R("health.readyz",                  OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK),
    "GET /metrics":
        R("metrics.metrics",                404,   404,   404,   404,   404,   404,   404,   404,   404),
    "GET /static/<path:filename>":
        R("static",                         OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK),
    # --- development only (absent in production, see test_devmail): the written e-mails -------
    "GET /dev/courriels/":
        R("devmail.index",                  OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK),
    "GET /dev/courriels/<name>":
        R("devmail.show",                   OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK),
    "GET /dev/courriels/<name>/pieces/<int:index>":
        R("devmail.attachment",             OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK),
}
# fmt: on

# POST views that check their CSRF token themselves (form pages keep what was typed).
SELF_CHECKED_CSRF = {
    "POST /demarches/<slug>/etapes/<int:number>": 400,
    "POST /demarches/<slug>/etapes/<int:number>/brouillon": 400,
    "POST /demarches/<slug>/verification": GO,  # no draft in this browser: back to the start
}


@dataclass
class World:
    """The app, its objects and each caller's browser state (session cookie, CSRF token)."""

    app: Flask
    ids: dict[str, Any] = field(default_factory=dict)  # URL values and objects, by name
    cookies: dict[str, str] = field(default_factory=dict)  # caller -> session cookie
    tokens: dict[str, str] = field(default_factory=dict)  # caller -> CSRF token
    made: int = 0  # objects made so far by the fresh_* factories

    def browser(self, caller: str | None = None) -> FlaskClient:
        """A new browser from a public address; with `caller`'s session cookie if given."""
        client = self.app.test_client()
        client.environ_base["REMOTE_ADDR"] = REMOTE_ADDR
        if caller is not None and self.cookies.get(caller):
            client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], self.cookies[caller])
        return client

    def newcomer(self) -> tuple[FlaskClient, dict[str, str]]:
        """A new browser, and the CSRF header its POSTs carry (CSRF on)."""
        client = self.browser()
        return client, {"X-CSRFToken": csrf_token(client)}

    def keep(self, caller: str, client: FlaskClient) -> None:
        """Remember `client`'s session as `caller`'s, with a CSRF token for it."""
        self.tokens[caller] = csrf_token(client)
        cookie = client.get_cookie(self.app.config["SESSION_COOKIE_NAME"])
        self.cookies[caller] = cookie.value if cookie is not None else ""

    def ask(self, caller: str, method: str, url: str, data=None, *, token: bool = True, **kw):
        """Send one request as `caller` from a copy of their browser; the read response.

        A POST carries the caller's CSRF token in its header unless `token` is false.
        """
        client = self.browser(caller)
        if method == "GET":
            response = client.get(url, **kw)
        else:
            headers = {"X-CSRFToken": self.tokens[caller]} if token else {}
            response = client.post(url, data=data or {}, headers=headers, **kw)
        response.get_data()
        response.close()
        return response

    def next_name(self, stem: str) -> str:
        self.made += 1
        return f"{stem}-{self.made}"

    def scratch_form(self, *, slug: str = "", publish: bool = True, close: bool = False) -> str:
        """A form of its own for the builder (published, closed or never published); its slug."""
        slug = slug or self.next_name(SCRATCH)
        with self.app.app_context():
            session = get_session()
            form = publishing.create_form(session, scratch_definition(slug), None)
            if publish:
                publishing.publish(session, form, None)
            if close:
                publishing.close(session, form, None)
            session.commit()
        return slug

    def owner_request(self) -> str:
        """A new request of the owner's on the public form; its reference."""
        answers = {"nom": OWNER_NAME, "courriel": OWNER_EMAIL, "montant": 50_000}
        return submit_directly(self.app, FORM, answers)

    def announcement(self) -> int:
        """A running announcement on every page; its id."""
        with self.app.app_context():
            session = get_session()
            made = announcements.publish(
                session, level="info", message="Maintenance", starts_at=utcnow(), actor=None
            )
            session.commit()
            return made.id

    def problem_report(self) -> int:
        """A new problem report from a visitor; its id."""
        with self.app.app_context():
            session = get_session()
            made = problem_reports.create(
                session, page="/", description="La page ne s’affiche pas bien."
            )
            session.commit()
            return made.id

    def values(self, key: str, route: Route) -> dict[str, Any]:
        """The URL values of a route: its own, else the blueprint's, else the world's."""
        own = BLUEPRINT_VALUES.get(route.endpoint.split(".")[0], {})
        values = {}
        for name in PLACEHOLDER.findall(key):
            value = route.params.get(name, own.get(name, self.ids.get(name)))
            values[name] = value(self) if callable(value) else value
        return values


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token a page gives this browser (its secret is kept in the session cookie)."""
    return CSRF_FIELD.search(client.get("/mon-espace/connexion").text).group(1)


def scratch_definition(slug: str) -> dict:
    """A one-page builder form whose fields nothing else reads (any can be deleted)."""
    return {
        "format": 1,
        "slug": slug,
        "title": "Atelier",
        "settings": {"reference_prefix": "ATEL"},
        "pages": [{"key": "page_1", "title": "Page 1", "fields": FIELDS}],
    }


def url_of(key: str, values: dict[str, Any]) -> str:
    """The path of the rule in `key` ("METHOD /rule") with `values` in its placeholders."""
    rule = key.split(" ", 1)[1]
    return PLACEHOLDER.sub(lambda m: quote(str(values[m.group(1)]), safe=""), rule)


def outcome(response) -> Outcome:
    """What a caller got, in the table's words."""
    if 300 <= response.status_code < 400:
        return REDIRECT_OUTCOMES.get(urlsplit(response.location).path, GO)
    return OK if 200 <= response.status_code < 300 else response.status_code


def app_routes(app: Flask) -> dict[str, str]:
    """Every route of the app as "METHOD /rule" -> endpoint (HEAD and OPTIONS aside)."""
    return {
        f"{method} {rule.rule}": rule.endpoint
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    }


# --- building the world, once for the module -----------------------------------------------


@pytest.fixture(scope="module")
def world(postgres, tmp_path_factory) -> Iterator[World]:
    """The app on a database of its own, its objects made, every caller's browser ready."""
    directory = tmp_path_factory.mktemp("authz")
    config = base_config(schema_database_url(postgres, directory), flushed_redis_url(), directory)
    for limit in ("PROBLEM_REPORT", "LOGIN", "MAGIC_LINK", "SUBMIT"):  # not what is tested here
        config[f"{limit}_RATE_LIMIT"] = "1000 per minute"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GUICHET_INSTANCE_PATH", str(directory / "instance"))
        app = create_app(config)
    made = World(app)
    build_world(made)
    app.config["WTF_CSRF_ENABLED"] = True  # from here on, as in production
    for caller in CALLERS:
        made.keep(caller, made.browser(caller))
    yield made
    get_db(app).dispose()


def build_world(world: World) -> None:
    """Make the objects the URLs name and sign every caller in (CSRF is off meanwhile)."""
    app = world.app
    publish_form(app, FIELDS, slug=FORM, settings={"reference_prefix": "DOS"})
    world.scratch_form(slug=SCRATCH)
    staff_users(app)
    make_user(app, Role.DESIGNER, email=STAFF[DESIGNER])
    enrol(app, STAFF[FINANCE])
    for caller, email in STAFF.items():
        sign = past_the_password if caller == PENDING else signed_in
        world.cookies[caller] = sign(world, email)
    world.cookies[OWNER] = applicant(world, OWNER_EMAIL, OWNER_NAME, "owner")
    world.cookies[OTHER] = applicant(world, OTHER_EMAIL, OTHER_NAME, "other")
    conversation(world)
    finance_objects(world)
    ops_objects(world)
    world.ids.update(
        slug=FORM,
        number=1,
        page_key="page_1",
        key="nom",
        action="take",
        reference=world.ids["owner_reference"],
        attachment_id=world.ids["owner_file"],
        token=world.ids["owner_space_token"],
        filename="guichet.js",
    )


def signed_in(world: World, email: str) -> str:
    """Sign staff in through the sign-in pages (the second factor when asked); the session
    cookie."""
    client = world.browser()
    response = sign_in(client, email)
    assert response.status_code == 302, response.text
    return client.get_cookie(world.app.config["SESSION_COOKIE_NAME"]).value


def past_the_password(world: World, email: str) -> str:
    """A finance officer with no second factor yet gives the password; the session cookie."""
    with world.app.app_context():
        session = get_session()
        session.scalar(select(User).filter_by(email=email)).totp_secret = None
        session.commit()
    client = world.browser()
    response = client.post("/agents/connexion", data={"email": email, "password": PASSWORD})
    assert outcome(response) == ENROL, response.text
    return client.get_cookie(world.app.config["SESSION_COOKIE_NAME"]).value


def applicant(world: World, email: str, name: str, who: str) -> str:
    """An applicant's browser: a request sent, a draft saved for later, the space opened.

    Records `<who>_reference`, `<who>_id`, `<who>_file` (the request's file), `<who>_draft`
    and the tokens of the links e-mailed to them. Returns the browser's session cookie.
    """
    app, client = world.app, world.browser()
    answers = {
        "nom": name,
        "courriel": email,
        "montant": "120000",
        "pieces": (backoffice_support.PNG, f"facture-{who}.png"),
    }
    response = submit_answers(client, FORM, answers)
    assert urlsplit(response.location).path == f"/demarches/{FORM}/merci", response.text
    client.post(f"/demarches/{FORM}/")  # a new draft, left incomplete
    client.post(f"/demarches/{FORM}/etapes/1", data={"nom": f"Brouillon de {name}"})
    client.post(f"/demarches/{FORM}/enregistrer", data={"email": email})
    client.post("/mon-espace/connexion", data={"email": email})
    with app.app_context():
        session = get_session()
        found = session.scalar(
            select(Submission).where(
                Submission.applicant_email == email, Submission.reference.is_not(None)
            )
        )
        world.ids[f"{who}_reference"] = found.reference
        world.ids[f"{who}_id"] = found.id
        world.ids[f"{who}_file"] = found.attachments[0].id
        world.ids[f"{who}_draft"] = session.scalar(
            select(Submission.id).where(
                Submission.applicant_email == email, Submission.state == "draft"
            )
        )
    world.ids[f"{who}_resume_token"] = mailed_token(app, email, r"/reprendre/([^\s/]+)")
    world.ids[f"{who}_space_token"] = mailed_token(app, email, r"/mon-espace/acces/([^\s/]+)")
    assert client.get(f"/mon-espace/acces/{world.ids[f'{who}_space_token']}").status_code == 302
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def mailed_token(app: Flask, email: str, pattern: str) -> str:
    """The token of the last link of this kind e-mailed to `email` (read from the outbox)."""
    with app.app_context():
        rows = get_session().scalars(
            select(OutboxMessage)
            .where(OutboxMessage.job == "send_email")
            .order_by(OutboxMessage.id.desc())
        )
        for row in rows:
            found = re.search(pattern, row.args.get("body", ""))
            if row.args.get("to") == email and found:
                return found.group(1)
    raise AssertionError(f"no link {pattern} e-mailed to {email}")


def conversation(world: World) -> None:
    """An agent writes to the owner; the owner answers with a PDF (both through the pages)."""
    agent = world.browser(AGENT)
    reference = world.ids["owner_reference"]
    response = agent.post(f"/agents/demandes/{reference}/messages", data={"body": "Un RIB ?"})
    assert response.status_code == 302, response.text
    owner = world.browser(OWNER)
    response = owner.post(
        f"/mon-espace/demandes/{reference}/messages",
        data={"body": "Le voici.", "piece": (io.BytesIO(backoffice_support.PDF), "rib.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.text
    with world.app.app_context():
        world.ids["owner_message_file"] = get_session().scalar(
            select(Attachment.id).where(
                Attachment.submission_id == world.ids["owner_id"],
                Attachment.message_id.is_not(None),
            )
        )


def finance_objects(world: World) -> None:
    """Two issued acts; the first on a signed bordereau whose PDFs are stored."""
    app = world.app
    publish_payment_form(app, slug=PAYMENT_FORM)
    first, second = make_acts(app, [150_000, 90_000])
    bordereau_id = sign_acts(app, [first])
    with app.app_context():
        session = get_session()
        found = session.get(Bordereau, bordereau_id)
        content = backoffice_support.PDF
        found.pdf_key = found.signed_pdf_key = storage.store(content, sha256(content).hexdigest())
        session.commit()
    world.ids.update(act_id=first, other_act_id=second, bordereau_id=bordereau_id)


def ops_objects(world: World) -> None:
    """An extension proposal, a problem report, an outbox row, an e-mail with an attachment."""
    app = world.app
    form_id = closing_form(app, "prolongation", timedelta(days=3))
    world.ids["extension_id"] = add_proposal(app, form_id)
    world.ids["report_id"] = world.problem_report()
    with app.app_context():
        world.ids["message_id"] = get_session().scalar(select(OutboxMessage.id).limit(1))
    with app.test_request_context():
        attachment = ("recu.pdf", "application/pdf", backoffice_support.PDF)
        mail.send(mail.build(OWNER_EMAIL, "Accusé", "Bonjour,", attachments=[attachment]))
    [written] = sent_mails(app)
    world.ids.update(name=written.name, index=0)


# --- the table -------------------------------------------------------------------------------


def test_the_table_lists_every_route(world):
    """Every route of the app has a row, every row a route, with the same endpoint."""
    routes = app_routes(world.app)
    missing = [f"{key} ({endpoint})" for key, endpoint in routes.items() if key not in ROUTES]
    stale = [key for key in ROUTES if key not in routes]
    moved = [
        f"{key}: the table says {ROUTES[key].endpoint}, the app serves {routes[key]}"
        for key in ROUTES
        if key in routes and routes[key] != ROUTES[key].endpoint
    ]
    assert not missing, "routes with no expected answers in ROUTES: " + ", ".join(missing)
    assert not stale, "ROUTES lists routes the app no longer has: " + ", ".join(stale)
    assert not moved, "; ".join(moved)


@pytest.mark.parametrize("key", list(ROUTES))
def test_each_caller_gets_the_expected_answer(world, key):
    """The route answers each caller as its row says."""
    route = ROUTES[key]
    method = key.split(" ", 1)[0]
    wrong = []
    for caller in CALLERS:
        url = url_of(key, world.values(key, route))
        response = world.ask(caller, method, url, route.data)
        got = outcome(response)
        if got != route.expected[caller]:
            where = f" to {response.location}" if response.location else ""
            wrong.append(
                f"{caller}: expected {route.expected[caller]!r}, got {got!r}"
                f" ({method} {url} -> {response.status_code}{where})"
            )
    assert not wrong, f"{key}:\n" + "\n".join(wrong)


def test_a_post_without_its_csrf_token_is_refused(world):
    """Every POST route refuses a request with no token, before looking at anything else.

    The form pages check their token themselves and answer with the page again (400) or the
    form's start; the owner's draft is left as it was.
    """
    draft_before = draft_data(world, world.ids["owner_draft"])
    wrong = []
    for key in (key for key in ROUTES if key.startswith("POST ")):
        for caller in (OWNER, ADMIN):
            url = url_of(key, world.values(key, ROUTES[key]))
            response = world.ask(caller, "POST", url, token=False)
            expected = SELF_CHECKED_CSRF.get(key, "the 400 error page")
            got = outcome(response)
            if key not in SELF_CHECKED_CSRF and got == 400 and ERROR_400 in response.text:
                got = expected
            if got != expected:
                wrong.append(f"{key} as {caller}: expected {expected!r}, got {got!r}")
    assert not wrong, "\n".join(wrong)
    assert draft_data(world, world.ids["owner_draft"]) == draft_before


# --- objects under another request, form, bordereau or applicant ------------------------------


def test_another_applicant_sees_nothing_of_the_owners_requests_or_draft(world):
    """Their space lists their own request only; the owner's pages, files and draft are hidden."""
    owner, other = world.ids["owner_reference"], world.ids["other_reference"]
    space = world.ask(OTHER, "GET", "/mon-espace/")
    assert other in space.text and owner not in space.text and OWNER_NAME not in space.text
    for path in (
        f"/mon-espace/demandes/{owner}",
        f"/mon-espace/demandes/{owner}/recu.pdf",
        f"/mon-espace/demandes/{owner}/retrait",
        f"/mon-espace/demandes/{owner}/pieces/{world.ids['owner_file']}",
        f"/mon-espace/demandes/{owner}/pieces/{world.ids['owner_message_file']}",
    ):
        response = world.ask(OTHER, "GET", path)
        assert response.status_code == 404 and OWNER_NAME not in response.text, path
    step = f"/demarches/{FORM}/etapes/1"
    world.ask(OWNER, "POST", f"{step}/brouillon", {"nom": OWNER_DRAFT})
    assert OWNER_DRAFT in world.ask(OWNER, "GET", step).text
    assert OWNER_DRAFT not in world.ask(OTHER, "GET", step).text


def test_a_file_is_served_only_under_its_own_request(world):
    """A file asked for under another request's reference is a 404, to the applicant and staff."""
    owner, other = world.ids["owner_reference"], world.ids["other_reference"]
    owner_file, other_file = world.ids["owner_file"], world.ids["other_file"]
    message_file = world.ids["owner_message_file"]
    for caller, path in (
        (OWNER, f"/mon-espace/demandes/{owner}/pieces/{other_file}"),
        (ADMIN, f"/agents/demandes/{owner}/pieces/{other_file}"),
        (ADMIN, f"/agents/demandes/{owner}/pieces/{other_file}/apercu"),
        (AGENT, f"/agents/demandes/{other}/pieces/{message_file}"),
        (AGENT, f"/agents/demandes/{other}/pieces/{owner_file}/apercu"),
    ):
        response = world.ask(caller, "GET", path)
        assert response.status_code == 404, (caller, path)
        assert backoffice_support.PNG not in response.data, (caller, path)
    mine = world.ask(OWNER, "GET", f"/mon-espace/demandes/{owner}/pieces/{message_file}")
    assert mine.data == backoffice_support.PDF
    theirs = world.ask(AGENT, "GET", f"/agents/demandes/{owner}/pieces/{owner_file}")
    assert theirs.data == backoffice_support.PNG


def test_a_receipt_is_served_only_under_the_form_it_was_sent_on(world):
    """The receipt of the request this browser sent is not served under another form's address."""
    assert world.ask(OWNER, "GET", f"/demarches/{PAYMENT_FORM}/merci/recu.pdf").status_code == 404
    assert world.ask(OWNER, "GET", f"/demarches/{FORM}/merci/recu.pdf").status_code in (200, 202)


def altered(token: str) -> str:
    """`token` with one character of its signature changed (one the decoding reads)."""
    index = len(token) - 10
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


def test_a_link_opens_only_what_it_was_made_for(world):
    """A resume link opens its own form's draft; a space link, its own address's requests."""
    resume, space = world.ids["owner_resume_token"], world.ids["other_space_token"]
    for path in (
        f"/demarches/{PAYMENT_FORM}/reprendre/{resume}",  # another form
        f"/demarches/{FORM}/reprendre/{space}",  # a space link
        f"/mon-espace/acces/{resume}",  # a resume link
        f"/mon-espace/acces/{altered(space)}",  # its signature altered
    ):
        assert world.ask(ANON, "GET", path).status_code == 400, path
    browser = world.browser()
    assert browser.get(f"/mon-espace/acces/{space}").status_code == 302
    listed = browser.get("/mon-espace/").text
    assert world.ids["other_reference"] in listed and world.ids["owner_reference"] not in listed


def test_a_resume_link_does_not_open_the_space_of_an_address_typed_after_it_was_sent(world):
    """Someone who saves their draft for themselves, then types another's address, and opens
    the first link, does not get into the other person's space."""
    mallory = "mallory@example.nc"
    browser, headers = world.newcomer()
    browser.post(f"/demarches/{FORM}/", headers=headers)
    saved = f"/demarches/{FORM}/enregistrer"
    assert browser.post(saved, data={"email": mallory}, headers=headers).status_code == 200
    link = mailed_token(world.app, mallory, r"/reprendre/([^\s/]+)")
    assert browser.post(saved, data={"email": OWNER_EMAIL}, headers=headers).status_code == 200
    thief = world.browser()
    thief.get(f"/demarches/{FORM}/reprendre/{link}")
    space = thief.get("/mon-espace/")
    assert world.ids["owner_reference"] not in space.text
    assert outcome(space) == SPACE


def test_staff_do_not_work_a_request_they_sent_themselves(world):
    """An agent who is the applicant of a request gets 403 on it, and nothing changes."""
    reference = submit_directly(
        world.app, FORM, {"nom": "Agent Léon", "courriel": STAFF[AGENT], "montant": 10_000}
    )
    revision = load(world, Submission, reference=reference).revision
    path = f"/agents/demandes/{reference}/traitement/take"
    response = world.ask(AGENT, "POST", path, {"take-revision": revision})
    assert response.status_code == 403
    after = load(world, Submission, reference=reference)
    assert (after.state, after.assignee_id, after.revision) == ("submitted", None, revision)


def test_an_act_is_rejected_only_through_the_bordereau_it_is_on(world):
    """Finance cannot record a bank rejection of an act through another bordereau (409)."""
    path = (
        f"/agents/finances/bordereaux/{world.ids['bordereau_id']}"
        f"/actes/{world.ids['other_act_id']}/rejet"
    )
    prefix = f"rejet-{world.ids['other_act_id']}"
    response = world.ask(FINANCE, "POST", path, {f"{prefix}-reason": "Compte clos"})
    assert response.status_code == 409
    assert load(world, PaymentAct, id=world.ids["other_act_id"]).state == ActState.ISSUED


def test_an_approver_approves_only_proposals(world):
    """A request that is not proposed, checked in the approval queue's form, is left as it is."""
    found = load(world, Submission, reference=world.ids["owner_reference"])
    item = f"{found.id}:{found.revision}"
    response = world.ask(APPROVER, "POST", "/agents/validation/lot", {"items": item})
    assert response.status_code == 200
    after = load(world, Submission, reference=world.ids["owner_reference"])
    assert (after.state, after.revision) == (found.state, found.revision)


def test_a_form_not_published_or_archived_is_not_served(world):
    """Its public pages are 404s (and, never published, its staff lists); a closed form says
    so (403)."""
    never, archived = world.scratch_form(publish=False), world.scratch_form(close=True)
    closed = world.scratch_form(close=True)
    with world.app.app_context():
        session = get_session()
        publishing.archive(session, publishing.get_form(session, archived), None)
        session.commit()
    for slug in (never, archived):
        for method, path in (
            ("GET", f"/demarches/{slug}/"),
            ("POST", f"/demarches/{slug}/"),
            ("GET", f"/demarches/{slug}/etapes/1"),
            ("POST", f"/demarches/{slug}/etapes/1"),
        ):
            assert world.ask(ANON, method, path).status_code == 404, (method, path)
    for path in (f"/agents/demarches/{never}/demandes", f"/agents/pilotage/formulaires/{never}"):
        assert world.ask(AGENT, "GET", path).status_code == 404, path
    assert world.ask(ANON, "POST", f"/demarches/{closed}/").status_code == 403


def test_an_account_deactivated_or_given_other_roles_loses_its_pages(world):
    """Roles and the active flag are read at each request: a session keeps no stale right."""
    reference = world.ids["owner_reference"]
    clients = {}
    for email in ("ancien@example.nc", "mute@example.nc"):
        make_user(world.app, Role.AGENT, email=email)
        client, headers = world.newcomer()
        data = {"email": email, "password": PASSWORD}
        assert client.post("/agents/connexion", data=data, headers=headers).status_code == 302
        assert client.get(f"/agents/demandes/{reference}").status_code == 200
        clients[email] = client
    with world.app.app_context():
        session = get_session()
        session.scalar(select(User).filter_by(email="ancien@example.nc")).active = False
        moved = session.scalar(select(User).filter_by(email="mute@example.nc"))
        moved.role_rows.clear()
        moved.grant(Role.DESIGNER)
        session.commit()
    assert outcome(clients["ancien@example.nc"].get(f"/agents/demandes/{reference}")) == LOGIN
    assert clients["mute@example.nc"].get(f"/agents/demandes/{reference}").status_code == 403


def load(world: World, model, **where):
    """One row by its columns, read in a fresh session."""
    with world.app.app_context():
        return get_session().scalar(select(model).filter_by(**where))


def draft_data(world: World, draft_id: int) -> dict | None:
    """What a draft holds."""
    with world.app.app_context():
        return get_session().get(Submission, draft_id).draft_data
