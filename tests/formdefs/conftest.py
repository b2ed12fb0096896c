"""Fixtures of the form engine's tests."""

import pytest

from forms_app import create_app


@pytest.fixture(scope="module")
def form_app(tmp_path_factory):
    """The real app, once per module: validating a form needs no database or Redis.

    Module-scoped so that hypothesis tests (which refuse function-scoped fixtures) use it.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path_factory.mktemp("instance")))
        yield create_app(
            {"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test-secret-key"}
        )
