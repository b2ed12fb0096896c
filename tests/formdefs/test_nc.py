from datetime import date

import pytest

from forms_app.formdefs.nc import (
    InvalidValue,
    format_date,
    format_nc_phone,
    format_phone,
    format_ridet,
    format_xpf,
    nc_phone_kind,
    normalize_international_phone,
    normalize_nc_phone,
    normalize_phone,
    normalize_ridet,
    parse_date,
    parse_xpf,
    ridet_rid,
)

NBSP = "\u00a0"
NNBSP = "\u202f"


def test_invalid_value_is_a_value_error_carrying_its_message():
    error = InvalidValue("Message.")
    assert isinstance(error, ValueError)
    assert error.message == str(error) == "Message."


# --- RIDET -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1234567001", "1234567001"),
        ("1234567.001", "1234567001"),
        ("1 234 567 001", "1234567001"),
        ("1234567-001", "1234567001"),
        (" 0000000.001 ", "0000000001"),
        ("9999999.999", "9999999999"),
    ],
)
def test_ridet_is_normalised_to_ten_digits(typed, expected):
    assert normalize_ridet(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["", "123456.001", "12345678.001", "123456700", "12345670011", "1234567.00A", "1234567_001",
     "١٢٣٤٥٦٧٠٠١"],
)  # fmt: skip
def test_ridet_of_other_than_ten_digits_is_refused(typed):
    with pytest.raises(InvalidValue, match="doit comporter 10 chiffres"):
        normalize_ridet(typed)


@pytest.mark.parametrize("typed", ["1234567.000", "1234567000", "0000000000"])
def test_ridet_without_an_establishment_is_refused(typed):
    with pytest.raises(InvalidValue, match="ne peuvent pas être 000"):
        normalize_ridet(typed)


def test_ridet_is_displayed_with_a_dot_and_gives_its_rid():
    assert format_ridet("1234567 002") == "1234567.002"
    assert ridet_rid("1234567.002") == "1234567"
    with pytest.raises(InvalidValue):
        ridet_rid("1234567")


# --- Phone numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["75.12.34", "75 12 34", "751234", "75-12-34", "+687 75 12 34", "+687751234", "00687751234",
     "00 687 75.12.34", "(+687) 75 12 34", f"75{NBSP}12{NBSP}34"],
)  # fmt: skip
def test_nc_phone_is_normalised_to_e164(typed):
    assert normalize_nc_phone(typed) == "+687751234"


@pytest.mark.parametrize(
    "national",
    ["050123", "200000", "399999", "412345", "512345", "712345", "812345", "999999"],
)
def test_every_nc_number_range_is_accepted(national):
    assert normalize_nc_phone(national) == f"+687{national}"


@pytest.mark.parametrize(
    "typed",
    ["", "75123", "7512345", "012345", "051234", "112345", "612345", "75.12.3a", "687751234",
     "+6877512345"],
)  # fmt: skip
def test_nc_phone_out_of_the_numbering_plan_is_refused(typed):
    with pytest.raises(InvalidValue, match="numéro de Nouvelle-Calédonie à 6 chiffres"):
        normalize_nc_phone(typed)


@pytest.mark.parametrize("typed", ["+33 6 12 34 56 78", "0061412345678"])
def test_nc_phone_refuses_other_countries(typed):
    with pytest.raises(InvalidValue, match=r"Seuls les numéros de Nouvelle-Calédonie \(\+687\)"):
        normalize_nc_phone(typed)


def test_nc_phone_is_displayed_in_pairs():
    assert format_nc_phone("+687751234") == "75.12.34"
    assert format_nc_phone("00687 05 01 23") == "05.01.23"


@pytest.mark.parametrize(
    ("national", "kind"),
    [
        ("501234", "mobile"),
        ("541234", "mobile"),
        ("701234", "mobile"),
        ("991234", "mobile"),
        ("801234", "mobile"),
        ("891234", "mobile"),
        ("201234", "fixed"),
        ("231234", "fixed"),
        ("291234", "fixed"),
        ("351234", "fixed"),
        ("411234", "fixed"),
        ("471234", "fixed"),
        ("881234", "fixed"),
        ("551234", "other"),
        ("211234", "other"),
        ("221234", "other"),
        ("361234", "other"),
        ("401234", "other"),
        ("481234", "other"),
        ("050123", "other"),
    ],
)
def test_nc_phone_kind_tells_mobiles_from_fixed_lines(national, kind):
    assert nc_phone_kind(national) == kind


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("+61 412 345 678", "+61412345678"),
        ("+64 21 123 4567", "+64211234567"),
        ("+1 (202) 555-0143", "+12025550143"),
        ("+687 75.12.34", "+687751234"),
        ("00687 75 12 34", "+687751234"),
        ("75.12.34", "+687751234"),
    ],
)
def test_international_phone_is_normalised_to_e164(typed, expected):
    assert normalize_international_phone(typed) == expected


@pytest.mark.parametrize("typed", ["06 12 34 56 78", "0412345678", "612345"])
def test_international_phone_needs_a_country_code(typed):
    with pytest.raises(InvalidValue, match="Indiquez l’indicatif du pays"):
        normalize_international_phone(typed)


