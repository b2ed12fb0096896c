"""Filling page by page: progress, errors per page, conditional pages, check and change."""

import io

from forms_app.db import get_session
from forms_app.models import Submission
from tests.support import latest_submission, publish_form

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

PAGES = [
    {
        "key": "identite",
        "title": "Votre identité",
        "fields": [
            {"key": "nom", "type": "text", "label": "Nom", "required": True},
            {"key": "courriel", "type": "email", "label": "Adresse e-mail", "required": True},
            {"key": "entreprise", "type": "yesno", "label": "Pour une entreprise ?"},
        ],
    },
    {
        "key": "societe",
        "title": "Votre entreprise",
        "visible_if": {"field": "entreprise", "equals": "oui"},
        "fields": [{"key": "raison", "type": "text", "label": "Raison sociale", "required": True}],
    },
    {
        "key": "pieces",
        "title": "Pièces justificatives",
        "fields": [
            {"key": "piece", "type": "file", "label": "Justificatif", "required": True},
            {
                "key": "commentaire",
                "type": "textarea",
                "label": "Commentaire",
                "validation": {"max_length": 200},
            },
        ],
    },
]


def publish_pages(app) -> str:
    return publish_form(app, [], pages=PAGES)


def start(client, slug: str) -> str:
    response = client.post(f"/demarches/{slug}/")
    assert response.status_code == 302
    return response.headers["Location"]


def test_pages_one_at_a_time_with_progress_then_check_and_submit(app, client):
    slug = publish_pages(app)
    assert start(client, slug) == f"/demarches/{slug}/etapes/1"
    first = client.get(f"/demarches/{slug}/etapes/1").text
    assert "Étape 1 sur 3" in first  # two pages (the company page is hidden) + the check page
    assert "Raison sociale" not in first
    response = client.post(
        f"/demarches/{slug}/etapes/1",
        data={"nom": "Wamytan", "courriel": "Lea@Example.nc", "entreprise": "oui"},
    )
    assert response.headers["Location"] == f"/demarches/{slug}/etapes/2"
    second = client.get(f"/demarches/{slug}/etapes/2").text
    assert "Étape 2 sur 4" in second  # the answer revealed the company page
    client.post(f"/demarches/{slug}/etapes/2", data={"raison": "SARL Lagon"})
    response = client.post(
        f"/demarches/{slug}/etapes/3",
        data={"piece": (io.BytesIO(PDF), "kbis.pdf")},
        content_type="multipart/form-data",
    )
    assert response.headers["Location"] == f"/demarches/{slug}/verification"
    check = client.get(f"/demarches/{slug}/verification").text
    for text in ("Wamytan", "SARL Lagon", "kbis.pdf", "Modifier", "Envoyer ma demande"):
        assert text in check
    assert f"/demarches/{slug}/etapes/2?retour=verification#raison" in check
    assert latest_submission(app) is None  # saved is not submitted
    response = client.post(f"/demarches/{slug}/verification", data={"_jeton": "c" * 32})
    assert response.headers["Location"] == f"/demarches/{slug}/merci"
    submission = latest_submission(app)
    assert submission.reference.startswith("ESSAI-")
    assert submission.answers["raison"] == "SARL Lagon"
    assert submission.answers["piece"][0]["name"] == "kbis.pdf"
    assert submission.applicant_email == "lea@example.nc"
    assert submission.draft_data is None and submission.resume_token_hash is None
    with app.app_context():
        stored = get_session().get(Submission, submission.id)
        assert [a.original_name for a in stored.attachments] == ["kbis.pdf"]


def test_errors_show_on_their_page_with_a_summary_and_what_was_typed(app, client):
    slug = publish_pages(app)
    start(client, slug)
    response = client.post(
        f"/demarches/{slug}/etapes/1", data={"nom": "", "courriel": "pas-une-adresse"}
    )
    assert response.status_code == 400
    assert "Il y a un problème" in response.text
    assert 'href="#nom"' in response.text and 'href="#courriel"' in response.text
    assert 'value="pas-une-adresse"' in response.text
    assert 'aria-describedby="courriel-error"' in response.text
    assert "<title>Erreur :" in response.text
    again = client.get(f"/demarches/{slug}/etapes/1").text  # saved, even invalid
    assert 'value="pas-une-adresse"' in again
    assert "Il y a un problème" not in again


