"""Browser fixtures: the test `app` served over real HTTP, and headless Chromium pages.

The browser is Debian's Chromium at /usr/bin/chromium (`make browser` installs it; Playwright's
own browser downloads cannot work here). If it is missing, every browser test FAILS: a suite
that silently skips its browser tests would pass without checking anything.
"""

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    sync_playwright,
)
from werkzeug.serving import BaseWSGIServer, make_server

CHROMIUM = Path(os.environ.get("GUICHET_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
DESKTOP_VIEWPORT = {"width": 1280, "height": 900}
PHONE = "Pixel 7"
# Playwright waits for elements up to this long before failing a step (its default is 30 s).
TIMEOUT_MS = 10_000


@pytest.fixture
def app_config(app_config) -> dict:
    """Browser tests run with CSRF on, as in production: pages must carry their tokens."""
    return {**app_config, "WTF_CSRF_ENABLED": True}


@dataclass
class LiveServer:
    url: str
    server: BaseWSGIServer

    def __call__(self, path: str = "/") -> str:
        """The absolute URL of a path on this server."""
        return self.url + path


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    """The test's own `app` (same database, Redis, mail dir) served over HTTP on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    # Links in e-mails are built on PUBLIC_URL: make them lead to this server.
    app.config["PUBLIC_URL"] = url
    try:
        yield LiveServer(url, server)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is missing: {CHROMIUM} is not an executable file. The browser tests "
            "need Debian's chromium package: run `make browser` (apt-get install -y chromium).",
            pytrace=False,
        )
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


def _page(browser: Browser, **context_options) -> Iterator[Page]:
    context = browser.new_context(locale="fr-FR", timezone_id="Pacific/Noumea", **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("console", lambda message: _console_error(message, errors))
    page.on("response", lambda response: _broken_resource(response, errors))
    try:
        yield page
    finally:
        context.close()
    assert not errors, "the browser reported errors:\n" + "\n".join(errors)


def _console_error(message: ConsoleMessage, errors: list[str]) -> None:
    """Script errors and CSP violations; failed loads are reported by _broken_resource."""
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        errors.append(f"console: {message.text}")


def _broken_resource(response: Response, errors: list[str]) -> None:
    """A stylesheet, script or image that does not load (pages themselves may be 404s)."""
    if response.status >= 400 and response.request.resource_type != "document":
        errors.append(f"{response.status} for {response.request.resource_type} {response.url}")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A desktop page, 1280×900, in French."""
    yield from _page(browser, viewport=DESKTOP_VIEWPORT)


@pytest.fixture
def phone_page(browser: Browser, playwright: Playwright) -> Iterator[Page]:
    """A phone page: Playwright's Pixel 7 (412×839 viewport, touch, mobile user agent)."""
    device = {k: v for k, v in playwright.devices[PHONE].items() if k != "default_browser_type"}
    yield from _page(browser, **device)


@pytest.fixture(params=["desktop", "phone"])
def any_page(request) -> Page:
    """The test runs twice: on the desktop page, then on the phone page."""
    return request.getfixturevalue("page" if request.param == "desktop" else "phone_page")
