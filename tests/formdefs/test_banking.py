import pytest

from forms_app.formdefs.banking import (
    NC_BANK_BICS,
    IbanResult,
    bic_country,
    format_iban,
    format_rib,
    nc_bank_name,
    normalize_bic,
    normalize_iban,
    normalize_rib,
    rib_key,
)
from forms_app.formdefs.nc import InvalidValue

VALID_FR_IBANS = [
    "FR76 9999 9000 0100 0123 4567 809",
    "FR72 9999 9000 1000 0123 4567 A89",
    "FR76 9999 8060 6012 3456 7890 148",
    "FR14 2004 1010 0505 0001 3M02 606",
]


@pytest.mark.parametrize("typed", VALID_FR_IBANS)
def test_valid_fr_iban_is_normalised_without_warning(typed):
    result = normalize_iban(typed)
    assert result == IbanResult(value=typed.replace(" ", ""))
    assert result.warnings == []
    assert not result.converted


@pytest.mark.parametrize(
    "typed",
    ["fr14 2004 1010 0505 0001 3m02 606", " FR1420041010050500013M02606 ",
     "FR14\u00a02004\u00a01010\u00a00505\u00a00001\u00a03M02\u00a0606"],
)  # fmt: skip
def test_fr_iban_is_compacted_and_upper_cased(typed):
    assert normalize_iban(typed).value == "FR1420041010050500013M02606"


def test_nc_iban_is_converted_to_the_fr_iban_of_the_same_account():
    result = normalize_iban("NC49 9999 9000 0100 0123 4567 809")
    assert result.value == "FR7699999000010001234567809"
    assert result.converted
    assert len(result.warnings) == 1
    assert "commence par NC" in result.warnings[0]
    assert "FR76 9999 9000 0100 0123 4567 809" in result.warnings[0]


def test_nc_iban_with_wrong_check_digits_is_refused():
    with pytest.raises(InvalidValue, match="chiffres de contrôle ne correspondent pas"):
        normalize_iban("NC48 9999 9000 0100 0123 4567 809")


def test_nc_iban_whose_rib_key_is_wrong_is_refused():
    # NC76… passes mod 97 but its RIB key (08) does not match the account.
    with pytest.raises(InvalidValue, match="clé RIB ne correspond pas"):
        normalize_iban("NC76 9999 9000 0100 0123 4567 808")


@pytest.mark.parametrize(
    "typed",
    ["FR76 9999 9000 0100 0123 4567 808", "FR77 9999 9000 0100 0123 4567 809",
     "FR76 9999 9000 0100 0123 4567 890", "FR14 2004 1010 0505 0001 3N02 606"],
)  # fmt: skip
def test_fr_iban_with_wrong_check_digits_is_refused(typed):
    with pytest.raises(InvalidValue, match="chiffres de contrôle ne correspondent pas"):
        normalize_iban(typed)


@pytest.mark.parametrize(
    "typed", ["FR06 9999 9000 0100 0123 4567 808", "FR4120041010050500013M02605"]
)
def test_fr_iban_whose_rib_key_is_wrong_is_refused(typed):
    with pytest.raises(InvalidValue, match="clé RIB ne correspond pas"):
        normalize_iban(typed)


@pytest.mark.parametrize(
    "typed",
    ["", "FR", "FR76 9999 9000 0100 0123 4567 80", "FR76 9999 9000 0100 0123 4567 8090",
     "FR76 A999 9000 0100 0123 4567 809", "FR76 9999 9000 0100 0123 4567 8A9",
     "FR76-9999-9000-0100-0123-4567-809", "NC49 9999 9000 0100 0123 4567 80", "IBAN",
     "7699999000010001234567809"],
)  # fmt: skip
def test_malformed_iban_is_refused(typed):
    with pytest.raises(InvalidValue, match="doit commencer par FR et comporter 27 caractères"):
        normalize_iban(typed)


@pytest.mark.parametrize(
    ("typed", "country"),
    [("DE89 3704 0044 0532 0130 00", "DE"), ("BE68 5390 0754 7034", "BE"),
     ("MC58 1122 2000 0101 2345 6789 030", "MC")],
)  # fmt: skip
def test_iban_of_another_country_is_refused_by_name(typed, country):
    with pytest.raises(InvalidValue, match=f"celui saisi commence par {country}"):
        normalize_iban(typed)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("FR1420041010050500013M02606", "FR14 2004 1010 0505 0001 3M02 606"),
        ("fr76 99999000010001234567809", "FR76 9999 9000 0100 0123 4567 809"),
        ("DE89370400440532013000", "DE89 3704 0044 0532 0130 00"),
        ("", ""),
    ],
)
def test_iban_is_displayed_in_groups_of_four(typed, expected):
    assert format_iban(typed) == expected


@pytest.mark.parametrize(
    ("bank", "branch", "account", "key"),
    [
        ("20041", "01005", "0500013M026", "06"),
        ("20041", "01005", "0500013m026", "06"),
        ("99999", "00001", "00012345678", "09"),
        ("99999", "00010", "0001234567A", "89"),
        ("99998", "06060", "12345678901", "48"),
        ("00000", "00000", "00000000000", "97"),
    ],
)
def test_rib_key_is_computed(bank, branch, account, key):
    assert rib_key(bank, branch, account) == key