def test_change_link_comes_back_to_the_check_page(app, client):
    slug = publish_pages(app)
    start(client, slug)
    client.post(f"/demarches/{slug}/etapes/1", data={"nom": "A", "courriel": "a@b.nc"})
    client.post(
        f"/demarches/{slug}/etapes/3",
        data={"piece": (io.BytesIO(PDF), "p.pdf")},
        content_type="multipart/form-data",
    )
    page = client.get(f"/demarches/{slug}/etapes/1?retour=verification").text
    assert "Enregistrer et revenir à la vérification" in page
    response = client.post(
        f"/demarches/{slug}/etapes/1?retour=verification",
        data={"nom": "Wénémé", "courriel": "a@b.nc"},
    )
    assert response.headers["Location"] == f"/demarches/{slug}/verification"
    assert "Wénémé" in client.get(f"/demarches/{slug}/verification").text


def test_check_page_sends_back_to_an_incomplete_page(app, client):
    slug = publish_pages(app)
    start(client, slug)
    client.post(f"/demarches/{slug}/etapes/1", data={"nom": "A", "courriel": "a@b.nc"})
    response = client.get(f"/demarches/{slug}/verification")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/demarches/{slug}/etapes/3?verifier=1"
    page = client.get(response.headers["Location"]).text
    assert "Joignez « Justificatif »." in page


def test_a_hidden_page_is_skipped_and_its_answers_dropped(app, client):
    slug = publish_pages(app)
    start(client, slug)
    data = {"nom": "A", "courriel": "a@b.nc", "entreprise": "oui"}
    client.post(f"/demarches/{slug}/etapes/1", data=data)
    client.post(f"/demarches/{slug}/etapes/2", data={"raison": "SARL"})
    client.post(f"/demarches/{slug}/etapes/1", data={**data, "entreprise": "non"})
    client.post(
        f"/demarches/{slug}/etapes/3",
        data={"piece": (io.BytesIO(PDF), "p.pdf")},
        content_type="multipart/form-data",
    )
    assert client.get(f"/demarches/{slug}/etapes/2").status_code == 302  # not on the path
    assert "SARL" not in client.get(f"/demarches/{slug}/verification").text
    client.post(f"/demarches/{slug}/verification", data={"_jeton": "d" * 32})
    assert "raison" not in latest_submission(app).answers


def test_uploaded_file_is_kept_replaced_or_removed(app, client):
    slug = publish_pages(app)
    start(client, slug)
    url = f"/demarches/{slug}/etapes/3"
    upload = {"piece": (io.BytesIO(PDF), "premier.pdf")}
    client.post(url, data=upload, content_type="multipart/form-data")
    page = client.get(url).text
    assert "premier.pdf" in page and "Supprimer" in page
    refused = client.post(
        url,
        data={"piece": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "virus.pdf")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400
    assert "doit être au format" in refused.text
    assert "premier.pdf" in client.get(url).text  # the good file stays
    client.post(url, data={"_clear": "piece"})
    assert "premier.pdf" not in client.get(url).text
    with app.app_context():
        draft = get_session().query(Submission).one()
        assert draft.attachments == []


def test_a_page_of_someone_else_s_draft_is_out_of_reach(app, client):
    slug = publish_pages(app)
    start(client, slug)
    client.post(f"/demarches/{slug}/etapes/1", data={"nom": "Secret", "courriel": "a@b.nc"})
    stranger = app.test_client()
    response = stranger.get(f"/demarches/{slug}/etapes/1")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/demarches/{slug}/"


def test_groups_keep_their_items_between_visits(app, client):
    fields = [
        {
            "key": "membres",
            "type": "group",
            "label": "Membres",
            "item_label": "membre",
            "fields": [{"key": "nom", "type": "text", "label": "Nom"}],
        }
    ]
    slug = publish_form(app, fields)
    start(client, slug)
    url = f"/demarches/{slug}/etapes/1"
    client.post(url, data={"membres-0-nom": "Kaloï", "_add": "membres"})
    page = client.get(url).text
    assert 'name="membres-1-nom"' in page and 'value="Kaloï"' in page


def test_a_form_closed_while_drafting_says_so(app, client):
    from datetime import timedelta

    from forms_app.db import utcnow
    from forms_app.models import Form

    slug = publish_pages(app)
    start(client, slug)
    with app.app_context():
        session = get_session()
        form = session.query(Form).one()
        form.closes_at = utcnow() - timedelta(minutes=1)
        session.commit()
    response = client.get(f"/demarches/{slug}/etapes/1")
    assert response.status_code == 403
    assert "close" in response.text
