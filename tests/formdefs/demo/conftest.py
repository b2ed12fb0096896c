"""Fixtures for the demo-form tests: the two definitions, a fixed date, the published forms."""

from datetime import datetime

import pytest

from forms_app.formdefs import expression_functions
from forms_app.formdefs.definition import FormDefinition
from tests.formdefs.demo.support import load_demo


@pytest.fixture(autouse=True)
def mid_april_2020(monkeypatch):
    """Rules read today(): answer as the services would have on 15 April 2020 in Nouméa."""
    moment = datetime(2020, 4, 15, 10, 0, tzinfo=expression_functions.TIMEZONE)
    monkeypatch.setattr(expression_functions, "_now", lambda: moment)


@pytest.fixture(scope="module")
def rapatriement() -> FormDefinition:
    return load_demo("rapatriement.json")


@pytest.fixture(scope="module")
def entreprises() -> FormDefinition:
    return load_demo("aide-entreprises.json")


@pytest.fixture
def published(app):
    from forms_app.forms_cli import load_demo_forms

    with app.app_context():
        assert sorted(load_demo_forms()) == ["aide-entreprises-covid", "signalement-rapatriement"]
