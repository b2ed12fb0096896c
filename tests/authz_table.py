"""ROUTES: what each caller gets from every route of the app, written by hand (see
tests/test_route_authorization.py)."""

from tests.authz_callers import ENROL, GO, LOGIN, OK, SPACE, R, Route
from tests.authz_table_api import API_ROUTES
from tests.authz_table_ops import OPS_ROUTES
from tests.authz_world import World


def fresh_form(world: World) -> str:
    """A published form of its own, for a request that changes it."""
    return world.scratch_form()


def fresh_draft_form(world: World) -> str:
    """A form of its own never published, for a request that publishes it."""
    return world.scratch_form(publish=False)


def fresh_closed_form(world: World) -> str:
    """A closed form of its own, for a request that reopens or archives it."""
    return world.scratch_form(close=True)


def fresh_own_request(world: World) -> str:
    """A request of the owner's of its own, for a request that withdraws it."""
    return world.owner_request()


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
    # Closing every door changes nothing without its button's field (400).
    "POST /mon-espace/deconnexion-partout":
        R("public.space_close_everywhere",  SPACE, 400,   400,   SPACE, SPACE, SPACE, SPACE, SPACE, SPACE),
    "GET /mon-espace/":
        R("public.space_home",              SPACE, OK,    OK,    SPACE, SPACE, SPACE, SPACE, SPACE, SPACE),
    "GET /mon-espace/mes-donnees":
        R("public.space_data",              SPACE, OK,    OK,    SPACE, SPACE, SPACE, SPACE, SPACE, SPACE),
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
    "GET /agents/formulaires/<slug>/conservation":
        R("builder.retention_settings",     LOGIN, LOGIN, LOGIN, OK,    OK,    403,   403,   403,   LOGIN),
    "POST /agents/formulaires/<slug>/conservation":
        R("builder.retention_settings",     LOGIN, LOGIN, LOGIN, GO,    GO,    403,   403,   403,   LOGIN,
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
    # --- ops: in tests/authz_table_ops.py -------------------------------------------------------
    **OPS_ROUTES,
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
ROUTES.update(API_ROUTES)
# fmt: on

# POST views that check their CSRF token themselves (form pages keep what was typed).
SELF_CHECKED_CSRF = {
    "POST /demarches/<slug>/etapes/<int:number>": 400,
    "POST /demarches/<slug>/etapes/<int:number>/brouillon": 400,
    "POST /demarches/<slug>/verification": GO,  # no draft in this browser: back to the start
}
