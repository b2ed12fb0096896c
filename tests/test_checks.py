"""The checks job: rules recomputed with the pinned version, duplicate keys, fraud flags."""

import pytest
from sqlalchemy import select

from forms_app import checks, publishing, submissions
from forms_app.db import get_session
from forms_app.formdefs import definition as definitions
from forms_app.formdefs import rules
from forms_app.formdefs.rules import RuleResults
from forms_app.models import Flag, Form, OutboxMessage, Submission
from tests.formdefs.demo.test_aide_entreprises import LAGON_BLEU, business_post
from tests.formdefs.demo.test_rapatriement import ALONE
from tests.support import latest_submission, publish_form, run_worker_burst, submit_answers
from workflows import outbox

# A company of the same plan, different from Lagon Bleu in every key.
SNACK = {**LAGON_BLEU, "raison_sociale": "Snack Chez Émile", "ridet": "7654321001",
         "email": "emile@snack.nc", "titulaire_compte": "SNACK CHEZ EMILE EURL",
         "iban": "FR7299999000100001234567A89"}  # fmt: skip
# A valid IBAN of a metropolitan bank (La Banque Postale, 20041): not an NC bank.
METROPOLE_IBAN = "FR1420041010050500013M02606"


# --- Pure rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("holder", "company"),
    [
        ("SARL LAGON BLEU TOURS", "Lagon Bleu Tours SARL"),
        ("Sté Lagon-Bleu Tours", "SARL LAGON BLEU TOURS"),
        ("BOULANGERIE DE L ANSE VATA", "Boulangerie de l’Anse-Vata"),
        ("Boutique du Port", "EI BOUTIQUE DU PORT"),
        ("SNACK CHEZ EMILE EURL", "Snack Chez Émile"),
        ("STE CALEDONIENNE DE TRANSPORT TOURISTIQUE", "Société calédonienne de transport touristique"),
        ("LAGON BLEU TOUR", "SARL LAGON BLEU TOURS"),
        ("Lagon Bleu", "SARL LAGON BLEU TOURS"),
        ("TOURS LAGON BLEU", "LAGON BLEU TOURS"),
    ],
)  # fmt: skip
def test_holder_names_that_are_the_company(holder, company):
    assert checks.names_alike(holder, company)


@pytest.mark.parametrize(
    ("holder", "company"),
    [
        ("M. Paul Dupuis", "SARL LAGON BLEU TOURS"),
        ("Kaloï Wénémé", "SARL LAGON BLEU TOURS"),
        ("GARAGE DU NORD", "EI BOUTIQUE DU PORT"),
        ("Nouméa Location Auto", "SAS Pacific Rent a Car"),
        ("SARL LAGON VERT IMMOBILIER", "SARL LAGON BLEU TOURS"),
    ],
)  # fmt: skip
def test_holder_names_unlike_the_company(holder, company):
    assert not checks.names_alike(holder, company)


def test_keys_are_normalised():
    assert checks.rid_of("1234567.001") == checks.rid_of("1234567002") == "1234567"
    assert checks.rid_of("12345") is None
    assert checks.iban_of("fr76 9999 9000 0100 0123 4567 809") == "FR7699999000010001234567809"
    definition = definitions.load(publishing_data())
    same = [
        {"nom": "Martin", "prenoms": "Léa Marie", "naissance": "1994-06-12"},
        {"nom": "MARTIN ", "prenoms": "LEA", "naissance": "1994-06-12"},
        {"nom": "martin", "prenoms": " léa-marie", "naissance": "1994-06-12"}, # hyphen kept whole
    ]  # fmt: skip
    keys = [checks.identity_of(definition, answers) for answers in same]
    assert keys[0] == keys[1] == "martin|lea|1994-06-12"
    assert keys[2] == "martin|leamarie|1994-06-12"


def test_bank_codes():
    assert checks.bank_problem("FR7699999000010001234567809", ("99999", "99998")) is None
    assert "20041" in checks.bank_problem(METROPOLE_IBAN, ("99999", "99998"))
    assert "DE" in checks.bank_problem("DE89370400440532013000", ("99999",))


