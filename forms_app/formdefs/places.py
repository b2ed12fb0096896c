"""Places: New Caledonian postal codes, the communes of Province Sud, countries."""

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import babel

from forms_app.formdefs.nc import InvalidValue

_NC_POSTAL_CODE = re.compile(r"988[0-9]{2}")


def normalize_nc_postal_code(value: str) -> str:
    """Return a New Caledonian postal code (988XX), or raise InvalidValue."""
    compact = "".join(value.split())
    if not _NC_POSTAL_CODE.fullmatch(compact):
        raise InvalidValue(
            "Le code postal doit comporter 5 chiffres et commencer par 988, par exemple 98800."
        )
    return compact


# --- Communes of Province Sud ------------------------------------------------------------


@dataclass(frozen=True)
class Commune:
    """A commune: a stable ASCII key, its name, the postal code of its main post office."""

    key: str
    name: str
    postal_code: str


PROVINCE_SUD_COMMUNES: tuple[Commune, ...] = (
    Commune("boulouparis", "Boulouparis", "98812"),
    Commune("bourail", "Bourail", "98870"),
    Commune("dumbea", "Dumbéa", "98835"),
    Commune("farino", "Farino", "98881"),
    Commune("ile-des-pins", "Île des Pins", "98832"),
    Commune("la-foa", "La Foa", "98880"),
    Commune("moindou", "Moindou", "98819"),
    Commune("mont-dore", "Le Mont-Dore", "98809"),
    Commune("noumea", "Nouméa", "98800"),
    Commune("paita", "Païta", "98889"),
    Commune("poya-sud", "Poya (partie sud)", "98827"),
    Commune("sarramea", "Sarraméa", "98882"),
    Commune("thio", "Thio", "98829"),
    Commune("yate", "Yaté", "98834"),
)
_COMMUNES_BY_KEY = {commune.key: commune for commune in PROVINCE_SUD_COMMUNES}


def get_commune(key: str) -> Commune:
    """Return the commune of Province Sud with this key, or raise InvalidValue."""
    try:
        return _COMMUNES_BY_KEY[key.strip().lower()]
    except KeyError:
        raise InvalidValue("Choisissez une commune de la province Sud dans la liste.") from None


def commune_choices() -> list[tuple[str, str]]:
    """Return (key, name) pairs of the communes of Province Sud, for a select field."""
    return [(commune.key, commune.name) for commune in PROVINCE_SUD_COMMUNES]


# --- Countries ---------------------------------------------------------------------------

# Countries offered first on the repatriation form, in this order.
QUICK_PICK_COUNTRIES: tuple[str, ...] = ("AU", "NZ", "FR", "VU", "JP", "PF", "WF", "FJ")
# Two-letter codes Babel (CLDR) knows that are not countries: groupings, pseudo-locales,
# "unknown region", and places ISO 3166-1 counts inside another country. Kosovo (XK) stays.
_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)


def _sort_key(name: str) -> tuple[str, str]:
    """Return a key sorting names alphabetically, ignoring accents and case."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return stripped.casefold(), name


@cache
def countries(locale: str = "fr") -> tuple[tuple[str, str], ...]:
    """Return (ISO 3166 alpha-2 code, name) pairs of all countries, sorted by name."""
    territories = babel.Locale.parse(locale).territories
    pairs = (
        (code, name)
        for code, name in territories.items()
        if len(code) == 2 and code.isascii() and code.isalpha() and code not in _NOT_COUNTRIES
    )
    return tuple(sorted(pairs, key=lambda pair: _sort_key(pair[1])))


@cache
def _country_names(locale: str) -> dict[str, str]:
    """Return the country names by code."""
    return dict(countries(locale))


def normalize_country_code(value: str) -> str:
    """Return an ISO 3166 alpha-2 country code in upper case, or raise InvalidValue."""
    code = value.strip().upper()
    if code not in _country_names("fr"):
        raise InvalidValue("Choisissez un pays dans la liste.")
    return code


def country_name(code: str, locale: str = "fr") -> str:
    """Return the name of a country from its ISO 3166 alpha-2 code."""
    return _country_names(locale)[normalize_country_code(code)]


def quick_pick_countries(locale: str = "fr") -> tuple[tuple[str, str], ...]:
    """Return (code, name) pairs of the repatriation form's quick-pick countries, in order."""
    return tuple((code, country_name(code, locale)) for code in QUICK_PICK_COUNTRIES)
