"""Normalise and check New Caledonian formats: RIDET, phone numbers, XPF amounts, dates.

Every `normalize_*`/`parse_*` function returns the normalised value or raises `InvalidValue`,
whose message is a French sentence to show the applicant as is. Pure functions: no Flask, no
database. Banking formats live in `banking.py`, places in `places.py`.
"""

import re
from datetime import date
from typing import Literal

import phonenumbers

# Separators people type inside identifiers and phone numbers.
_SEPARATORS = re.compile(r"[\s.\-/()]")

NNBSP = "\u202f"  # narrow no-break space: thousands separator
NBSP = "\u00a0"  # no-break space: before the currency


class InvalidValue(ValueError):
    """A value the applicant typed cannot be accepted; the message says why, in French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _compact(value: str) -> str:
    """Remove spaces, dots, hyphens, slashes and parentheses."""
    return _SEPARATORS.sub("", value)


# --- RIDET -------------------------------------------------------------------------------

_RIDET = re.compile(r"[0-9]{10}")
RIDET_FORMAT_MESSAGE = "Le numéro RIDET doit comporter 10 chiffres, par exemple 1234567.001."


def normalize_ridet(value: str) -> str:
    """Return the RIDET as 10 digits, or raise InvalidValue."""
    compact = re.sub(r"[\s.\-]", "", value)
    if not _RIDET.fullmatch(compact):
        raise InvalidValue(RIDET_FORMAT_MESSAGE)
    if compact.endswith("000"):
        raise InvalidValue(
            "Les 3 derniers chiffres du numéro RIDET (l’établissement) ne peuvent pas être 000 : "
            "recopiez le numéro complet, par exemple 1234567.001."
        )
    return compact


def format_ridet(value: str) -> str:
    """Return the RIDET displayed as NNNNNNN.EEE."""
    ridet = normalize_ridet(value)
    return f"{ridet[:7]}.{ridet[7:]}"


def ridet_rid(value: str) -> str:
    """Return the 7-digit RID (the company) of a RIDET."""
    return normalize_ridet(value)[:7]


# --- Phone numbers -----------------------------------------------------------------------

PhoneMode = Literal["nc", "international"]
PhoneKind = Literal["mobile", "fixed", "other"]

NC_COUNTRY_CODE = "687"
_NC_NATIONAL = re.compile(r"(050|[2-57-9][0-9]{2})[0-9]{3}")
_NC_MOBILE = re.compile(r"(5[0-4]|[79][0-9]|8[0-79])[0-9]{4}")
_NC_FIXED = re.compile(r"(2[03-9]|3[0-5]|4[1-7]|88)[0-9]{4}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
NC_PHONE_MESSAGE = (
    "Le numéro de téléphone doit être un numéro de Nouvelle-Calédonie à 6 chiffres, "
    "par exemple 75.12.34."
)


def _with_plus(compact: str) -> str:
    """Write an international 00 prefix as +."""
    return "+" + compact[2:] if compact.startswith("00") else compact


def normalize_nc_phone(value: str) -> str:
    """Return a New Caledonian number in E.164 (+687XXXXXX), or raise InvalidValue."""
    compact = _with_plus(_compact(value))
    if compact.startswith("+" + NC_COUNTRY_CODE):
        compact = compact[1 + len(NC_COUNTRY_CODE) :]
    elif compact.startswith("+"):
        raise InvalidValue(
            "Seuls les numéros de Nouvelle-Calédonie (+687) sont acceptés ici, "
            "par exemple 75.12.34."
        )
    if not _NC_NATIONAL.fullmatch(compact):
        raise InvalidValue(NC_PHONE_MESSAGE)
    return f"+{NC_COUNTRY_CODE}{compact}"


def format_nc_phone(value: str) -> str:
    """Return a New Caledonian number displayed as XX.XX.XX."""
    national = normalize_nc_phone(value)[-6:]
    return f"{national[:2]}.{national[2:4]}.{national[4:]}"


def nc_phone_kind(value: str) -> PhoneKind:
    """Tell whether a New Caledonian number is a mobile, a fixed line or another service."""
    national = normalize_nc_phone(value)[-6:]
    if _NC_MOBILE.fullmatch(national):
        return "mobile"
    if _NC_FIXED.fullmatch(national):
        return "fixed"
    return "other"


def normalize_international_phone(value: str) -> str:
    """Return a number of any country in E.164, or raise InvalidValue."""
    compact = _with_plus(_compact(value))
    if _NC_NATIONAL.fullmatch(compact) or compact.startswith("+" + NC_COUNTRY_CODE):
        return normalize_nc_phone(compact)
    if not compact.startswith("+"):
        raise InvalidValue(
            "Indiquez l’indicatif du pays devant le numéro, par exemple +33 6 12 34 56 78 "
            "ou 0033 6 12 34 56 78."
        )
    message = "Ce numéro de téléphone n’est pas valide : vérifiez l’indicatif du pays et le numéro."
    if not _E164.fullmatch(compact):
        raise InvalidValue(message)
    try:
        number = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException as error:
        raise InvalidValue(message) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue(message)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone(value: str, mode: PhoneMode = "nc") -> str:
    """Return a phone number in E.164 under the field's mode, or raise InvalidValue."""
    if mode == "nc":
        return normalize_nc_phone(value)
    if mode == "international":
        return normalize_international_phone(value)
    raise ValueError(f"unknown phone mode {mode!r}")