def publishing_data(version: int = 1) -> dict:
    """A one-page form with an identity, a date rule and an amount rule (differs per version)."""
    return {
        "format": 1,
        "slug": "essai-regles",
        "title": "Formulaire d’essai",
        "settings": {
            "reference_prefix": "ESSAI",
            "identity_fields": {
                "last_name": "nom",
                "first_names": "prenoms",
                "birth_date": "naissance",
            },
        },
        "pages": [
            {
                "key": "page_1",
                "title": "Page 1",
                "fields": [
                    {"key": "nom", "type": "text", "label": "Nom", "required": True},
                    {"key": "prenoms", "type": "text", "label": "Prénoms", "required": True},
                    {
                        "key": "naissance",
                        "type": "date",
                        "label": "Date de naissance",
                        "required": True,
                    },
                    {"key": "courriel", "type": "email", "label": "E-mail", "required": True},
                    {"key": "montant", "type": "amount", "label": "Montant", "required": True},
                ],
            }
        ],
        "rules": {
            "eligibility": [
                {
                    "key": "majeur",
                    "message": "Réservé aux majeurs.",
                    "condition": "years_between(naissance, '2020-03-20') >= 18",
                }
            ],
            "amount": {"expression": f"montant * {version + 1}"},
            "priority": {"expression": "1 if montant > 100000 else 2"},
        },
    }


# --- The job, run by real workers -----------------------------------------------------------


def load_demo_forms(app) -> None:
    from forms_app.forms_cli import load_demo_forms

    with app.app_context():
        load_demo_forms()


def submit_direct(app, slug: str, answers: dict, state: str | None = None) -> int:
    """Record a submission as the public pages do (the check job is queued with it)."""
    with app.app_context():
        session = get_session()
        form = session.scalar(select(Form).where(Form.slug == slug))
        version = form.current_version
        definition = definitions.of_version(version)
        results = rules.evaluate(definition, answers)
        submission = submissions.submit(session, form, version, definition, answers, results)
        if state:
            submission.state = state
        session.commit()
        return submission.id


def flags_of(app, submission_id: int) -> list[tuple[str, int | None]]:
    with app.app_context():
        found = get_session().scalars(
            select(Flag).where(Flag.submission_id == submission_id).order_by(Flag.kind, Flag.id)
        )
        return [(f.kind, f.other_submission_id) for f in found]


def all_flags(app) -> list[tuple[int, str, str, int | None]]:
    with app.app_context():
        rows = get_session().scalars(select(Flag).order_by(Flag.id))
        return sorted((f.submission_id, f.kind, f.key, f.other_submission_id) for f in rows)


def test_same_company_twice_on_a_form_flags_both_requests(app):
    load_demo_forms(app)
    slug = "aide-entreprises-covid"
    first = submit_direct(app, slug, LAGON_BLEU)
    # Same company (RID), another establishment, another address and account: a duplicate.
    second = submit_direct(
        app, slug, {**LAGON_BLEU, "ridet": "1234567002", "email": "gerant@lagonbleu.nc",
                    "iban": "FR7699998060601234567890148"},
    )  # fmt: skip
    distinct = submit_direct(app, slug, SNACK)
    run_worker_burst(app)

    assert flags_of(app, first) == [("same_rid", second)]
    assert flags_of(app, second) == [("same_rid", first)]
    assert flags_of(app, distinct) == []
    with app.app_context():
        session = get_session()
        one, two = session.get(Submission, first), session.get(Submission, second)
        assert (one.dup_rid, two.dup_rid) == ("1234567", "1234567")
        assert one.dup_iban == "FR7699999000010001234567809"
        [flag] = session.scalars(select(Flag).where(Flag.submission_id == second))
        assert flag.message == (
            f"Même entreprise (RID 1234567) que la demande {one.reference} sur cette démarche."
        )


def test_same_account_for_two_companies_flags_both(app):
    load_demo_forms(app)
    slug = "aide-entreprises-covid"
    first = submit_direct(app, slug, LAGON_BLEU)
    second = submit_direct(app, slug, {**SNACK, "iban": LAGON_BLEU["iban"]})
    run_worker_burst(app)
    assert flags_of(app, first) == [("same_iban", second)]
    assert flags_of(app, second) == [("same_iban", first)]


def test_holder_unlike_company_and_non_nc_bank(app):
    load_demo_forms(app)
    slug = "aide-entreprises-covid"
    alike = submit_direct(app, slug, {**LAGON_BLEU, "titulaire_compte": "Lagon Bleu Tours"})
    unlike = submit_direct(
        app, slug, {**SNACK, "titulaire_compte": "M. Paul Dupuis", "iban": METROPOLE_IBAN}
    )
    run_worker_burst(app)
    assert flags_of(app, alike) == []
    assert flags_of(app, unlike) == [("foreign_bank", None), ("holder_name", None)]
    with app.app_context():
        messages = {
            f.kind: f.message
            for f in get_session().scalars(select(Flag).where(Flag.submission_id == unlike))
        }
    assert "« M. Paul Dupuis »" in messages["holder_name"]
    assert "code banque 20041" in messages["foreign_bank"]


