"""OPS_ROUTES: what each caller gets from the ops area's routes (/agents/pilotage), a block of
tests/authz_table.py's ROUTES kept here."""

from sqlalchemy import select

from forms_app import webhook_subscriptions
from forms_app.db import get_session
from forms_app.models import Event, User, WebhookDelivery
from tests.authz_callers import ADMIN, AGENT, GO, LOGIN, OK, STAFF, R, Route
from tests.authz_world import World


def fresh_announcement(world: World) -> int:
    """A running announcement of its own, for a request that ends it."""
    return world.announcement()


def fresh_report(world: World) -> int:
    """A new problem report of its own, for a request that closes it."""
    return world.problem_report()


def agent_id(world: World) -> int:
    """The agent's account, for the administrators' account pages."""
    with world.app.app_context():
        return get_session().scalar(select(User.id).filter_by(email=STAFF[AGENT]))


def a_subscription(world: World) -> int:
    """An active webhook subscription of its own; its id."""
    with world.app.app_context():
        session = get_session()
        admin = session.scalar(select(User).filter_by(email=STAFF[ADMIN]))
        made, _ = webhook_subscriptions.create(
            session, admin, name="SI", url="https://exemple.nc/", form_id=None, event_types=[]
        )
        session.commit()
        return made.id


def a_waiting_delivery(world: World) -> int:
    """A webhook delivery waiting for its attempt (a redelivery is refused); its id."""
    subscription_id = a_subscription(world)
    with world.app.app_context():
        session = get_session()
        made = WebhookDelivery(
            subscription_id=subscription_id,
            event_type="submission.submitted",
            event_id=session.scalar(select(Event.id).limit(1)),
            payload="{}",
        )
        session.add(made)
        session.commit()
        return made.id


# fmt: off
OPS_ROUTES: dict[str, Route] = {
    # Dashboards for casework and finance staff; the rest for agents and admins.
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
    # Webhooks, for admins; a change without its input is a 400, a waiting delivery's is a 409.
    "GET /agents/pilotage/webhooks":
        R("ops.webhooks",                   LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   403,   LOGIN),
    "GET /agents/pilotage/webhooks/nouveau":
        R("ops.new_webhook",                LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   403,   LOGIN),
    "POST /agents/pilotage/webhooks/nouveau":
        R("ops.new_webhook",                LOGIN, LOGIN, LOGIN, 400,   403,   403,   403,   403,   LOGIN),
    "POST /agents/pilotage/webhooks/<int:subscription_id>/etat":
        R("ops.webhook_active",             LOGIN, LOGIN, LOGIN, 400,   403,   403,   403,   403,   LOGIN,
          params={"subscription_id": a_subscription}),
    "GET /agents/pilotage/webhooks/livraisons":
        R("ops.webhook_deliveries",         LOGIN, LOGIN, LOGIN, OK,    403,   403,   403,   403,   LOGIN),
    "POST /agents/pilotage/webhooks/livraisons/<int:delivery_id>/relivrer":
        R("ops.redeliver_webhook",          LOGIN, LOGIN, LOGIN, 409,   403,   403,   403,   403,   LOGIN,
          params={"delivery_id": a_waiting_delivery}),
}
# fmt: on
