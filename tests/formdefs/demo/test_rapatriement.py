"""The repatriation registration: priorities, flat aid, eligibility, the public page."""

import io
import re

import pytest

from tests.formdefs.demo.support import PDF, ineligible_keys, post, run
from tests.support import latest_submission

# --- Repatriation -------------------------------------------------------------------------

ALONE = {
    "civilite": "madame",
    "nom_naissance": "Martin",
    "prenoms": "Léa Marie",
    "date_naissance": "1994-06-12",
    "lieu_naissance": "Nouméa (Nouvelle-Calédonie)",
    "nationalite": "Française",
    "numero_cafat": "123456",
    "numero_passeport": "19AB12345",
    "passeport_expiration": "2027-05-01",
    "adresse_residence": {
        "street": "12 rue de Sébastopol",
        "postal_code": "98800",
        "city": "Nouméa",
    },
    "province_residence": "sud",
    "commune_residence": "noumea",
    "residence_depuis": "1994-06-12",
    "pays_sejour": "AU",
    "ville_sejour": "Sydney",
    "type_hebergement": "hotel_payant",
    "hebergement_gratuit": False,
    "motif_sejour": "vacances",
    "date_depart_nc": "2020-03-07",
    "billet_retour": True,
    "compagnie": "aircalin",
    "reference_reservation": "K7XQ2B",
    "date_retour_prevue": "2020-03-22",
    "date_emission_billet": "2020-01-15",
    "vol_annule": True,
    "probleme_sante": False,
    "traitement_en_cours": False,
    "grossesse": False,
    "mobilite_reduite": False,
    "symptomes_covid": False,
    "personnel_medical": False,
    "metier_essentiel": False,
    "difficultes_financieres": "moderees",
    "demande_aide": False,
    "accompagne": False,
    "telephone_etranger": "+61412345678",
    "email": "lea.martin@exemple.nc",
    "attestation_honneur": True,
    "consentement_partage": True,
}
CONJOINT = {"nom": "Martin", "prenom": "Hugo", "naissance": "1991-02-03", "lien": "conjoint"}
BEBE = {"nom": "Martin", "prenom": "Jade", "naissance": "2018-09-02", "lien": "enfant"}
GRAND = {"nom": "Martin", "prenom": "Tom", "naissance": "2016-11-20", "lien": "enfant"}


def with_members(*members, **changes) -> dict:
    return {**ALONE, "accompagne": True, "membres": list(members), **changes}


@pytest.mark.parametrize(
    ("answers", "priority"),
    [
        ({**ALONE, "probleme_sante": True, "probleme_sante_details": "Diabète insulinodépendant"}, 1),
        ({**ALONE, "grossesse": True}, 1),
        ({**ALONE, "probleme_sante": True, "difficultes_financieres": "graves"}, 1),
        ({**ALONE, "personnel_medical": True}, 2),
        ({**ALONE, "metier_essentiel": True, "difficultes_financieres": "graves"}, 2),
        ({**ALONE, "difficultes_financieres": "graves"}, 3),
        (with_members(CONJOINT, BEBE), 4),
        (with_members(CONJOINT, GRAND), 5),
        (ALONE, 5),
    ],
)  # fmt: skip
def test_repatriation_priority(rapatriement, answers, priority):
    assert run(rapatriement, answers).priority == priority


@pytest.mark.parametrize(
    ("answers", "persons", "amount"),
    [
        ({**ALONE, "demande_aide": True}, 1, 50_000),
        (with_members(CONJOINT, demande_aide=True), 2, 75_000),
        (with_members(CONJOINT, BEBE, demande_aide=True), 3, 90_000),
        (with_members(CONJOINT, BEBE, GRAND, demande_aide=True), 4, 100_000),
        (with_members(CONJOINT, BEBE, GRAND, GRAND, GRAND, demande_aide=True), 6, 100_000),
        (ALONE, 1, None),
        (with_members(CONJOINT), 2, None),
    ],
)
def test_repatriation_flat_aid_by_household_size(rapatriement, answers, persons, amount):
    results = run(rapatriement, answers)
    assert results.eligible
    assert results.computed["personnes"] == persons
    assert results.amount == amount


def test_provincial_aid_is_for_province_sud_residents_only(rapatriement):
    nord = {**ALONE, "province_residence": "nord", "commune_hors_sud": "Koné"}
    asking = run(rapatriement, {**nord, "demande_aide": True})
    assert ineligible_keys(asking) == ["aide_reservee_residents_sud"]
    assert (
        "réservée aux personnes qui résident dans une commune de la province Sud"
        in (asking.ineligible[0]["message"])
    )
    assert asking.amount is None
    not_asking = run(rapatriement, nord)
    assert not_asking.eligible
    assert not_asking.amount is None


