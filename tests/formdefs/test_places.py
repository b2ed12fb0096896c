import re
import unicodedata

import pytest

from forms_app.formdefs.nc import InvalidValue
from forms_app.formdefs.places import (
    PROVINCE_SUD_COMMUNES,
    QUICK_PICK_COUNTRIES,
    Commune,
    commune_choices,
    countries,
    country_name,
    get_commune,
    normalize_country_code,
    normalize_nc_postal_code,
    quick_pick_countries,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("98800", "98800"), (" 98800 ", "98800"), ("988 00", "98800"), ("98899", "98899")],
)
def test_nc_postal_code_is_normalised(typed, expected):
    assert normalize_nc_postal_code(typed) == expected


@pytest.mark.parametrize(
    "typed", ["", "9880", "988000", "98700", "98900", "75001", "9880A", "988-00", "١٢٣٤٥"]
)
def test_postal_code_outside_new_caledonia_is_refused(typed):
    with pytest.raises(InvalidValue, match="commencer par 988"):
        normalize_nc_postal_code(typed)


EXPECTED_COMMUNES = {
    "boulouparis": ("Boulouparis", "98812"),
    "bourail": ("Bourail", "98870"),
    "dumbea": ("Dumbéa", "98835"),
    "farino": ("Farino", "98881"),
    "ile-des-pins": ("Île des Pins", "98832"),
    "la-foa": ("La Foa", "98880"),
    "moindou": ("Moindou", "98819"),
    "mont-dore": ("Le Mont-Dore", "98809"),
    "noumea": ("Nouméa", "98800"),
    "paita": ("Païta", "98889"),
    "sarramea": ("Sarraméa", "98882"),
    "thio": ("Thio", "98829"),
    "yate": ("Yaté", "98834"),
    "poya-sud": ("Poya (partie sud)", "98827"),
}


def test_province_sud_has_its_fourteen_communes():
    assert {c.key: (c.name, c.postal_code) for c in PROVINCE_SUD_COMMUNES} == EXPECTED_COMMUNES
    assert len(PROVINCE_SUD_COMMUNES) == len(EXPECTED_COMMUNES)


def test_commune_keys_are_stable_ascii_slugs_and_postal_codes_are_valid():
    for commune in PROVINCE_SUD_COMMUNES:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", commune.key)
        assert normalize_nc_postal_code(commune.postal_code) == commune.postal_code


@pytest.mark.parametrize("key", sorted(EXPECTED_COMMUNES))
def test_commune_is_found_by_key(key):
    name, postal_code = EXPECTED_COMMUNES[key]
    assert get_commune(key) == Commune(key, name, postal_code)


def test_commune_lookup_forgives_case_and_spaces():
    assert get_commune(" Noumea ").name == "Nouméa"


@pytest.mark.parametrize("key", ["", "nouméa", "koumac", "mont dore", "poya", "Le Mont-Dore"])
def test_unknown_commune_is_refused(key):
    with pytest.raises(InvalidValue, match="commune de la province Sud"):
        get_commune(key)


def test_commune_choices_pair_keys_with_names_in_list_order():
    choices = commune_choices()
    assert choices == [(c.key, c.name) for c in PROVINCE_SUD_COMMUNES]
    assert ("noumea", "Nouméa") in choices


def _plain(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def test_countries_are_iso_codes_sorted_by_french_name_ignoring_accents():
    pairs = countries()
    codes = [code for code, _ in pairs]
    names = [name for _, name in pairs]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in codes)
    assert [_plain(name) for name in names] == sorted(_plain(name) for name in names)
    assert pairs[0] == ("AF", "Afghanistan")
    # Accented initials sort with their plain letter, not after Z.
    assert codes.index("EG") < codes.index("ES") < codes.index("US") < codes.index("ET")
    assert codes.index("AX") < codes.index("IN") < codes.index("IS")
    assert codes.index("CM") < codes.index("CI") < codes.index("HR")


def test_countries_cover_the_pacific_and_leave_out_non_countries():
    codes = {code for code, _ in countries()}
    assert {"NC", "PF", "WF", "VU", "FJ", "AU", "NZ", "FR", "JP", "AQ"} <= codes
    assert not codes & {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "IC", "EA"}
    assert 245 <= len(codes) <= 260


def test_countries_can_be_named_in_another_language():
    assert dict(countries("en"))["NC"] == "New Caledonia"
    assert countries("en")[0] == ("AF", "Afghanistan")


@pytest.mark.parametrize(
    ("code", "name"),
    [("NC", "Nouvelle-Calédonie"), ("nc", "Nouvelle-Calédonie"), ("AU", "Australie"),
     ("NZ", "Nouvelle-Zélande"), ("WF", "Wallis-et-Futuna"), (" fr ", "France")],
)  # fmt: skip
def test_country_name_in_french(code, name):
    assert country_name(code) == name


def test_country_name_in_english():
    assert country_name("VU", locale="en") == "Vanuatu"
    assert country_name("pf", locale="en") == "French Polynesia"


@pytest.mark.parametrize("code", ["", "ZZ", "EU", "FRA", "F", "1A", "QQ"])
def test_unknown_country_code_is_refused(code):
    with pytest.raises(InvalidValue, match="Choisissez un pays"):
        normalize_country_code(code)
    with pytest.raises(InvalidValue):
        country_name(code)


def test_quick_pick_countries_keep_their_order():
    assert QUICK_PICK_COUNTRIES == ("AU", "NZ", "FR", "VU", "JP", "PF", "WF", "FJ")
    assert quick_pick_countries() == (
        ("AU", "Australie"),
        ("NZ", "Nouvelle-Zélande"),
        ("FR", "France"),
        ("VU", "Vanuatu"),
        ("JP", "Japon"),
        ("PF", "Polynésie française"),
        ("WF", "Wallis-et-Futuna"),
        ("FJ", "Fidji"),
    )
    assert quick_pick_countries("en")[0] == ("AU", "Australia")