def format_phone(value: str) -> str:
    """Return a number for display: XX.XX.XX in New Caledonia, international format elsewhere."""
    e164 = normalize_international_phone(value)
    if e164.startswith("+" + NC_COUNTRY_CODE):
        return format_nc_phone(e164)
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --- Amounts in francs CFP (XPF) ---------------------------------------------------------

_XPF_SUFFIX = re.compile(r"\s*(f\s*cfp|fcfp|xpf|cfp|f)\.?\s*$", re.IGNORECASE)
_XPF_PLAIN = re.compile(r"[0-9]+")
_XPF_SPACED = re.compile(r"[0-9]{1,3}(?:\s[0-9]{3})+")
_XPF_DOTTED = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+")
_XPF_DECIMAL = re.compile(r"[0-9]+(?:[\s.][0-9]{3})*[.,][0-9]{1,2}")
XPF_MAX_DIGITS = 15
XPF_MAX = 10**XPF_MAX_DIGITS - 1  # the largest amount anything accepts
XPF_MESSAGE = "Le montant doit être un nombre entier de francs CFP, par exemple 150 000."


def parse_xpf(value: str) -> int:
    """Return an amount in francs CFP as an int, or raise InvalidValue."""
    text = _XPF_SUFFIX.sub("", value.strip())
    if text.startswith(("-", "−")):
        raise InvalidValue("Le montant ne peut pas être négatif.")
    if _XPF_PLAIN.fullmatch(text) or _XPF_SPACED.fullmatch(text) or _XPF_DOTTED.fullmatch(text):
        digits = re.sub(r"[\s.]", "", text)
        if len(digits.lstrip("0")) > XPF_MAX_DIGITS:
            raise InvalidValue("Le montant est trop élevé.")
        return int(digits)
    if _XPF_DECIMAL.fullmatch(text):
        raise InvalidValue(
            "Le franc CFP n’a pas de centimes : saisissez un montant entier, par exemple 150 000."
        )
    raise InvalidValue(XPF_MESSAGE)


def format_xpf(amount: int) -> str:
    """Return an amount displayed as 1 500 000 F CFP, with no-break spaces."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"an amount in francs CFP is an int, not {type(amount).__name__}")
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,}".replace(",", NNBSP) + f"{NBSP}F CFP"


# --- Dates -------------------------------------------------------------------------------

_FRENCH_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
DATE_MESSAGE = "La date doit être écrite au format JJ/MM/AAAA, par exemple 14/07/2025."


def parse_date(value: str) -> date:
    """Return the date written JJ/MM/AAAA (or AAAA-MM-JJ), or raise InvalidValue."""
    text = value.strip()
    if match := _FRENCH_DATE.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        raise InvalidValue(DATE_MESSAGE)
    try:
        return date(year, month, day)
    except ValueError as error:
        raise InvalidValue(
            f"La date {text} n’existe pas : vérifiez le jour, le mois et l’année."
        ) from error


def format_date(value: date) -> str:
    """Return a date displayed as JJ/MM/AAAA."""
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