@pytest.mark.parametrize(
    ("letters", "digit"),
    [("AJ", "1"), ("BKS", "2"), ("CLT", "3"), ("DMU", "4"), ("ENV", "5"), ("FOW", "6"),
     ("GPX", "7"), ("HQY", "8"), ("IRZ", "9")],
)  # fmt: skip
def test_rib_key_maps_letters_as_the_registry_says(letters, digit):
    expected = rib_key("12345", "67890", f"0000{digit}00000{digit}")
    for letter in letters:
        assert rib_key("12345", "67890", f"0000{letter}00000{letter}") == expected


@pytest.mark.parametrize(
    ("bank", "branch", "account"),
    [("2004", "01005", "0500013M026"), ("20041", "0100", "0500013M026"),
     ("20041", "01005", "0500013M02"), ("2004A", "01005", "0500013M026"),
     ("20041", "01005", "0500013M02-")],
)  # fmt: skip
def test_rib_key_refuses_malformed_parts(bank, branch, account):
    with pytest.raises(InvalidValue, match="code banque de 5 chiffres"):
        rib_key(bank, branch, account)


@pytest.mark.parametrize(
    "typed",
    ["20041 01005 0500013M026 06", "20041010050500013M02606", "20041-01005-0500013m026-06",
     "99999 00001 00012345678 09"],
)  # fmt: skip
def test_valid_rib_is_normalised(typed):
    assert normalize_rib(typed) == typed.replace(" ", "").replace("-", "").upper()


@pytest.mark.parametrize(
    "typed",
    ["20041 01005 0500013M026 05", "20041 01005 0500013M026 07", "99999 00001 00012345678 08"],
)
def test_rib_with_a_wrong_key_is_refused(typed):
    with pytest.raises(InvalidValue, match="clé RIB ne correspond pas"):
        normalize_rib(typed)


def test_rib_key_check_is_modulo_97():
    # A computed key of 97 means a remainder of 0, which a key of 00 also satisfies.
    assert normalize_rib("00000 00000 00000000000 97") == "00000000000000000000097"
    assert normalize_rib("00000 00000 00000000000 00") == "00000000000000000000000"


@pytest.mark.parametrize(
    "typed",
    ["", "20041 01005 0500013M026 6", "20041 01005 0500013M026 066", "2004A 01005 0500013M026 06"],
)
def test_malformed_rib_is_refused(typed):
    with pytest.raises(InvalidValue, match="doit comporter 23 caractères"):
        normalize_rib(typed)


def test_rib_is_displayed_in_its_four_parts():
    assert format_rib("20041010050500013M02606") == "20041 01005 0500013M026 06"


def test_rib_key_agrees_with_the_iban_check():
    for iban in VALID_FR_IBANS:
        compact = iban.replace(" ", "")
        assert rib_key(compact[4:9], compact[9:14], compact[14:25]) == compact[25:]


@pytest.mark.parametrize(
    ("typed", "expected", "country"),
    [
        ("BCADNCNN", "BCADNCNN", "NC"),
        ("bcad nc nn", "BCADNCNN", "NC"),
        ("BNPAFRPPXXX", "BNPAFRPPXXX", "FR"),
        ("SOGENCNN", "SOGENCNN", "NC"),
        ("DEUTDEFF500", "DEUTDEFF500", "DE"),
        ("ANZBAU3M", "ANZBAU3M", "AU"),
    ],
)
def test_bic_is_normalised_and_tells_its_country(typed, expected, country):
    assert normalize_bic(typed) == expected
    assert bic_country(typed) == country


@pytest.mark.parametrize(
    "typed",
    ["", "BCADNCN", "BCADNCNNX", "BCADNCNNXX", "BCADNCNNXXXX", "BCA1NCNN", "BCADN1NN",
     "BCAD-NCNN", "ABCDZZ22"],
)  # fmt: skip
def test_malformed_bic_is_refused(typed):
    with pytest.raises(InvalidValue, match="Le BIC doit comporter 8 ou 11"):
        normalize_bic(typed)


@pytest.mark.parametrize("bic", sorted(NC_BANK_BICS))
def test_every_nc_bank_bic_is_valid_and_named(bic):
    assert normalize_bic(bic) == bic
    assert bic_country(bic) == "NC"
    assert nc_bank_name(bic) == NC_BANK_BICS[bic]
    assert nc_bank_name(f"{bic}XXX") == NC_BANK_BICS[bic]


def test_nc_bank_names():
    assert set(NC_BANK_BICS) == {"BCADNCNN", "CEPANCNM", "BNPANCNX", "SOGENCNN", "CDCGNCNN"}
    assert "BCI" in NC_BANK_BICS["BCADNCNN"]
    assert "BNC" in NC_BANK_BICS["CEPANCNM"]
    assert nc_bank_name("BNPAFRPP") is None
