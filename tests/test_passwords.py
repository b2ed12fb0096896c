"""The staff password policy: length, common passwords, the account's own name."""

import pytest

from forms_app import passwords

REFUSED = {
    "court": "au moins 12 caractères",
    "password1234": "parmi les plus utilisés",
    "AZERTY123456": "parmi les plus utilisés",  # whatever the case
    "Motdepasse2026!": "parmi les plus utilisés",  # a common word, digits and a symbol
    "soleil 2026 !!!": "parmi les plus utilisés",
    "jean.dupont.2026": "ni votre adresse e-mail",
    "ma-cle-WAMYTAN-98800": "ni votre adresse e-mail",  # the name, in capitals
    "aaaaaaaaaaaaaaaa": "trop peu de caractères différents",
    "abababababababab": "trop peu de caractères différents",
}
ACCEPTED = ["trois petits chats verts", "correct-horse-battery", "Nouméa-lagon-2026-récif"]


@pytest.mark.parametrize(("password", "message"), REFUSED.items())
def test_weak_passwords_are_refused_with_a_french_reason(app, password, message):
    with app.test_request_context():
        refused = passwords.problem(
            password, min_length=12, email="jean.dupont@province-sud.nc", name="Jean Wamytan"
        )
    assert refused is not None and message in refused


@pytest.mark.parametrize("password", ACCEPTED)
def test_long_uncommon_passwords_are_accepted(app, password):
    with app.test_request_context():
        assert passwords.problem(password, min_length=12, email="jean.dupont@province-sud.nc",
                                 name="Jean Wamytan") is None  # fmt: skip


def test_the_list_holds_the_common_passwords():
    listed = passwords.common()
    assert len(listed) > 19_000
    assert {"123456", "azerty", "motdepasse", "password"} <= listed