def test_the_sworn_statement_is_required(rapatriement):
    results = run(rapatriement, {**ALONE, "attestation_honneur": None})
    assert ineligible_keys(results) == ["attestation_sur_l_honneur"]


def test_residence_under_six_months_is_a_flag_not_a_blocker(rapatriement):
    recent = run(rapatriement, {**ALONE, "demande_aide": True, "residence_depuis": "2019-12-01"})
    assert recent.computed["residence_jours"] == 110
    assert recent.computed["residence_plus_6_mois"] is False
    assert recent.eligible
    assert recent.amount == 50_000
    assert run(rapatriement, ALONE).computed["residence_plus_6_mois"] is True


@pytest.mark.parametrize(
    ("changes", "days"),
    [
        ({}, 15),  # flight planned on 22 March: counted from 31 March
        ({"date_retour_prevue": "2020-04-10"}, 5),  # planned return later than 31 March
        ({"date_retour_prevue": "2020-05-02"}, 0),  # not yet stranded
        ({"billet_retour": False, "date_retour_prevue": None}, 15),
    ],
)
def test_days_stranded(rapatriement, changes, days):
    assert run(rapatriement, {**ALONE, **changes}).computed["jours_bloques"] == days


def test_young_child_is_under_three(rapatriement):
    assert run(rapatriement, with_members(CONJOINT, BEBE)).computed["enfant_bas_age"] is True
    assert run(rapatriement, with_members(CONJOINT, GRAND)).computed["enfant_bas_age"] is False
    assert run(rapatriement, ALONE).computed["enfant_bas_age"] is False


@pytest.mark.parametrize(
    ("pnr", "valid"), [("K7XQ2B", True), ("ABC123", True), ("k7xq2b", False), ("K7XQ2", False)]
)
def test_booking_reference_pattern(rapatriement, pnr, valid):
    rules = rapatriement.field("reference_reservation").validation
    assert bool(re.fullmatch(rules["pattern"], pnr)) is valid
    assert rules["pattern_message"].startswith("La référence de réservation comporte 6 caractères")


def test_repatriation_submitted_through_the_public_page(app, client, published):
    slug = "signalement-rapatriement"
    page = client.get(f"/demarches/{slug}/")
    assert page.status_code == 200
    assert "bloqué hors du territoire" in page.text
    data = {
        "civilite": "madame", "nom_naissance": "Martin", "prenoms": "Léa Marie",
        "date_naissance": "12/06/1994", "lieu_naissance": "Nouméa", "nationalite": "Française",
        "numero_passeport": "19AB12345", "passeport_expiration": "01/05/2027",
        "adresse_residence-street": "12 rue de Sébastopol",
        "adresse_residence-postal_code": "98800", "adresse_residence-city": "Nouméa",
        "province_residence": "sud", "commune_residence": "noumea", "residence_depuis": "12/06/1994",
        "pays_sejour": "NZ", "ville_sejour": "Auckland", "type_hebergement": "amis",
        "hebergement_gratuit": "oui", "motif_sejour": "visite_familiale", "date_depart_nc": "02/03/2020",
        "billet_retour": "oui", "compagnie": "aircalin", "reference_reservation": "K7XQ2B",
        "date_retour_prevue": "24/03/2020", "date_emission_billet": "10/01/2020", "vol_annule": "oui",
        "probleme_sante": "non", "traitement_en_cours": "non", "grossesse": "non",
        "mobilite_reduite": "non", "symptomes_covid": "non",
        "personnel_medical": "non", "metier_essentiel": "non",
        "difficultes_financieres": "graves", "demande_aide": "oui",
        "accompagne": "oui", "membres-0-nom": "Martin", "membres-0-prenom": "Hugo",
        "membres-0-naissance": "03/02/1991", "membres-0-lien": "conjoint",
        "telephone_etranger": "+64 21 123 4567", "email": "lea.martin@exemple.nc",
        "contact_nc_nom": "Anne Martin", "contact_nc_telephone": "75.12.34",
        "aide_titulaire": "Léa Martin", "aide_iban": "FR76 9999 9000 0100 0123 4567 809",
        "aide_rib": (io.BytesIO(PDF), "rib.pdf"),
        "attestation_honneur": "y", "consentement_partage": "y",
    }  # fmt: skip
    response = post(client, slug, data)
    assert response.status_code == 302, response.text
    submission = latest_submission(app)
    assert submission.reference.startswith("RAPA-")
    assert submission.answers["membres"][0]["prenom"] == "Hugo"
    assert submission.answers["contact_nc_telephone"] == "+687751234"
    assert (submission.computed_amount, submission.priority) == (75_000, 3)
