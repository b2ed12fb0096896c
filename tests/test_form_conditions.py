"""Conditional visibility, computed rules and version pinning, through the public page."""

import pytest

from forms_app import publishing
from forms_app.db import get_session, utcnow
from forms_app.formdefs.conditions import is_visible
from forms_app.formdefs.nc import format_xpf
from forms_app.models import Role
from tests.support import first_page, latest_submission, make_user, publish_form, submit_answers

YES_NO = {"key": "malade", "type": "yesno", "label": "Avez-vous un problème de santé ?",
          "required": True}  # fmt: skip
DETAILS = {"key": "details", "type": "textarea", "label": "Précisez", "required": True,
           "visible_if": {"field": "malade", "equals": True}}  # fmt: skip


def test_hidden_required_field_does_not_block_and_is_not_stored(app, client):
    slug = publish_form(app, [YES_NO, DETAILS])
    response = submit_answers(client, slug, {"malade": "non", "details": "ignoré"})
    assert response.status_code == 302, response.text
    assert latest_submission(app).answers == {"malade": False}


def test_shown_required_field_blocks(app, client):
    slug = publish_form(app, [YES_NO, DETAILS])
    response = submit_answers(client, slug, {"malade": "oui"})
    assert response.status_code == 400
    assert "Renseignez « Précisez »." in response.text
    response = submit_answers(client, slug, {"malade": "oui", "details": "Asthme"})
    assert latest_submission(app).answers == {"malade": True, "details": "Asthme"}


def test_condition_is_rendered_for_progressive_enhancement(app, client):
    slug = publish_form(app, [YES_NO, DETAILS])
    page = first_page(client, slug).text
    assert 'data-visible-if="{&#34;equals&#34;: true, &#34;field&#34;: &#34;malade&#34;}"' in page


def test_hidden_page_hides_its_fields(app, client):
    data = {
        "format": 1, "slug": "pages", "title": "Pages",
        "pages": [
            {"key": "p1", "title": "Aide", "fields": [
                {"key": "aide", "type": "yesno", "label": "Demandez-vous une aide ?", "required": True}]},
            {"key": "p2", "title": "Banque", "visible_if": {"field": "aide", "equals": True},
             "fields": [{"key": "iban", "type": "iban", "label": "IBAN", "required": True}]},
        ],
    }  # fmt: skip
    with app.app_context():
        session = get_session()
        publishing.publish(session, publishing.create_form(session, data, None), None)
        session.commit()
    assert submit_answers(client, "pages", {"aide": "non"}).status_code == 302
    assert submit_answers(client, "pages", {"aide": "oui"}).status_code == 400


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ({"field": "n", "equals": 3}, {"n": 3}, True),
        ({"field": "n", "not_equals": 3}, {"n": 3}, False),
        ({"field": "c", "in": ["a", "b"]}, {"c": "b"}, True),
        ({"field": "c", "in": ["a", "b"]}, {"c": None}, False),
        ({"field": "m", "contains": "x"}, {"m": ["x", "y"]}, True),
        ({"field": "m", "contains": "x"}, {"m": None}, False),
        ({"field": "n", "gt": 2}, {"n": 3}, True),
        ({"field": "n", "gt": 3}, {"n": 3}, False),
        ({"field": "n", "gte": 3}, {"n": 3}, True),
        ({"field": "n", "lt": 3}, {"n": None}, False),
        ({"field": "n", "lte": 3}, {"n": 3}, True),
        ({"field": "t", "filled": True}, {"t": ""}, False),
        ({"field": "t", "filled": False}, {}, True),
        ({"field": "b", "equals": "oui"}, {"b": True}, True),
        ({"all": [{"field": "n", "gt": 1}, {"field": "c", "equals": "a"}]}, {"n": 2, "c": "b"}, False),
        ({"any": [{"field": "n", "gt": 1}, {"field": "c", "equals": "a"}]}, {"n": 0, "c": "a"}, True),
        ({"not": {"field": "n", "gt": 1}}, {"n": 0}, True),
        (None, {}, True),
    ],
)  # fmt: skip
def test_condition_operators(condition, values, expected):
    assert is_visible(condition, values) is expected


BUSINESS = [
    {"key": "effectif", "type": "integer", "label": "Effectif", "required": True},
    {"key": "ca_ref", "type": "amount", "label": "CA mars 2019", "required": True},
    {"key": "ca_crise", "type": "amount", "label": "CA mars 2020", "required": True},
]
RULES = {
    "computed": [{"key": "perte_pct", "expression": "percent_loss(ca_ref, ca_crise)"}],
    "eligibility": [
        {"key": "perte", "condition": "perte_pct >= 50",
         "message": "La perte de chiffre d’affaires doit atteindre 50 %."},
    ],
    "amount": {"expression": "band(effectif, [[0, 150000], [2, 300000]], ca_ref - ca_crise)",
               "cap": 1500000},
    "priority": {"expression": "1 if perte_pct >= 80 else 3"},
}  # fmt: skip


