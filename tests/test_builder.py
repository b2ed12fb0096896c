"""The form builder: who may use it, and a designer building a form an applicant then fills."""

import io

import pytest
from sqlalchemy import func, select

from forms_app import publishing
from forms_app.db import get_session
from forms_app.models import Form, Role, Submission
from tests.support import make_user, submit_answers

BASE = "/agents/formulaires"
DESIGNER = "designer@example.nc"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def login_designer(app, auth, role: Role = Role.DESIGNER, email: str = DESIGNER) -> None:
    """Create a staff user with `role` and sign them in."""
    make_user(app, role, email=email)
    assert auth.login(email=email).status_code == 302


def create_form(client, slug: str = "aide", title: str = "Aide aux études") -> None:
    response = client.post(f"{BASE}/nouveau", data={"slug": slug, "title": title})
    assert response.status_code == 302, response.text
    assert response.headers["Location"] == f"{BASE}/{slug}/"


def add_field(client, slug: str, kind: str, key: str, label: str, page: str = "page_1"):
    response = client.post(
        f"{BASE}/{slug}/nouveau-champ",
        data={"type": kind, "key": key, "label": label, "page": page},
    )
    assert response.status_code == 302, response.text
    assert response.headers["Location"] == f"{BASE}/{slug}/champs/{key}"


def edit_field(client, slug: str, key: str, expect: int = 302, **data):
    """Post the field's edit form as a browser would (unchecked boxes are simply absent)."""
    data.setdefault("page", "page_1")
    response = client.post(f"{BASE}/{slug}/champs/{key}", data=data)
    assert response.status_code == expect, response.text
    return response


def stored_form(app, slug: str) -> Form:
    with app.app_context():
        form = publishing.get_form(get_session(), slug)
        form.versions, form.current_version  # noqa: B018  (load before the session closes)
        return form


def make_published_form(app, slug: str = "aide") -> None:
    """A published form with one text field, built through the domain functions."""
    with app.app_context():
        session = get_session()
        data = publishing.new_definition(slug, "Aide aux études")
        data["pages"][0]["fields"] = [
            {"key": "nom", "type": "text", "label": "Nom", "required": True}
        ]
        form = publishing.create_form(session, data, None)
        publishing.publish(session, form, None)
        session.commit()


GET_ROUTES = [
    "/",
    "/?archives=1",
    "/nouveau",
    "/importer",
    "/aide/",
    "/aide/parametres",
    "/aide/regles",
    "/aide/nouveau-champ",
    "/aide/champs/nom",
    "/aide/pages/page_1",
    "/aide/pages/page_1/supprimer",
    "/aide/apercu",
    "/aide/calendrier",
    "/aide/cloner",
    "/aide/export.json",
    "/aide/versions",
    "/aide/versions/1",
    "/aide/modifications",
]
POST_ROUTES = ["/nouveau", "/aide/publier", "/aide/fermer", "/aide/champs/nom/supprimer"]


