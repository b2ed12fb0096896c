"""Amounts in words, as payment acts write them: French rules, in francs CFP.

num2words applies the French spelling rules (deux cents but deux cent mille, quatre-vingts but
quatre-vingt mille, vingt et un, soixante et onze); the currency follows them: "de" after a
round million or milliard (dix millions de francs CFP), singular for zero and one.
"""

from num2words import num2words

CURRENCY, CURRENCY_PLURAL = "franc CFP", "francs CFP"


def amount_in_words(amount: int) -> str:
    """Write a whole amount of XPF in words, e.g. 150000 → "cent cinquante mille francs CFP"."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"an amount in words needs a whole, non-negative number: {amount!r}")
    words = num2words(amount, lang="fr")
    unit = CURRENCY if amount < 2 else CURRENCY_PLURAL
    if words.endswith(("million", "millions", "milliard", "milliards")):
        return f"{words} de {unit}"
    return f"{words} {unit}"