@pytest.mark.parametrize(
    "typed",
    ["+", "+0612345678", "+33 6 12", "+1234567890123456", "+33 6 12 34 56 7x", "+33 1"],
)
def test_international_phone_out_of_any_plan_is_refused(typed):
    with pytest.raises(InvalidValue, match="n’est pas valide"):
        normalize_international_phone(typed)


def test_international_phone_checks_nc_numbers_against_the_nc_plan():
    with pytest.raises(InvalidValue, match="6 chiffres"):
        normalize_international_phone("+687 61 23 45")


def test_phone_mode_chooses_the_rules():
    assert normalize_phone("75 12 34") == "+687751234"
    assert normalize_phone("75 12 34", "international") == "+687751234"
    assert normalize_phone("+33612345678", "international") == "+33612345678"
    with pytest.raises(InvalidValue):
        normalize_phone("+33612345678", "nc")
    with pytest.raises(ValueError, match="unknown phone mode"):
        normalize_phone("751234", "fr")  # type: ignore[arg-type]


def test_phone_is_displayed_by_country():
    assert format_phone("+687751234") == "75.12.34"
    assert format_phone("+33612345678") == "+33 6 12 34 56 78"


# --- Amounts in francs CFP ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("150000", 150000),
        ("150 000", 150000),
        (f"150{NBSP}000", 150000),
        (f"150{NNBSP}000", 150000),
        ("1.500.000", 1500000),
        ("1 500 000", 1500000),
        ("150.000", 150000),
        ("1.500", 1500),
        ("  42  ", 42),
        ("0", 0),
        ("1 500 000 F CFP", 1500000),
        (f"1{NNBSP}500{NNBSP}000{NBSP}F CFP", 1500000),
        ("2500 XPF", 2500),
        ("2500F", 2500),
        ("999999999999999", 999_999_999_999_999),
    ],
)
def test_xpf_amount_is_parsed_to_an_int(typed, expected):
    assert parse_xpf(typed) == expected


@pytest.mark.parametrize(
    "typed", ["150000,50", "150000.5", "150000.50", "1.500,00", "1 500 000,00", "0,5"]
)
def test_xpf_amount_with_decimals_is_refused(typed):
    with pytest.raises(InvalidValue, match="pas de centimes"):
        parse_xpf(typed)


@pytest.mark.parametrize("typed", ["-150000", "−150 000", "-1"])
def test_negative_xpf_amount_is_refused(typed):
    with pytest.raises(InvalidValue, match="ne peut pas être négatif"):
        parse_xpf(typed)


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "abc", "15O000", "1 50 000", "15 0000", "1.50.000", "1,500,000", "150000,500",
     "+150000", "150 000 €", "F CFP", "١٥٠٠٠٠"],
)  # fmt: skip
def test_non_numeric_xpf_amount_is_refused(typed):
    with pytest.raises(InvalidValue, match="nombre entier de francs CFP"):
        parse_xpf(typed)


def test_absurdly_large_xpf_amount_is_refused():
    with pytest.raises(InvalidValue, match="trop élevé"):
        parse_xpf("1" + "0" * 15)
    with pytest.raises(InvalidValue, match="trop élevé"):
        parse_xpf("9" * 5000)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, f"0{NBSP}F CFP"),
        (999, f"999{NBSP}F CFP"),
        (1000, f"1{NNBSP}000{NBSP}F CFP"),
        (150000, f"150{NNBSP}000{NBSP}F CFP"),
        (1500000, f"1{NNBSP}500{NNBSP}000{NBSP}F CFP"),
        (-2500, f"-2{NNBSP}500{NBSP}F CFP"),
    ],
)
def test_xpf_amount_is_displayed_with_no_break_spaces(amount, expected):
    assert format_xpf(amount) == expected


def test_formatted_xpf_amount_parses_back():
    assert parse_xpf(format_xpf(1234567)) == 1234567


@pytest.mark.parametrize("amount", [1.5, "1500", True])
def test_xpf_formatting_takes_only_ints(amount):
    with pytest.raises(TypeError):
        format_xpf(amount)


# --- Dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("14/07/2025", date(2025, 7, 14)),
        ("1/2/2024", date(2024, 2, 1)),
        (" 29/02/2024 ", date(2024, 2, 29)),
        ("31/12/9999", date(9999, 12, 31)),
        ("01/01/0001", date(1, 1, 1)),
        ("2025-07-14", date(2025, 7, 14)),
    ],
)
def test_date_is_parsed(typed, expected):
    assert parse_date(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["", "14/07/25", "14-07-2025", "14.07.2025", "2025/07/14", "2025-7-14", "14 juillet 2025",
     "14/07/2025 10:00", "123/07/2025"],
)  # fmt: skip
def test_date_in_another_format_is_refused(typed):
    with pytest.raises(InvalidValue, match="format JJ/MM/AAAA"):
        parse_date(typed)


@pytest.mark.parametrize("typed", ["29/02/2025", "31/04/2025", "00/01/2025", "01/13/2025",
                                   "01/01/0000", "2025-02-30"])  # fmt: skip
def test_date_that_does_not_exist_is_refused(typed):
    with pytest.raises(InvalidValue, match="n’existe pas"):
        parse_date(typed)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(date(2025, 7, 14), "14/07/2025"), (date(5, 1, 2), "02/01/0005")],
)
def test_date_is_displayed_as_dd_mm_yyyy(value, expected):
    assert format_date(value) == expected
    assert parse_date(expected) == value
