"""The business emergency aid: loss, eligibility, amounts, priority, the public page."""

import io
import re

import pytest

from tests.formdefs.demo.support import PDF, ineligible_keys, post, run
from tests.support import latest_submission

# --- Business aid -------------------------------------------------------------------------

LAGON_BLEU = {
    "raison_sociale": "SARL LAGON BLEU TOURS",
    "ridet": "1234567001",
    "forme_juridique": "sarl",
    "code_ape": "79.11Z",
    "date_creation": "2014-05-02",
    "adresse_siege": {"street": "12 rue de Sébastopol", "postal_code": "98800", "city": "Nouméa"},
    "commune_siege": "noumea",
    "siege_activite_sud": True,
    "civilite": "monsieur",
    "dirigeant_nom": "Dupuis",
    "dirigeant_prenom": "Paul",
    "dirigeant_qualite": "gerant",
    "telephone": "+687751234",
    "email": "contact@lagonbleu.nc",
    "secteur": "agence_voyages",
    "effectif": 1,
    "fermeture_administrative": False,
    "ca_ref": 2_400_000,
    "ca_crise": 600_000,
    "ca_dernier_exercice": 27_500_000,
    "types_aide": ["tresorerie"],
    "montant_tresorerie": 1_000_000,
    "fonds_solidarite": True,
    "fonds_solidarite_montant": 178_950,
    "chomage_partiel": False,
    "pge": False,
    "prime_exceptionnelle": True,
    "prime_exceptionnelle_montant": 100_000,
    "titulaire_compte": "SARL LAGON BLEU TOURS",
    "iban": "FR7699999000010001234567809",
    "bic": "BCADNCNN",
    "decl_exactitude": True,
    "decl_obligations": True,
    "decl_procedure_collective": True,
    "decl_controles": True,
    "decl_donnees": True,
}
# A retailer outside the priority sectors, for the priority and eligibility cases.
BOUTIQUE = {**LAGON_BLEU, "raison_sociale": "EI BOUTIQUE DU PORT", "secteur": "commerce_detail",
            "forme_juridique": "ei", "effectif": 0, "montant_tresorerie": 300_000}  # fmt: skip


def test_business_eligible_case(entreprises):
    results = run(entreprises, LAGON_BLEU)
    assert results.eligible, results.ineligible
    assert results.computed["perte_pct"] == 75.0
    assert results.computed["perte_ca"] == 1_800_000
    assert results.computed["secteur_prioritaire"] is True
    assert results.computed["tranche_effectif"] == "1 salarié (forfait)"
    assert results.computed["total_autres_aides"] == 278_950
    assert results.amount == 300_000
    assert results.priority == 1


@pytest.mark.parametrize(
    ("ca_ref", "ca_crise", "loss"),
    [(2_400_000, 600_000, 75.0), (1_000_000, 1_000_000, 0.0), (300_000, 0, 100.0),
     (900_000, 600_001, 33.33), (0, 0, None)],
)  # fmt: skip
def test_turnover_loss_is_computed(entreprises, ca_ref, ca_crise, loss):
    results = run(entreprises, {**LAGON_BLEU, "ca_ref": ca_ref, "ca_crise": ca_crise})
    assert results.computed["perte_pct"] == loss


def test_loss_under_fifty_percent_without_closure_is_ineligible(entreprises):
    small_loss = {**BOUTIQUE, "ca_ref": 2_400_000, "ca_crise": 1_500_000}
    results = run(entreprises, small_loss)
    assert results.computed["perte_pct"] == 37.5
    assert ineligible_keys(results) == ["perte_ou_fermeture"]
    assert "au moins 50\u00a0%" in results.ineligible[0]["message"]
    closed = run(entreprises, {**small_loss, "fermeture_administrative": True})
    assert closed.eligible
    assert closed.priority == 1


@pytest.mark.parametrize(
    ("created", "eligible"), [("2020-02-29", True), ("2020-03-01", False), ("2020-03-16", False)]
)
def test_business_created_after_the_cut_off_is_ineligible(entreprises, created, eligible):
    results = run(entreprises, {**LAGON_BLEU, "date_creation": created})
    assert ineligible_keys(results) == ([] if eligible else ["creation_avant_mars_2020"])


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"siege_activite_sud": False}, "siege_activite_province_sud"),
        ({"effectif": 11}, "effectif_dispositif"),
        ({"montant_tresorerie": 1_900_000}, "tresorerie_limitee_a_la_perte"),
        ({"effectif": 0, "types_aide": ["maintien_effectif"], "montant_maintien": 500_000},
         "maintien_reserve_employeurs"),
    ],
)  # fmt: skip
def test_business_ineligible_cases(entreprises, changes, rule):
    assert ineligible_keys(run(entreprises, {**LAGON_BLEU, **changes})) == [rule]


@pytest.mark.parametrize(
    ("effectif", "requested", "amount"),
    [
        (0, 1_000_000, 150_000),
        (1, 1_000_000, 300_000),
        (2, 1_000_000, 450_000),
        (2, 200_000, 200_000),  # the forfait never exceeds the amount requested
        (5, 1_200_000, 1_200_000),  # case by case above 2 employees
    ],
)
def test_cash_aid_forfait_by_headcount_band(entreprises, effectif, requested, amount):
    answers = {**LAGON_BLEU, "effectif": effectif, "montant_tresorerie": requested}
    results = run(entreprises, answers)
    assert results.eligible
    assert results.computed["aide_tresorerie"] == amount
    assert results.amount == amount