def test_same_person_twice_on_the_repatriation_form(app):
    load_demo_forms(app)
    slug = "signalement-rapatriement"
    first = submit_direct(app, slug, ALONE)
    again = submit_direct(
        app, slug, {**ALONE, "nom_naissance": "MARTIN", "prenoms": "Lea", "email": "lm@ex.nc"}
    )
    namesake = submit_direct(
        app, slug, {**ALONE, "date_naissance": "1996-01-30", "email": "autre@ex.nc"}
    )
    run_worker_burst(app)
    assert flags_of(app, first) == [("same_person", again)]
    assert flags_of(app, again) == [("same_person", first)]
    assert flags_of(app, namesake) == []


def test_withdrawn_and_cancelled_requests_are_not_compared(app):
    load_demo_forms(app)
    slug = "aide-entreprises-covid"
    submit_direct(app, slug, LAGON_BLEU, state="withdrawn")
    submit_direct(app, slug, {**LAGON_BLEU, "email": "x@lagonbleu.nc"}, state="cancelled")
    live = submit_direct(app, slug, {**LAGON_BLEU, "email": "y@lagonbleu.nc"})
    run_worker_burst(app)
    assert all_flags(app) == []
    assert flags_of(app, live) == []


def test_running_the_job_twice_adds_nothing(app):
    load_demo_forms(app)
    slug = "aide-entreprises-covid"
    first = submit_direct(app, slug, LAGON_BLEU)
    second = submit_direct(app, slug, {**LAGON_BLEU, "titulaire_compte": "Paul Dupuis"})
    run_worker_burst(app)
    before = all_flags(app)
    assert len(before) == 3  # same RID on both, holder on the second
    with app.app_context():
        session = get_session()
        for submission_id in (first, second, first):
            outbox.add(session, "check_submission", submission_id=submission_id)
        session.commit()
    run_worker_burst(app)
    assert all_flags(app) == before
    with app.app_context():
        statuses = get_session().scalars(
            select(OutboxMessage.status).where(OutboxMessage.job == "check_submission")
        )
        assert {s.value for s in statuses} == {"done"}


def test_recomputation_uses_the_pinned_version(app):
    with app.app_context():
        session = get_session()
        form = publishing.create_form(session, publishing_data(1), None)
        publishing.publish(session, form, None)
        session.commit()
    answers = {"nom": "Wénémé", "prenoms": "Kaloï", "naissance": "2010-05-01",
               "courriel": "k@ex.nc", "montant": 150_000}  # fmt: skip
    with app.app_context():
        session = get_session()
        form = session.scalar(select(Form).where(Form.slug == "essai-regles"))
        version = form.current_version
        definition = definitions.of_version(version)
        # Stored without results (as if the web tier had computed nothing) ...
        submission = submissions.submit(session, form, version, definition, answers, RuleResults())
        submission.search_text = None
        session.commit()
        submission_id = submission.id
        # ... then version 2 changes the amount rule before the job runs.
        publishing.save_draft(session, form, publishing_data(2), None)
        publishing.publish(session, form, None)
        session.commit()
        assert form.current_version.number == 2
    run_worker_burst(app)
    with app.app_context():
        found = get_session().get(Submission, submission_id)
        assert found.form_version.number == 1
        assert found.computed_amount == 300_000  # montant * 2: version 1
        assert found.priority == 1
        assert found.rule_results["eligible"] is False  # a date rule read the ISO date
        assert found.dup_identity == "weneme|kaloi|2010-05-01"
        assert "weneme" in found.search_text and found.reference.lower() in found.search_text
    assert flags_of(app, submission_id) == [("ineligible", None)]


def test_the_public_page_queues_the_checks(app, client):
    load_demo_forms(app)
    slug = "aide-entreprises-covid"
    assert submit_answers(client, slug, business_post()).status_code == 302
    first = latest_submission(app)
    post = business_post(ridet="1234567.002", email="autre@lagonbleu.nc")
    assert submit_answers(app.test_client(), slug, post).status_code == 302
    second = latest_submission(app)
    run_worker_burst(app)
    assert flags_of(app, first.id) == [("same_rid", second.id)]
    assert flags_of(app, second.id) == [("same_rid", first.id)]


def test_forms_without_keys_raise_nothing(app, client):
    slug = publish_form(app, [{"key": "nom", "type": "text", "label": "Nom", "required": True}])
    for _ in range(2):
        assert submit_answers(app.test_client(), slug, {"nom": "Dupont"}).status_code == 302
    run_worker_burst(app)
    assert all_flags(app) == []
