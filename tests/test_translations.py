"""The English catalogue: complete outside the form designers' tool, placeholders kept, used.

The builder (forms_app/builder/, forms_app/templates/builder/) stays French-only by decision,
so its strings may be left untranslated. Everything an applicant or an agent sees elsewhere
must have a reviewed (non-fuzzy) English translation. The end-to-end tests read the compiled
catalogue: run `make translations` after editing the .po file.
"""

import re
from datetime import timedelta
from html import unescape

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from forms_app.db import get_session, utcnow
from forms_app.models import Form
from tests.support import ROOT, publish_form

PO_FILE = ROOT / "forms_app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
BUILDER_PATHS = ("forms_app/builder/", "forms_app/templates/builder/")
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[a-zA-Z%]")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")

FIELDS = [{"key": "nom", "type": "text", "label": "Nom", "required": True}]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    with PO_FILE.open("rb") as po:
        return read_po(po)


def messages(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def ids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple | list) else [message.id]


def strings(message: Message) -> list[str]:
    if isinstance(message.string, tuple | list):
        return list(message.string)
    return [message.string or ""]


def outside_builder(message: Message) -> bool:
    return any(not path.startswith(BUILDER_PATHS) for path, _ in message.locations)


def located_in(catalog: Catalog, *templates: str) -> list[Message]:
    """Messages used by these templates (paths relative to forms_app/templates/)."""
    paths = {f"forms_app/templates/{name}" for name in templates}
    return [m for m in messages(catalog) if any(p in paths for p, _ in m.locations)]


def literal_parts(text: str) -> list[str]:
    """The pieces of a message around its placeholders that are long enough to look for."""
    return [part.strip() for part in PLACEHOLDER.split(text) if len(part.strip()) >= 4]


# -- The catalogue itself -------------------------------------------------------------------


def test_everything_outside_the_builder_is_translated_and_reviewed(catalog):
    missing = [m.id for m in messages(catalog) if outside_builder(m) and not all(strings(m))]
    fuzzy = [m.id for m in messages(catalog) if outside_builder(m) and m.fuzzy]
    assert not missing, "Untranslated (run make extract-messages, then translate):\n" + "\n".join(
        map(repr, missing)
    )
    assert not fuzzy, "Fuzzy, to check and unflag:\n" + "\n".join(map(repr, fuzzy))


def test_translations_keep_the_placeholders_of_their_source(catalog):
    wrong = []
    for message in messages(catalog):
        if message.fuzzy:  # not compiled, so never shown
            continue
        expected = sorted(set(PLACEHOLDER.findall(ids(message)[-1])))
        for translation in strings(message):
            if translation and sorted(set(PLACEHOLDER.findall(translation))) != expected:
                wrong.append(f"{message.id!r} -> {translation!r}")
    assert not wrong, "Placeholders differ:\n" + "\n".join(wrong)


def test_translations_add_no_html(catalog):
    wrong = [
        f"{message.id!r} -> {translation!r}"
        for message in messages(catalog)
        if not message.fuzzy and not any(TAG.search(i) for i in ids(message))
        for translation in strings(message)
        if TAG.search(translation)
    ]
    assert not wrong, "HTML in the translation of a plain-text message:\n" + "\n".join(wrong)


# -- The catalogue in use -------------------------------------------------------------------


def set_dates(app, slug: str, **dates: timedelta) -> None:
    with app.app_context():
        session = get_session()
        form = session.query(Form).filter_by(slug=slug).one()
        for name, delta in dates.items():
            setattr(form, name, utcnow() + delta)
        session.commit()


def assert_no_french_left(page: str, catalog: Catalog, *templates: str) -> None:
    """No translated message of these templates shows up in French on the page."""
    leftovers = [
        part
        for message in located_in(catalog, *templates)
        if outside_builder(message) and all(strings(message)) and not message.fuzzy
        for french, english in zip(ids(message), strings(message), strict=False)
        if french != english
        for part in literal_parts(french)
        if part not in literal_parts(english) and part in page
    ]
    assert not leftovers, (
        "French left on an English page (is the .mo stale? run make translations):\n"
        + "\n".join(map(repr, leftovers))
    )


def english_page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    return unescape(response.text)


def test_the_portal_in_english(app, client, catalog):
    publish_form(app, FIELDS, slug="ouverte", title="Aide ouverte")
    publish_form(app, FIELDS, slug="bientot", title="Aide à venir")
    set_dates(app, "ouverte", closes_at=timedelta(days=3))
    set_dates(app, "bientot", opens_at=timedelta(days=2))

    page = english_page(client, "/?lang=en")

    for english in (
        "Online services",
        "Open services",
        "— until ",
        "Upcoming services",
        "— opens on ",
        "Follow a request",
        "See the status of your requests",
        "Go to my account",
        "My requests",
        "Staff area",
        "Skip to main content",
    ):
        assert english in page
    assert_no_french_left(page, catalog, "base.html", "_banners.html", "public/index.html")


def test_a_start_page_in_english(app, client, catalog):
    slug = publish_form(app, FIELDS, slug="ouverte")
    set_dates(app, slug, closes_at=timedelta(days=3))
    client.get("/?lang=en")  # the choice is remembered from here on

    page = english_page(client, f"/demarches/{slug}/")
    for english in (
        "Closing date: ",
        "The steps",
        "Check your answers and send",
        "Your answers are saved at each step.",
        ">Start<",
        "Already started on another device? Use the link you received by email.",
        "Follow a sent request",
    ):
        assert english in page
    assert_no_french_left(page, catalog, "base.html", "public/start.html")

    first = client.post(f"/demarches/{slug}/", follow_redirects=True)
    assert first.status_code == 200
    step = unescape(first.text)
    assert "Continue" in step and "Save and finish later" in step
    assert_no_french_left(step, catalog, "base.html", "public/page.html")

    again = english_page(client, f"/demarches/{slug}/")
    assert "Carry on with my request" in again
    assert_no_french_left(again, catalog, "base.html", "public/start.html")
