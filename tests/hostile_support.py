"""Hostile input the tests share: payloads, unusual Unicode, and hypothesis strategies."""

from datetime import date

from hypothesis import strategies as st

# What an attacker or an unlucky paste puts into an answer.
PAYLOADS = (
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "{{ 7*7 }}",
    "{% for x in range(10**9) %}x{% endfor %}",
    "{{ config.items() }}",
    "${7*7} #{7*7} <%= 7*7 %>",
    "url(file:///etc/passwd)",
    "url(http://127.0.0.1:1/x)",
    "@import 'http://127.0.0.1:1/x.css';",
    "'; DROP TABLE submission; --",
    "' OR '1'='1",
    "%s%s%n%x",
    "../../../../etc/passwd",
    "\u202eevil\u202c",  # right-to-left override
    "a\u200bb\u200c\u200d\ufeff",  # zero-width characters
    "e\u0301\u0301\u0301\u0301",  # combining marks
    "Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357\u0358\u0359",
    "👩‍👩‍👧‍👦 🇳🇨 😀",
    "\x00\x01\x1b[31m\x7f\x85",
    "\ud7ff\ue000\uffff\U0010ffff",
    "\r\n\t \u00a0\u202f\u2028\u2029",
    "١٢٣٤٥٦٧٨٩٠ ９８８００ 𝟗𝟖𝟖𝟎𝟎",  # digits that are not ASCII
)

# Any character a browser can send in UTF-8 (no lone surrogates), controls included.
any_character = st.characters(codec="utf-8")


@st.composite
def _long_text(draw) -> str:
    """A long text: a short pattern repeated up to 20,000 characters."""
    unit = draw(st.text(any_character, min_size=1, max_size=8))
    return (unit * (20_000 // len(unit) + 1))[: draw(st.integers(1_000, 20_000))]


def hostile_text(*, digits: str = "0123456789") -> st.SearchStrategy[str]:
    """Any text: arbitrary Unicode, payloads, long runs, and near-misses of the formats."""
    return st.one_of(
        st.text(any_character, max_size=60),
        st.sampled_from(PAYLOADS),
        st.builds(lambda a, b, c: a + b + c, st.text(max_size=5), st.sampled_from(PAYLOADS),
                  st.text(max_size=5)),
        _long_text(),
        # Digits and separators, where the formats live: RIDET, phones, amounts, dates, IBAN.
        st.text(st.sampled_from(digits + " .-/+()\u00a0\u202f,FRNCfrnc"), max_size=40),
    )  # fmt: skip


def valid_iban(country: str, bban: str) -> str:
    """An IBAN of this country and BBAN whose mod-97 check digits hold."""
    digits = "".join(str(int(char, 36)) for char in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


@st.composite
def _fr_or_nc_iban(draw) -> str:
    """A FR or NC IBAN with a valid RIB key and check digits, grouped as people type it."""
    from forms_app.formdefs.banking import rib_key

    bank, branch = draw(st.from_regex(r"[0-9]{5}", fullmatch=True)), "00001"
    account = draw(st.from_regex(r"[0-9A-Z]{11}", fullmatch=True))
    iban = valid_iban(draw(st.sampled_from(["FR", "NC"])), bank + branch + account
                       + rib_key(bank, branch, account))  # fmt: skip
    spacing = draw(st.sampled_from(["", " ", "\u00a0"]))
    return spacing.join(iban[i : i + 4] for i in range(0, len(iban), 4))


_SPACES = r"[ \u00a0\u202f]?"
# Inputs shaped like each format, so that properties of accepted answers are exercised.
FORMATTED = {
    "phone": st.from_regex(rf"(\+687|00687)?{_SPACES}[2-9][0-9]([ .]?[0-9]{{2}}){{2}}", fullmatch=True),
    "phone_international": st.from_regex(r"(\+|00)(33|687|61|64|1)[ .]?[1-9][0-9]{8}", fullmatch=True),
    "integer": st.from_regex(r"-?[0-9]{1,3}( [0-9]{3}){0,4}", fullmatch=True),
    "amount": st.from_regex(rf"[0-9]{{1,3}}({_SPACES}[0-9]{{3}}){{0,4}}( ?(F CFP|XPF|F))?", fullmatch=True),
    "date": st.dates().map(lambda day: day.strftime("%d/%m/%Y") if day.year >= 1000 else day.isoformat()),
    "ridet": st.from_regex(r"[0-9]{7}[ .]?[0-9]{2}[1-9]", fullmatch=True),
    "iban": _fr_or_nc_iban(),
    "email": st.emails(),
}  # fmt: skip
FORMATTED.update(
    bounded_amount=st.integers(1_000, 5_000_000).map(lambda n: f"{n:,}".replace(",", " ")),
    bounded_date=st.dates(date(2020, 1, 1), date(2030, 12, 31)).map(lambda d: f"{d:%d/%m/%Y}"),
    text=hostile_text(),
    textarea=hostile_text(),
    short_text=st.text(min_size=2, max_size=12),
)
