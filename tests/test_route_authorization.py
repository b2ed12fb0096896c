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
import zipfile
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from forms_app import (
    create_app,
    publishing,
)
from forms_app.db import get_db, get_session
from forms_app.models import (
    ActState,
    PaymentAct,
    Role,
    Submission,
    User,
)
from tests import backoffice_support
from tests.authz_callers import (
    ADMIN,
    AGENT,
    ANON,
    APPROVER,
    CALLERS,
    ERROR_400,
    FINANCE,
    FORM,
    LOGIN,
    OTHER,
    OWNER,
    OWNER_DRAFT,
    OWNER_EMAIL,
    OWNER_NAME,
    PAYMENT_FORM,
    SPACE,
    STAFF,
)
from tests.authz_table import ROUTES, SELF_CHECKED_CSRF
from tests.authz_world import World, app_routes, build_world, mailed_token, outcome, url_of
from tests.conftest import base_config, flushed_redis_url, schema_database_url
from tests.support import (
    PASSWORD,
    make_user,
    submit_directly,
)


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
            if key.startswith("POST /api/"):
                expected = 401  # the API reads no cookie: a bearer token or nothing
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
    export = zipfile.ZipFile(io.BytesIO(world.ask(OTHER, "GET", "/mon-espace/mes-donnees").data))
    for name in export.namelist():
        assert OWNER_NAME.encode() not in export.read(name), name
        assert owner.encode() not in export.read(name), name
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