@pytest.mark.parametrize("path", GET_ROUTES)
def test_anonymous_visitors_are_sent_to_sign_in(app, client, path):
    make_published_form(app)
    response = client.get(BASE + path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/agents/connexion?next=")


@pytest.mark.parametrize("path", POST_ROUTES)
def test_anonymous_posts_change_nothing(app, client, path):
    make_published_form(app)
    assert client.post(BASE + path, data={"slug": "x", "title": "X"}).status_code == 302
    assert stored_form(app, "aide").status.value == "published"


@pytest.mark.parametrize("role", [Role.AGENT, Role.APPROVER, Role.FINANCE])
@pytest.mark.parametrize("path", GET_ROUTES)
def test_other_staff_are_refused(app, client, auth, role, path):
    make_published_form(app)
    login_designer(app, auth, role, email="staff@example.nc")
    assert client.get(BASE + path).status_code == 403


@pytest.mark.parametrize("path", POST_ROUTES)
def test_other_staff_cannot_post(app, client, auth, path):
    make_published_form(app)
    login_designer(app, auth, Role.AGENT, email="staff@example.nc")
    assert client.post(BASE + path, data={"slug": "x", "title": "X"}).status_code == 403
    assert stored_form(app, "aide").status.value == "published"


@pytest.mark.parametrize("role", [Role.DESIGNER, Role.ADMIN])
@pytest.mark.parametrize("path", GET_ROUTES)
def test_designers_and_admins_see_every_page(app, client, auth, role, path):
    make_published_form(app)
    login_designer(app, auth, role)
    response = client.get(BASE + path)
    assert response.status_code == 200, response.text


def count_submissions(app) -> int:
    with app.app_context():
        submitted = select(func.count()).where(Submission.reference.is_not(None))
        return get_session().scalar(submitted)


def test_designer_builds_previews_publishes_and_an_applicant_submits(app, client, auth):
    login_designer(app, auth)
    create_form(client, "aide-etudes", "Aide aux études supérieures")
    slug = "aide-etudes"
    fields = [
        ("text", "nom", "Nom et prénom"),
        ("email", "courriel", "Adresse e-mail"),
        ("integer", "enfants", "Nombre d’enfants à charge"),
        ("amount", "montant", "Montant demandé"),
        ("date", "naissance", "Date de naissance"),
        ("choice", "statut", "Situation"),
        ("yesno", "handicap", "Êtes-vous en situation de handicap ?"),
        ("text", "precision", "Précisez votre situation"),
        ("file", "piece", "Certificat de scolarité"),
        ("consent", "accord", "J’atteste l’exactitude des informations"),
    ]
    for kind, key, label in fields:
        add_field(client, slug, kind, key, label)
    labels = {key: label for _kind, key, label in fields}

    def edit(key, **data):
        return edit_field(client, slug, key, label=labels[key], required="y", **data)

    edit("nom", max_length="100")
    edit("courriel")
    edit("enfants", min_value="0", max_value="10")
    edit("montant", max_value="500 000")
    edit("naissance", max_date="31/12/2010")
    edit("statut", widget="radio", choices="etudiant|Étudiant ou étudiante\nsalarie|Salarié")
    edit("handicap")
    edit(
        "precision", condition_field="handicap", condition_operator="equals", condition_value="oui"
    )
    edit("piece", accept=["pdf"], max_size_mb="2")
    edit("accord")

    draft = stored_form(app, slug).draft
    fields_by_key = {f["key"]: f for f in draft["pages"][0]["fields"]}
    assert list(fields_by_key) == [key for _kind, key, _label in fields]
    assert fields_by_key["precision"]["visible_if"] == {"field": "handicap", "equals": "oui"}
    assert fields_by_key["enfants"]["validation"] == {"min": 0, "max": 10}
    assert fields_by_key["piece"]["accept"] == ["pdf"]
    page = client.get(f"{BASE}/{slug}/")
    for label in labels.values():
        assert label in page.text

    # Preview: the applicant's page, checked without storing anything.
    preview = client.get(f"{BASE}/{slug}/apercu")
    assert preview.status_code == 200
    assert "Aperçu" in preview.text
    for label in ("Nom et prénom", "Montant demandé", "Certificat de scolarité"):
        assert label in preview.text
    invalid = client.post(f"{BASE}/{slug}/apercu", data={"nom": "", "enfants": "beaucoup"})
    assert invalid.status_code == 400
    assert "Renseignez « Nom et prénom »." in invalid.text
    assert "Saisissez un nombre entier" in invalid.text
    assert count_submissions(app) == 0

    assert client.post(f"{BASE}/{slug}/publier").status_code == 302
    form = stored_form(app, slug)
    assert [v.number for v in form.versions] == [1]
    assert form.current_version.definition == form.draft

    # An applicant, anonymous, on a fresh client.
    public = app.test_client()
    url = f"/demarches/{slug}/"
    assert public.get(url).status_code == 200
    answers = {
        "nom": "Marie Wahnyamalla",
        "courriel": "marie@example.nc",
        "enfants": "2",
        "montant": "150 000",
        "naissance": "06/05/2004",
        "statut": "etudiant",
        "handicap": "oui",
        "precision": "",
        "accord": "y",
    }
    refused = submit_answers(
        public, slug, {**answers, "courriel": "marie-at-example", "enfants": "douze"}
    )
    assert refused.status_code == 400
    for message in (
        "Saisissez une adresse e-mail valide",
        "Saisissez un nombre entier",
        "Renseignez « Précisez votre situation ».",
        "Joignez « Certificat de scolarité ».",
    ):
        assert message in refused.text
    assert count_submissions(app) == 0

    # "Non" hides the required precision: it no longer blocks.
    response = submit_answers(
        public, slug, {**answers, "handicap": "non", "piece": (io.BytesIO(PDF), "piece.pdf")}
    )
    assert response.status_code == 302, response.text
    assert response.headers["Location"] == f"/demarches/{slug}/merci"
    with app.app_context():
        submission = get_session().scalars(select(Submission)).one()
        assert submission.form_version.number == 1
        stored = submission.answers
        assert stored["nom"] == "Marie Wahnyamalla"
        assert stored["courriel"] == "marie@example.nc"
        assert stored["enfants"] == 2
        assert stored["montant"] == 150000
        assert stored["naissance"] == "2004-05-06"
        assert stored["statut"] == "etudiant"
        assert stored["handicap"] is False
        assert stored["accord"] is True
        assert stored.get("precision") in (None, "")
        assert stored["piece"][0]["name"] == "piece.pdf"
        assert stored["piece"][0]["size"] == len(PDF)
        assert [a.field_key for a in submission.attachments] == ["piece"]


def test_every_change_needs_the_csrf_token(app, client, auth):
    make_published_form(app)
    login_designer(app, auth)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"{BASE}/aide/fermer").status_code == 400
    assert stored_form(app, "aide").status.value == "published"
    page = client.get(f"{BASE}/aide/")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post(f"{BASE}/aide/fermer", data={"csrf_token": token}).status_code == 302
    assert stored_form(app, "aide").status.value == "closed"
