"""A browser-like HTTP client for the processes under test: cookies, CSRF tokens, redirects.

Every request has a timeout; nothing follows redirects behind the caller's back, so each
step's answer is seen (and a 503 during an outage is seen as a 503).
"""

import html
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from tests.formdefs.demo.support import PDF
from tests.formdefs.demo.test_aide_entreprises import BUSINESS_POST
from tests.support import next_code

SLUG = "aide-entreprises-covid"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SUBMIT_TOKEN = re.compile(r'name="_jeton" value="([0-9a-f]{32})"')
INPUT = re.compile(r"<input\b[^>]*>")
ATTRIBUTE = re.compile(r'(\w[\w-]*)="([^"]*)"')
REFERENCE = re.compile(r"<strong>([A-Z]+-\d{4}-\d{6})</strong>")
TIMEOUT = 30
SECOND_FACTOR = "/agents/connexion/code"


def business_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    """The demo business form's uploads, as multipart parts."""
    names = {
        "piece_avis_ridet": ["avis-ridet.pdf"],
        "piece_rib": ["rib.pdf"],
        "piece_identite": ["identite.pdf"],
        "piece_justificatifs_ca": ["tgc-mars-2019.pdf", "tgc-mars-2020.pdf"],
        "piece_cafat": ["cafat.pdf"],
    }
    return [(key, (name, PDF, "application/pdf")) for key, files in names.items() for name in files]


def form_inputs(page: str, action: str) -> dict[str, str]:
    """Named inputs with a value (checkboxes and radios left out) of the form posting to
    `action`."""
    start = page.find(f'action="{action}"')
    if start < 0:
        raise Refused(f"no form posting to {action}", 200, page)
    inputs = {}
    for tag in INPUT.findall(page[start : page.index("</form>", start)]):
        attributes = dict(ATTRIBUTE.findall(tag))
        if "name" in attributes and attributes.get("type") not in ("checkbox", "radio"):
            inputs[attributes["name"]] = html.unescape(attributes.get("value", ""))
    return inputs


class Refused(Exception):
    """The site answered a step with something else than the next step."""

    def __init__(self, step: str, status: int, body: str = ""):
        super().__init__(f"{step}: HTTP {status}")
        self.step, self.status, self.body = step, status, body


@dataclass
class Answer:
    status: int
    location: str
    text: str
    headers: dict


class Client:
    """One visitor: its own cookie jar, talking to one base URL (changeable between steps)."""

    def __init__(self, base: str):
        self.email: str | None = None  # who signed in
        self.base = base
        self.http = requests.Session()

    def close(self) -> None:
        self.http.close()

    def get(self, path: str) -> Answer:
        return self._answer(self.http.get(self._url(path), allow_redirects=False, timeout=TIMEOUT))

    def post(self, path: str, data: dict, files=None) -> Answer:
        response = self.http.post(
            self._url(path), data=data, files=files, allow_redirects=False, timeout=TIMEOUT
        )
        return self._answer(response)

    def token(self, path: str) -> tuple[str, str]:
        """GET a page; its CSRF token and text (fails unless it answered 200)."""
        page = self.get(path)
        if page.status != 200:
            raise Refused(f"GET {path}", page.status, page.text)
        return CSRF.search(page.text).group(1), page.text

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    @staticmethod
    def _answer(response: requests.Response) -> Answer:
        location = urlsplit(response.headers.get("Location", "")).path
        return Answer(response.status_code, location, response.text, dict(response.headers))

    # --- applicant -------------------------------------------------------------------------

    def fill(self, slug: str = SLUG, data: dict | None = None) -> str:
        """Start the form and fill every page; the path of the check page."""
        data = {**BUSINESS_POST, **(data or {})}
        csrf, _ = self.token(f"/demarches/{slug}/")
        answer = self.post(f"/demarches/{slug}/", {"csrf_token": csrf})
        for _ in range(30):
            if answer.status != 302:
                raise Refused("step", answer.status, answer.text)
            if answer.location.endswith("/verification"):
                return answer.location
            if "/etapes/" not in answer.location:
                raise Refused(f"redirect to {answer.location}", answer.status)
            answer = self.post(answer.location, {**data, "csrf_token": csrf}, business_files())
        raise Refused("too many steps", answer.status)

    def check_page(self, path: str) -> dict:
        """The check page's form fields (CSRF token and the submission token)."""
        csrf, page = self.token(path)
        return {"csrf_token": csrf, "_jeton": SUBMIT_TOKEN.search(page).group(1)}

    def send(self, path: str, fields: dict) -> Answer:
        """POST the check page: the submission itself."""
        return self.post(path, fields)

    def reference(self, slug: str = SLUG) -> str:
        """The reference the acknowledgement page shows this visitor."""
        page = self.get(f"/demarches/{slug}/merci")
        found = REFERENCE.search(page.text) if page.status == 200 else None
        if found is None:
            raise Refused("acknowledgement", page.status, page.text)
        return found.group(1)

    def submit(self, slug: str = SLUG, data: dict | None = None) -> str:
        """Fill and submit the demo business form; the acknowledged reference."""
        check = self.fill(slug, data)
        answer = self.send(check, self.check_page(check))
        if answer.status != 302 or not answer.location.endswith("/merci"):
            raise Refused("submit", answer.status, answer.text)
        return self.reference(slug)

    def form(self, page_path: str, action: str, data: dict, files=None) -> Answer:
        """GET a page and POST its form that posts to `action`, as a browser would.

        The form's inputs (hidden ones: CSRF token, revision; and defaults) are sent with
        `data` on top. Fails if the page has no such form.
        """
        page = self.get(page_path)
        if page.status != 200:
            raise Refused(f"GET {page_path}", page.status, page.text)
        return self.post(action, {**form_inputs(page.text, action), **data}, files)

    # --- staff -----------------------------------------------------------------------------

    def login(self, email: str, password: str) -> None:
        """Sign in; the second factor, when asked, from the tests' authenticator app."""
        csrf, _ = self.token("/agents/connexion")
        answer = self.post(
            "/agents/connexion", {"csrf_token": csrf, "email": email, "password": password}
        )
        if answer.status != 302:
            raise Refused("login", answer.status, answer.text)
        self.email = email
        if answer.location == SECOND_FACTOR:
            csrf, _ = self.token(SECOND_FACTOR)
            answer = self.post(SECOND_FACTOR, {"csrf_token": csrf, "code": next_code(email)})
            if answer.status != 302 or answer.location.startswith("/agents/connexion"):
                raise Refused("second factor", answer.status, answer.text)
