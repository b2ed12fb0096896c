"""Amounts in words: the test vectors of DOMAIN §7 and the French rules behind them."""

import pytest

from forms_app.amount_words import amount_in_words

DOMAIN_VECTORS = [
    (150_000, "cent cinquante mille francs CFP"),
    (178_950, "cent soixante-dix-huit mille neuf cent cinquante francs CFP"),
    (596_500, "cinq cent quatre-vingt-seize mille cinq cents francs CFP"),
    (1_500_000, "un million cinq cent mille francs CFP"),
    (10_000_000, "dix millions de francs CFP"),
]
RULES = [
    (0, "zéro franc CFP"),
    (1, "un franc CFP"),
    (2, "deux francs CFP"),
    (21, "vingt et un francs CFP"),
    (71, "soixante et onze francs CFP"),
    (80, "quatre-vingts francs CFP"),  # plural when it ends the number
    (80_000, "quatre-vingt mille francs CFP"),  # not before mille
    (200, "deux cents francs CFP"),
    (200_000, "deux cent mille francs CFP"),
    (2_000, "deux mille francs CFP"),  # mille is invariable
    (200_000_000, "deux cents millions de francs CFP"),  # million is a noun
    (1_000_000_000, "un milliard de francs CFP"),
    (1_000_001, "un million un francs CFP"),
]


@pytest.mark.parametrize(("amount", "words"), DOMAIN_VECTORS + RULES)
def test_amounts_are_written_by_the_french_rules(amount, words):
    assert amount_in_words(amount) == words


@pytest.mark.parametrize("amount", [-1, 1.5, "100", True, None])
def test_only_whole_non_negative_amounts(amount):
    with pytest.raises(ValueError):
        amount_in_words(amount)
