"""Builder life cycle: import and export, clone, schedule, close, reopen, archive, versions."""

import io
import json
from datetime import UTC, datetime

from sqlalchemy import select

from forms_app.db import get_session
from forms_app.formdefs.definition import canonical_json
from forms_app.models import Event, Form, FormVersion
from tests.support import first_page
from tests.test_builder import (
    BASE,
    add_field,
    edit_field,
    login_designer,
    make_published_form,
    stored_form,
)

RICH = {
    "format": 1,
    "slug": "bourse",
    "title": "Bourse d’études",
    "description": "Pour les étudiants.",
    "settings": {"reference_prefix": "BOUR", "budget_envelope": 1000000},
    "pages": [
        {"key": "identite", "title": "Identité", "fields": [
            {"key": "nom", "type": "text", "label": "Nom", "required": True},
            {"key": "boursier", "type": "yesno", "label": "Déjà boursier ?"},
            {"key": "numero", "type": "text", "label": "Numéro",
             "visible_if": {"field": "boursier", "equals": "oui"}},
        ]},
        {"key": "montant", "title": "Montant", "fields": [
            {"key": "loyer", "type": "amount", "label": "Loyer", "validation": {"max": 300000}},
        ]},
    ],
    "rules": {"amount": {"expression": "loyer * 2", "cap": 400000}},
}  # fmt: skip


def events(app, slug: str) -> list[tuple[str, str | None, str | None]]:
    with app.app_context():
        session = get_session()
        form_id = session.scalar(select(Form.id).where(Form.slug == slug))
        rows = session.scalars(
            select(Event).where(Event.subject_type == "form", Event.subject_id == form_id)
        )
        return [(e.action, e.from_state, e.to_state) for e in rows]


def test_import_errors_are_listed_with_their_paths(app, client, auth):
    login_designer(app, auth)
    broken = {**RICH, "pages": [{"key": "p", "title": "P", "fields": [
        {"key": "Nom", "type": "text", "label": "Nom"},
        {"key": "age", "type": "integer", "label": "Âge", "validation": {"min": 9, "max": 1}},
    ]}]}  # fmt: skip
    response = client.post(f"{BASE}/importer", data={"text": json.dumps(broken)})
    assert response.status_code == 400
    assert "La définition contient des erreurs" in response.text
    assert "pages[0].fields[0].key" in response.text
    response = client.post(f"{BASE}/importer", data={"text": '{"format": 1,\n "slug": }'})
    assert response.status_code == 400
    assert "ligne 2" in response.text and "JSON invalide" in response.text
    response = client.post(f"{BASE}/importer", data={"text": ""})
    assert response.status_code == 400
    assert "Choisissez un fichier" in response.text
    with app.app_context():
        assert get_session().scalars(select(Form)).all() == []


def test_import_can_publish(app, client, auth):
    login_designer(app, auth)
    response = client.post(f"{BASE}/importer", data={"text": json.dumps(RICH), "publish": "y"})
    assert response.status_code == 302
    form = stored_form(app, "bourse")
    assert form.status.value == "published"
    assert form.current_version.number == 1
    assert client.get("/demarches/bourse/").status_code == 200