def test_headcount_band_label(entreprises):
    bands = {
        n: run(entreprises, {**LAGON_BLEU, "effectif": n}).computed["tranche_effectif"]
        for n in (0, 2, 3)
    }
    assert bands == {0: "0 salarié (forfait)", 2: "2 salariés (forfait)",
                     3: "plus de 2 salariés (cas par cas)"}  # fmt: skip


def test_both_aids_add_up_within_the_cap(entreprises):
    assert entreprises.raw["rules"]["amount"]["cap"] == 11_500_000
    both = {**LAGON_BLEU, "effectif": 8, "ca_ref": 5_000_000, "ca_crise": 0,
            "types_aide": ["tresorerie", "maintien_effectif"]}  # fmt: skip
    results = run(
        entreprises, {**both, "montant_tresorerie": 800_000, "montant_maintien": 2_000_000}
    )
    assert results.eligible
    assert results.amount == 2_800_000
    at_limits = run(
        entreprises, {**both, "montant_tresorerie": 1_500_000, "montant_maintien": 10_000_000}
    )
    assert at_limits.amount == 11_500_000
    # Amounts above the field limits (never accepted by the form) are still held to the cap.
    too_much = run(
        entreprises, {**both, "montant_tresorerie": 1_500_000, "montant_maintien": 14_000_000}
    )
    assert too_much.amount == 11_500_000


def test_maintenance_aid_alone(entreprises):
    answers = {**LAGON_BLEU, "effectif": 4, "types_aide": ["maintien_effectif"],
               "montant_tresorerie": None, "montant_maintien": 3_000_000}  # fmt: skip
    results = run(entreprises, answers)
    assert results.eligible
    assert (results.computed["aide_tresorerie"], results.amount) == (0, 3_000_000)


@pytest.mark.parametrize(
    ("changes", "priority"),
    [
        ({"fermeture_administrative": True}, 1),
        ({"secteur": "restauration"}, 1),
        ({"ca_crise": 300_000}, 2),  # 87.5 % loss
        ({"ca_crise": 480_000}, 2),  # exactly 80 %
        ({}, 3),  # 75 % loss
    ],
)
def test_business_priority(entreprises, changes, priority):
    assert run(entreprises, {**BOUTIQUE, **changes}).priority == priority


@pytest.mark.parametrize(
    ("code", "valid"), [("56.10A", True), ("5610A", True), ("56.10a", False), ("561A", False)]
)
def test_ape_code_pattern(entreprises, code, valid):
    pattern = entreprises.field("code_ape").validation["pattern"]
    assert bool(re.fullmatch(pattern, code)) is valid


BUSINESS_POST = {
    "raison_sociale": "SARL LAGON BLEU TOURS", "ridet": "1234567.001", "forme_juridique": "sarl",
    "code_ape": "79.11Z", "date_creation": "02/05/2014",
    "adresse_siege-street": "12 rue de Sébastopol", "adresse_siege-postal_code": "98800",
    "adresse_siege-city": "Nouméa", "commune_siege": "noumea", "siege_activite_sud": "oui",
    "civilite": "monsieur", "dirigeant_nom": "Dupuis", "dirigeant_prenom": "Paul",
    "dirigeant_qualite": "gerant", "telephone": "75.12.34", "email": "contact@lagonbleu.nc",
    "secteur": "agence_voyages", "effectif": "1", "fermeture_administrative": "non",
    "ca_ref": "2 400 000", "ca_crise": "600 000",
    "types_aide": ["tresorerie"], "montant_tresorerie": "1 000 000",
    "fonds_solidarite": "non", "chomage_partiel": "non", "pge": "non", "prime_exceptionnelle": "non",
    "titulaire_compte": "SARL LAGON BLEU TOURS", "iban": "FR76 9999 9000 0100 0123 4567 809",
    "bic": "BCADNCNN",
    "decl_exactitude": "y", "decl_obligations": "y", "decl_procedure_collective": "y",
    "decl_controles": "y", "decl_donnees": "y",
}  # fmt: skip


def business_post(**changes) -> dict:
    """The posted business form, with fresh uploads (a stream is read once)."""
    files = {
        "piece_avis_ridet": (io.BytesIO(PDF), "avis-ridet.pdf"),
        "piece_rib": (io.BytesIO(PDF), "rib.pdf"),
        "piece_identite": (io.BytesIO(PDF), "identite.pdf"),
        "piece_justificatifs_ca": [
            (io.BytesIO(PDF), "tgc-mars-2019.pdf"),
            (io.BytesIO(PDF), "tgc-mars-2020.pdf"),
        ],
        "piece_cafat": (io.BytesIO(PDF), "cafat.pdf"),
    }
    return {**BUSINESS_POST, **files, **changes}


def test_business_aid_submitted_through_the_public_page(app, client, published):
    slug = "aide-entreprises-covid"
    assert client.get(f"/demarches/{slug}/").status_code == 200
    response = post(client, slug, business_post())
    assert response.status_code == 302, response.text
    submission = latest_submission(app)
    assert submission.reference.startswith("AIDE-")
    assert submission.answers["ridet"] == "1234567001"
    assert len(submission.answers["piece_justificatifs_ca"]) == 2
    assert submission.rule_results["computed"]["perte_pct"] == 75.0
    assert (submission.computed_amount, submission.priority) == (300_000, 1)


def test_business_aid_refused_with_the_rule_message(app, client, published):
    response = post(client, "aide-entreprises-covid", business_post(ca_crise="1 500 000"))
    assert response.status_code == 422
    assert "au moins 50\u00a0% par rapport à mars 2019" in response.text
    assert latest_submission(app) is None
