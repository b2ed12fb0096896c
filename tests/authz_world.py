"""The world the authorization table is asked in: the app, its objects, each caller's browser."""

import io
import re
from dataclasses import dataclass, field
from datetime import timedelta
from hashlib import sha256
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forms_app import (
    announcements,
    mail,
    problem_reports,
    publishing,
    storage,
)
from forms_app.db import get_session, utcnow
from forms_app.models import (
    Attachment,
    Bordereau,
    OutboxMessage,
    Role,
    Submission,
    User,
)
from tests import backoffice_support
from tests.authz_callers import (
    AGENT,
    BLUEPRINT_VALUES,
    CSRF_FIELD,
    DESIGNER,
    ENROL,
    FIELDS,
    FINANCE,
    FORM,
    GO,
    OK,
    OTHER,
    OTHER_EMAIL,
    OTHER_NAME,
    OWNER,
    OWNER_EMAIL,
    OWNER_NAME,
    PAYMENT_FORM,
    PENDING,
    PLACEHOLDER,
    REDIRECT_OUTCOMES,
    REMOTE_ADDR,
    SCRATCH,
    STAFF,
    Outcome,
    Route,
)
from tests.bordereau_support import enrol
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