def test_export_then_import_under_another_slug_gives_the_same_definition(app, client, auth):
    login_designer(app, auth)
    assert client.post(f"{BASE}/importer", data={"text": json.dumps(RICH)}).status_code == 302
    response = client.get(f"{BASE}/bourse/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == "attachment; filename=bourse.json"
    assert response.text == canonical_json(RICH) + "\n"
    data = json.loads(response.text)
    data["slug"] = "bourse-2027"
    upload = (io.BytesIO(json.dumps(data).encode()), "bourse-2027.json")
    response = client.post(
        f"{BASE}/importer", data={"file": upload}, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{BASE}/bourse-2027/"
    copy = stored_form(app, "bourse-2027").draft
    assert copy.pop("slug") == "bourse-2027"
    original = stored_form(app, "bourse").draft
    assert original.pop("slug") == "bourse"
    assert copy == original


def test_clone(app, client, auth):
    login_designer(app, auth)
    make_published_form(app)
    page = client.get(f"{BASE}/aide/cloner")
    assert "Copie de Aide aux études" in page.text
    response = client.post(f"{BASE}/aide/cloner", data={"slug": "aide", "title": "Copie"})
    assert response.status_code == 400
    assert "existe déjà" in response.text
    response = client.post(f"{BASE}/aide/cloner", data={"slug": "aide-2027", "title": "Aide 2027"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{BASE}/aide-2027/"
    source, copy = stored_form(app, "aide"), stored_form(app, "aide-2027")
    assert copy.status.value == "draft" and copy.versions == []
    assert copy.draft == {**source.draft, "slug": "aide-2027", "title": "Aide 2027"}
    assert ("clone", None, None) in events(app, "aide-2027")


def test_schedule_is_entered_in_local_time_and_checked(app, client, auth):
    login_designer(app, auth)
    make_published_form(app)
    response = client.post(
        f"{BASE}/aide/calendrier",
        data={"opens_at": "30/04/2026 08:00", "closes_at": "01/03/2026 08:00"},
    )
    assert response.status_code == 400
    assert "La date de clôture doit être après la date d’ouverture." in response.text
    response = client.post(f"{BASE}/aide/calendrier", data={"opens_at": "demain", "closes_at": ""})
    assert response.status_code == 400
    assert "JJ/MM/AAAA HH:MM" in response.text
    assert stored_form(app, "aide").opens_at is None
    response = client.post(
        f"{BASE}/aide/calendrier",
        data={"opens_at": "01/03/2026 08:00", "closes_at": "30/04/2026 16:00"},
    )
    assert response.status_code == 302
    form = stored_form(app, "aide")
    assert form.opens_at == datetime(2026, 2, 28, 21, 0, tzinfo=UTC)  # Nouméa is UTC+11
    assert form.closes_at == datetime(2026, 4, 30, 5, 0, tzinfo=UTC)
    assert "01/03/2026 08:00" in client.get(f"{BASE}/aide/calendrier").text
    assert "30/04/2026 16:00" in client.get(f"{BASE}/").text
    assert events(app, "aide")[-1][0] == "schedule"


def test_close_reopen_archive_and_their_events(app, client, auth):
    login_designer(app, auth)
    make_published_form(app)
    response = client.post(f"{BASE}/aide/archiver")
    assert response.status_code == 400
    assert "Action impossible" in response.text
    assert client.post(f"{BASE}/aide/fermer").status_code == 302
    assert stored_form(app, "aide").status.value == "closed"
    assert client.get("/demarches/aide/").status_code == 403
    assert client.post(f"{BASE}/aide/rouvrir").status_code == 302
    assert client.get("/demarches/aide/").status_code == 200
    assert client.post(f"{BASE}/aide/rouvrir").status_code == 400
    assert client.post(f"{BASE}/aide/fermer").status_code == 302
    assert client.post(f"{BASE}/aide/archiver").status_code == 302
    assert stored_form(app, "aide").status.value == "archived"
    assert events(app, "aide")[-4:] == [
        ("close", "published", "closed"),
        ("reopen", "closed", "published"),
        ("close", "published", "closed"),
        ("archive", "closed", "archived"),
    ]
    assert "Aide aux études" not in client.get(f"{BASE}/").text
    listing = client.get(f"{BASE}/?archives=1").text
    assert "Aide aux études" in listing and "Archivé" in listing
    response = client.post(f"{BASE}/aide/publier")
    assert response.status_code == 400
    assert "archivé ne peut pas être publié" in response.text


def test_editing_a_published_form_changes_only_the_draft(app, client, auth):
    login_designer(app, auth)
    make_published_form(app)
    response = client.post(f"{BASE}/aide/publier")
    assert response.status_code == 400
    assert "identique à la version publiée" in response.text
    edit_field(client, "aide", "nom", label="Nom de famille", required="y")
    add_field(client, "aide", "email", "courriel", "Adresse e-mail")
    form = stored_form(app, "aide")
    assert form.versions[0].definition["pages"][0]["fields"] == [
        {"key": "nom", "type": "text", "label": "Nom", "required": True}
    ]
    assert len(form.draft["pages"][0]["fields"]) == 2
    assert "brouillon modifié" in client.get(f"{BASE}/aide/").text
    assert "brouillon modifié" in client.get(f"{BASE}/").text
    public = first_page(app.test_client(), "aide").text
    assert "Nom" in public and "Nom de famille" not in public
    changes = client.get(f"{BASE}/aide/modifications").text
    assert "Adresse e-mail" in changes and "Nom de famille" in changes

    assert client.post(f"{BASE}/aide/publier").status_code == 302
    form = stored_form(app, "aide")
    assert [v.number for v in form.versions] == [1, 2]
    assert form.current_version.number == 2
    with app.app_context():
        version = get_session().get(FormVersion, form.versions[1].id)
        assert version.published_by.email == "designer@example.nc"
    assert form.versions[0].definition["pages"][0]["fields"][0]["label"] == "Nom"
    assert "brouillon modifié" not in client.get(f"{BASE}/aide/").text
    assert "Nom de famille" in first_page(app.test_client(), "aide").text

    history = client.get(f"{BASE}/aide/versions").text
    assert "Test User" in history and f"{BASE}/aide/versions/2" in history
    diff = client.get(f"{BASE}/aide/versions/2")
    assert diff.status_code == 200
    added = diff.text.split("Champs ajoutés")[1].split("Champs supprimés")[0]
    assert "Adresse e-mail" in added
    changed = diff.text.split("Champs modifiés")[1].split("Différences")[0]
    assert "Nom de famille" in changed
    assert (
        '<pre class="diff"' in diff.text
        and "+          &#34;label&#34;: &#34;Adresse e-mail&#34;" in diff.text
    )
    assert client.get(f"{BASE}/aide/versions/3").status_code == 404
    exported = client.get(f"{BASE}/aide/export.json?version=1")
    assert exported.headers["Content-Disposition"] == "attachment; filename=aide-v1.json"
    assert json.loads(exported.text)["pages"][0]["fields"][0]["label"] == "Nom"