@pytest.mark.parametrize(
    ("answers", "amount", "priority"),
    [
        ({"effectif": "0", "ca_ref": "1 000 000", "ca_crise": "100 000"}, 150000, 1),
        ({"effectif": "2", "ca_ref": "1 000 000", "ca_crise": "400 000"}, 300000, 3),
        ({"effectif": "5", "ca_ref": "1 000 000", "ca_crise": "500 000"}, 500000, 3),
        ({"effectif": "9", "ca_ref": "9 000 000", "ca_crise": "0"}, 1500000, 1),  # capped
    ],
)
def test_rule_results_are_stored_with_the_version(app, client, answers, amount, priority):
    slug = publish_form(app, BUSINESS, rules=RULES)
    assert submit_answers(client, slug, answers).status_code == 302
    submission = latest_submission(app)
    assert submission.computed_amount == amount
    assert submission.priority == priority
    assert submission.rule_results["eligible"] is True
    assert submission.rule_results["computed"]["perte_pct"] >= 50
    assert submission.form_version_id is not None


def test_ineligible_answers_block_submission_with_the_rule_message(app, client):
    slug = publish_form(app, BUSINESS, rules=RULES)
    answers = {"effectif": "1", "ca_ref": "1 000 000", "ca_crise": "600 000"}
    response = submit_answers(client, slug, answers)
    assert response.status_code == 422
    assert "La perte de chiffre d’affaires doit atteindre 50 %." in response.text
    assert format_xpf(600_000) in response.text  # the check page shows the answers
    assert "Envoyer ma demande" not in response.text
    assert latest_submission(app) is None


def test_submission_keeps_its_version_after_a_new_one_is_published(app, client, auth):
    slug = publish_form(app, [{"key": "nom", "type": "text", "label": "Nom", "required": True}])
    assert submit_answers(client, slug, {"nom": "Wamytan"}).status_code == 302
    first = latest_submission(app)
    with app.app_context():
        session = get_session()
        form = publishing.get_form(session, slug)
        draft = {**form.draft}
        draft["pages"] = [
            {
                **draft["pages"][0],
                "fields": [
                    {
                        "key": "nom_complet",
                        "type": "text",
                        "label": "Nom et prénom",
                        "required": True,
                    }
                ],
            }
        ]
        publishing.save_draft(session, form, draft, None)
        publishing.publish(session, form, None)
        session.commit()
    assert submit_answers(client, slug, {"nom_complet": "Léa Wamytan"}).status_code == 302
    second = latest_submission(app)
    assert second.form_version_id != first.form_version_id
    make_user(app, Role.AGENT)
    auth.login()
    old = client.get(f"/agents/demandes/{first.reference}")
    assert old.status_code == 200
    assert "Nom" in old.text and "Wamytan" in old.text
    assert "Nom et prénom" not in old.text
    new = client.get(f"/agents/demandes/{second.reference}")
    assert "Nom et prénom" in new.text and "Léa Wamytan" in new.text


def test_references_follow_each_other(app, client):
    slug = publish_form(app, [{"key": "nom", "type": "text", "label": "Nom"}])
    submit_answers(client, slug, {})
    submit_answers(client, slug, {})
    year = utcnow().year
    assert latest_submission(app).reference == f"ESSAI-{year}-000002"


def test_closed_or_future_form_says_so(app, client):
    from datetime import timedelta

    slug = publish_form(app, [{"key": "nom", "type": "text", "label": "Nom"}])
    with app.app_context():
        session = get_session()
        form = publishing.get_form(session, slug)
        publishing.schedule(session, form, utcnow() + timedelta(days=2), None, None)
        session.commit()
    response = first_page(client, slug)
    assert response.status_code == 403
    assert "pas encore ouverte" in response.text
    with app.app_context():
        session = get_session()
        form = publishing.get_form(session, slug)
        publishing.schedule(session, form, None, None, None)
        publishing.close(session, form, None)
        session.commit()
    response = submit_answers(client, slug, {})
    assert response.status_code == 403
    assert "close" in response.text
    assert latest_submission(app) is None
    assert client.get("/demarches/inconnu/").status_code == 404


def test_an_amount_or_priority_out_of_range_is_kept_as_a_rule_error(app, client):
    """Answers within each field's limits can multiply past any column: the request is kept."""
    rules = {
        "amount": {"expression": "ca_ref * ca_crise"},
        "priority": {"expression": "ca_ref * effectif"},
    }
    slug = publish_form(app, BUSINESS, rules=rules)
    answers = {"effectif": "900", "ca_ref": "999 999 999 999", "ca_crise": "999 999 999 999"}
    assert submit_answers(client, slug, answers).status_code == 302
    submission = latest_submission(app)
    assert submission.computed_amount is None and submission.priority is None
    errors = submission.rule_results["errors"]
    assert any(error.startswith("amount:") and "out of range" in error for error in errors)
    assert any(error.startswith("priority:") and "out of range" in error for error in errors)

    answers = {"effectif": "3", "ca_ref": "3 000 000", "ca_crise": "1 000"}
    assert submit_answers(client, slug, answers).status_code == 302
    submission = latest_submission(app)
    assert submission.computed_amount == 3_000_000_000 and submission.priority == 9_000_000
    assert submission.rule_results["errors"] == []
