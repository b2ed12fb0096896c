"""Normalise and check bank details: French IBAN (and NC IBAN converted), RIB key, BIC.

New Caledonian accounts use the French IBAN format (FR + 23 characters). Some banks print the
same account as an IBAN starting with NC; `normalize_iban` converts it to the FR IBAN, which
payment files need, and says so in a warning.
"""

import re
from dataclasses import dataclass, field

from schwifty import BIC, IBAN
from schwifty.exceptions import InvalidBBANChecksum, InvalidChecksumDigits, SchwiftyException

from forms_app.formdefs.nc import InvalidValue

_FR_IBAN = re.compile(r"FR[0-9]{2}[0-9]{10}[0-9A-Z]{11}[0-9]{2}")
_NC_IBAN = re.compile(r"NC[0-9]{2}[0-9]{10}[0-9A-Z]{11}[0-9]{2}")
_RIB = re.compile(r"([0-9]{5})([0-9]{5})([0-9A-Z]{11})([0-9]{2})")
_BIC = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
FR_IBAN_LENGTH = 27
IBAN_FORMAT_MESSAGE = (
    "L’IBAN doit commencer par FR et comporter 27 caractères, "
    "par exemple FR76 3000 1007 9412 3456 7890 185."
)
IBAN_TYPO_MESSAGE = (
    "Cet IBAN contient une erreur : ses chiffres de contrôle ne correspondent pas. "
    "Recopiez-le depuis votre relevé d’identité bancaire (RIB)."
)
RIB_KEY_MESSAGE = (
    "La clé RIB ne correspond pas au numéro de compte : "
    "recopiez-le depuis votre relevé d’identité bancaire (RIB)."
)

# Banks of New Caledonia, by the first 8 characters of their BIC.
NC_BANK_BICS: dict[str, str] = {
    "BCADNCNN": "Banque calédonienne d’investissement (BCI)",
    "CEPANCNM": "Banque de Nouvelle-Calédonie (BNC)",
    "BNPANCNX": "BNP Paribas Nouvelle-Calédonie",
    "SOGENCNN": "Société générale calédonienne de banque (SGCB)",
    "CDCGNCNN": "Caisse des dépôts et consignations (CDC)",
}


@dataclass(frozen=True)
class IbanResult:
    """A normalised IBAN (compact, upper case) and what the applicant should be told about it."""

    value: str
    warnings: list[str] = field(default_factory=list)
    converted: bool = False


def _compact_upper(value: str) -> str:
    """Remove all whitespace and upper-case."""
    return "".join(value.split()).upper()


def _check_fr_iban(compact: str) -> str:
    """Return a compact FR IBAN whose check digits and RIB key hold, or raise InvalidValue."""
    if len(compact) != FR_IBAN_LENGTH or not _FR_IBAN.fullmatch(compact):
        raise InvalidValue(IBAN_FORMAT_MESSAGE)
    try:
        return IBAN(compact, validate_bban=True).compact
    except InvalidChecksumDigits as error:
        raise InvalidValue(IBAN_TYPO_MESSAGE) from error
    except InvalidBBANChecksum as error:
        raise InvalidValue(RIB_KEY_MESSAGE) from error
    except SchwiftyException as error:
        raise InvalidValue(IBAN_FORMAT_MESSAGE) from error


def _mod97_holds(compact: str) -> bool:
    """Tell whether an IBAN's check digits hold (ISO 7064 mod 97-10)."""
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _convert_nc_iban(compact: str) -> IbanResult:
    """Return the FR IBAN of the same account as an NC IBAN, with a warning."""
    if not _NC_IBAN.fullmatch(compact):
        raise InvalidValue(IBAN_FORMAT_MESSAGE)
    if not _mod97_holds(compact):
        raise InvalidValue(IBAN_TYPO_MESSAGE)
    fr_iban = _check_fr_iban(IBAN.from_bban("FR", compact[4:]).compact)
    warning = (
        f"L’IBAN saisi commence par NC : il a été converti en IBAN {format_iban(fr_iban)}, "
        "qui désigne le même compte. Vérifiez qu’il correspond à votre RIB."
    )
    return IbanResult(value=fr_iban, warnings=[warning], converted=True)


def normalize_iban(value: str) -> IbanResult:
    """Return a French IBAN, converting an NC IBAN to FR, or raise InvalidValue."""
    compact = _compact_upper(value)
    if compact.startswith("NC"):
        return _convert_nc_iban(compact)
    if re.fullmatch(r"[A-Z]{2}[0-9]{2}[0-9A-Z]+", compact) and not compact.startswith("FR"):
        raise InvalidValue(
            "Seuls les comptes ouverts en France ou en Nouvelle-Calédonie sont acceptés : "
            f"l’IBAN doit commencer par FR (ou NC), et celui saisi commence par {compact[:2]}."
        )
    return IbanResult(value=_check_fr_iban(compact))


def format_iban(value: str) -> str:
    """Return an IBAN displayed in groups of 4 characters."""
    compact = _compact_upper(value)
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _rib_numbers(account: str) -> int:
    """Return the account number with letters replaced by digits (A/J→1 … I/R/Z→9)."""
    letters = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "12345678912345678923456789")
    return int(account.translate(letters))


def rib_key(bank: str, branch: str, account: str) -> str:
    """Return the 2-digit RIB key of a bank code, branch code and account number."""
    bban = f"{bank}{branch}{account.upper()}00"
    match = _RIB.fullmatch(bban)
    if not match:
        raise InvalidValue(
            "Un RIB comporte un code banque de 5 chiffres, un code guichet de 5 chiffres "
            "et un numéro de compte de 11 caractères."
        )
    remainder = (89 * int(bank) + 15 * int(branch) + 3 * _rib_numbers(match[3])) % 97
    return f"{97 - remainder:02d}"


def normalize_rib(value: str) -> str:
    """Return a RIB as 23 characters (bank, branch, account, key), or raise InvalidValue."""
    compact = re.sub(r"[\s.\-]", "", value).upper()
    match = _RIB.fullmatch(compact)
    if not match:
        raise InvalidValue(
            "Le RIB doit comporter 23 caractères : code banque (5 chiffres), code guichet "
            "(5 chiffres), numéro de compte (11 caractères) et clé (2 chiffres)."
        )
    bank, branch, account, key = match.groups()
    if (int(rib_key(bank, branch, account)) - int(key)) % 97:
        raise InvalidValue(RIB_KEY_MESSAGE)
    return compact


def format_rib(value: str) -> str:
    """Return a RIB displayed as bank, branch, account and key separated by spaces."""
    rib = normalize_rib(value)
    return f"{rib[:5]} {rib[5:10]} {rib[10:21]} {rib[21:]}"


def normalize_bic(value: str) -> str:
    """Return a BIC (8 or 11 characters, upper case), or raise InvalidValue."""
    compact = _compact_upper(value)
    message = "Le BIC doit comporter 8 ou 11 lettres et chiffres, par exemple BCADNCNN."
    if not _BIC.fullmatch(compact):
        raise InvalidValue(message)
    try:
        BIC(compact)
    except SchwiftyException as error:
        raise InvalidValue(message) from error
    return compact


def bic_country(value: str) -> str:
    """Return the ISO 3166 code of the country of a BIC (its 5th and 6th characters)."""
    return normalize_bic(value)[4:6]


def nc_bank_name(value: str) -> str | None:
    """Return the name of the New Caledonian bank of a BIC, or None for another bank."""
    return NC_BANK_BICS.get(normalize_bic(value)[:8])
