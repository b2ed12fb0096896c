"""The staff password policy: long enough, not a common password, not the account's name.

The common passwords are the 20,000 most common ones of leaked lists, as Django ships them
(`forms_app/data/common-passwords.txt.gz`, from Django's `django.contrib.auth`, BSD licence).
A password is refused when it is one of them, or one of them followed by digits and symbols
("azerty123456", "motdepasse2026!"), whatever the case. Length beats complexity rules: no
"one capital, one digit" requirement (NIST SP 800-63B §5.1.1.2).
"""

import gzip
import re
from functools import cache
from pathlib import Path

from flask_babel import gettext as _

COMMON = Path(__file__).parent / "data" / "common-passwords.txt.gz"
# Digits, symbols and spaces people append to a word to pass a length rule.
_SUFFIX = re.compile(r"[\d\W_]+$")
_SHORTEST_WORD = 4


@cache
def common() -> frozenset[str]:
    with gzip.open(COMMON, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def problem(password: str, *, min_length: int, email: str = "", name: str = "") -> str | None:
    """Why `password` is refused (French, for the person choosing it), or None."""
    if len(password) < min_length:
        return _("Le mot de passe doit compter au moins %(count)d caractères.", count=min_length)
    folded = password.casefold()
    word = _SUFFIX.sub("", folded)
    if folded in common() or (len(word) >= _SHORTEST_WORD and word in common()):
        return _(
            "Ce mot de passe figure parmi les plus utilisés (listes de mots de passe "
            "divulgués) : choisissez-en un autre, par exemple une phrase de quatre mots."
        )
    local = email.partition("@")[0].casefold()
    names = [part for part in re.split(r"[\W_]+", f"{local} {name}".casefold()) if len(part) > 2]
    if any(part in folded for part in names):
        return _("Le mot de passe ne doit pas contenir votre nom ni votre adresse e-mail.")
    if len(set(folded)) < 4:
        return _("Le mot de passe contient trop peu de caractères différents.")
    return None
