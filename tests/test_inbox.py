"""The inbox: filters, sort, keyset pages, search, drafts hidden, roles, bounded queries."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from forms_app.db import get_session
from forms_app.formdefs.nc import format_xpf
from forms_app.models import Form, Role, Submission
from tests.inbox_support import SLUG, StatementCounter, add_request, publish
from tests.support import make_user, publish_form

URL = f"/agents/demarches/{SLUG}/demandes"
REFERENCE = re.compile(r">(AIDE-2026-\d{6})</a>")


@pytest.fixture
def agent(app, auth):
    user_id = make_user(app, Role.AGENT)
    auth.login()
    return user_id


@pytest.fixture
def form_id(app):
    return publish(app)


def listed(client, **params) -> list[str]:
    response = client.get(URL, query_string=params)
    assert response.status_code == 200, response.text[:500]
    return REFERENCE.findall(response.text)


def all_pages(client, **params) -> tuple[list[str], int]:
    """Follow "Page suivante" to the end; return every reference seen and the page count."""
    seen, pages, query = [], 0, dict(params)
    while True:
        response = client.get(URL, query_string=query)
        assert response.status_code == 200
        seen += REFERENCE.findall(response.text)
        pages += 1
        following = re.search(r'href="([^"]+)" rel="next"', response.text)
        if not following:
            return seen, pages
        query = parse_qs(urlsplit(following.group(1).replace("&amp;", "&")).query)


def test_sorted_by_priority_then_oldest_first_and_drafts_hidden(app, client, agent, form_id):
    late = add_request(app, form_id, priority=1, age_days=1)
    early = add_request(app, form_id, priority=1, age_days=5)
    unranked = add_request(app, form_id, priority=None, age_days=30)
    second = add_request(app, form_id, priority=2, age_days=9, state="in_review")
    add_request(app, form_id, state="draft", priority=1, age_days=50)

    assert listed(client) == [early, late, second, unranked]


def test_each_filter_narrows_the_list(app, client, agent, form_id):
    other = make_user(app, Role.AGENT, email="autre@example.nc")
    mine = add_request(app, form_id, assignee_id=agent, amount=50_000, age_days=2)
    theirs = add_request(app, form_id, assignee_id=other, state="in_review", amount=500_000)
    free = add_request(app, form_id, flags=("same_rid",), amount=1_000_000, age_days=40)
    flagged = add_request(app, form_id, flags=("same_iban",), state="proposed", age_days=10)

    assert listed(client, etat=["in_review", "proposed"]) == [flagged, theirs]
    assert listed(client, instructeur="me") == [mine]
    assert listed(client, instructeur="none") == [free, flagged]
    assert listed(client, instructeur=str(other)) == [theirs]
    assert listed(client, signalement="any") == [free, flagged]
    assert listed(client, signalement="same_iban") == [flagged]
    assert listed(client, montant_min="100 000", montant_max="600000") == [flagged, theirs]
    assert listed(client, montant_min="1 000 000 F CFP") == [free]
    assert set(listed(client, du="01/01/2000")) == {mine, theirs, free, flagged}
    assert listed(client, au=_days_ago(20)) == [free]
    assert listed(client, du=_days_ago(20), au=_days_ago(5)) == [flagged]


def _days_ago(days: int) -> str:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from forms_app.db import utcnow

    return (
        (utcnow() - timedelta(days=days))
        .astimezone(ZoneInfo("Pacific/Noumea"))
        .strftime("%d/%m/%Y")
    )


def test_a_filter_that_cannot_be_read_is_shown_not_guessed(app, client, agent, form_id):
    add_request(app, form_id)
    response = client.get(URL, query_string={"du": "31/02/2026", "montant_min": "abc"})
    assert response.status_code == 200
    assert "n’existe pas" in response.text and "nombre entier de francs CFP" in response.text
    assert not REFERENCE.findall(response.text)


@pytest.mark.parametrize(
    "query",
    ["wamytan", "WAMYTAN", "Société", "societe exemple", "AIDE-2026", "1234567", "1234567.001",
     "lea@example.nc", "Léa@Example.NC"],
)  # fmt: skip
def test_search_by_name_reference_ridet_and_email(app, client, agent, form_id, query):
    found = add_request(app, form_id, name="Société Exemple", email="lea@example.nc",
                        members=[{"nom": "Wamytan", "age": 40}])  # fmt: skip
    add_request(
        app, form_id, name="Autre SARL", ridet="7654321002", members=[{"nom": "Kasarhérou"}]
    )
    result = listed(client, q=query)
    if query == "AIDE-2026":
        assert found in result and len(result) == 2
    else:
        assert result == [found]


def test_search_by_full_reference_and_no_wildcards(app, client, agent, form_id):
    first = add_request(app, form_id, name="A")
    add_request(app, form_id, name="B")
    assert listed(client, q=first) == [first]
    assert listed(client, q="%") == []
    assert listed(client, q="_") == []


def test_keyset_pages_return_every_row_exactly_once(app, client, agent, form_id):
    expected = []
    for i in range(123):
        # Many ties on priority and age: the id breaks them, across states and null priorities.
        expected.append(
            add_request(
                app,
                form_id,
                priority=(None, 1, 2)[i % 3],
                age_days=(i % 4),
                state=("submitted", "in_review", "proposed")[i % 2],
            )
        )
    seen, pages = all_pages(client)
    assert pages == 3
    assert len(seen) == len(set(seen)) == 123
    assert set(seen) == set(expected)
    filtered, _ = all_pages(client, etat="in_review")
    assert len(filtered) == len(set(filtered)) == 61


def test_a_broken_cursor_shows_the_first_page(app, client, agent, form_id):
    first = add_request(app, form_id)
    assert listed(client, apres="not-a-cursor") == [first]


def test_row_shows_state_name_amount_flags_assignee_and_overdue(app, client, agent, form_id):
    other = make_user(app, Role.AGENT, email="claire@example.nc")
    reference = add_request(app, form_id, name="Boulangerie Wamytan", amount=1_500_000,
                            flags=("same_rid", "same_iban"), assignee_id=other,
                            state="in_review", idle_days=6)  # fmt: skip
    quiet = add_request(app, form_id, idle_days=1)
    page = client.get(URL).text
    row = page[page.index(reference) : page.index("</tr>", page.index(reference))]
    assert f'href="/agents/demandes/{reference}"' in page
    assert "En instruction" in row and "Boulangerie Wamytan" in row
    assert "1\u202f500\u202f000\u00a0F CFP" in row
    assert "<td>2</td>" in row and "Test User" in row and "En retard" in row
    quiet_row = page[page.index(quiet) : page.index("</tr>", page.index(quiet))]
    assert "En retard" not in quiet_row


def test_query_count_does_not_grow_with_the_page(app, client, agent, form_id):
    other = make_user(app, Role.AGENT, email="autre@example.nc")
    for i in range(5):
        add_request(app, form_id, assignee_id=(agent, other)[i % 2], flags=("same_rid",))
    with StatementCounter(app) as small:
        assert len(listed(client)) == 5
    for i in range(55):
        add_request(app, form_id, assignee_id=(agent, other, None)[i % 3], flags=("x", "y"))
    with StatementCounter(app) as large:
        assert len(listed(client)) == 50
    with StatementCounter(app) as searched:
        assert len(listed(client, q="exemple", signalement="any", instructeur="none")) == 18
    assert small.count == large.count == searched.count
    assert small.count <= 9  # seven reads, the banners' read, and BEGIN on SQLite


def test_anonymous_visitors_are_sent_to_sign_in(app, client, form_id):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/agents/connexion" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.DESIGNER, Role.FINANCE])
def test_staff_without_casework_roles_are_refused(app, client, auth, form_id, role):
    make_user(app, role)
    auth.login()
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize("role", [Role.AGENT, Role.APPROVER, Role.ADMIN])
def test_casework_roles_see_the_inbox(app, client, auth, form_id, role):
    make_user(app, role)
    auth.login()
    assert client.get(URL).status_code == 200


def test_unknown_form_is_404(app, client, agent):
    assert client.get("/agents/demarches/inconnue/demandes").status_code == 404


def test_home_links_each_inbox_with_counts_per_state(app, client, agent, form_id):
    publish(app, slug="autre-aide")
    add_request(app, form_id)
    add_request(app, form_id)
    add_request(app, form_id, state="in_review")
    add_request(app, form_id, state="draft")
    page = client.get("/agents/").text
    assert f'href="{URL}"' in page
    assert "Déposée : 2" in page and "En instruction : 1" in page and "Brouillon" not in page
    assert 'href="/agents/demarches/autre-aide/demandes"' in page


def test_the_inbox_shows_the_budget_envelope(app, client, agent):
    publish_form(
        app,
        [{"key": "nom", "type": "text", "label": "Nom"}],
        slug=SLUG,
        settings={"reference_prefix": "AIDE", "budget_envelope": 10_000_000},
    )
    with app.app_context():
        form_id = get_session().query(Form.id).filter_by(slug=SLUG).scalar()
    approved = add_request(app, form_id, state="approved")
    paid = add_request(app, form_id, state="paid")
    with app.app_context():
        session = get_session()
        for reference, amount in ((approved, 1_000_000), (paid, 2_500_000)):
            session.execute(
                update(Submission)
                .where(Submission.reference == reference)
                .values(approved_amount=amount)
            )
        session.commit()
    page = client.get(URL).text
    assert "Enveloppes budgétaires" in page
    for amount in (10_000_000, 3_500_000, 2_500_000, 6_500_000):  # envelope, approved, paid, left
        assert format_xpf(amount) in page, amount
