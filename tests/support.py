"""Helpers the tests share: real worker processes, waiting, test data builders."""

import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
from flask import Flask
from sqlalchemy import select

from forms_app.accounts import create_user
from forms_app.db import get_session, utcnow
from forms_app.models import Role, User

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery"
# The tests' authenticator app: the second factor `make_user` gives to the roles that need one.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
MFA_ROLES = frozenset({Role.ADMIN, Role.APPROVER, Role.FINANCE})


def process_env(app: Flask, **overrides: str) -> dict[str, str]:
    """Environment that makes a child process use the same database, Redis and mail dir."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=app.config["DATABASE_URL"],
        REDIS_URL=app.config["REDIS_URL"],
        SECRET_KEY=app.config["SECRET_KEY"],
        GUICHET_ENV="test",
        GUICHET_INSTANCE_PATH=app.instance_path,
        GUICHET_MAIL_DIR=app.config["MAIL_DIR"],
        GUICHET_OUTBOX_DISPATCH_INTERVAL="0.2",
        GUICHET_OUTBOX_STALE_AFTER=str(app.config["OUTBOX_STALE_AFTER"]),
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def run_worker_burst(app: Flask, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    """Run a real worker process in burst mode: dispatch due rows, drain the queue, exit."""
    result = subprocess.run(
        [sys.executable, "-m", "workflows.worker", "--burst"],
        env=process_env(app, **env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def start_worker(app: Flask, log_path: Path, **env: str) -> subprocess.Popen:
    """Start a real, long-running worker process (RQ worker plus outbox dispatcher)."""
    with log_path.open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "workflows.worker"],
            env=process_env(app, **env),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """Stop a process politely, then firmly."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until(predicate: Callable[[], object], timeout: float = 30, interval: float = 0.1):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def make_user(
    app: Flask,
    *roles: Role,
    email: str = "agent@example.nc",
    password: str = PASSWORD,
    enrolled: bool | None = None,
) -> int:
    """Create a committed staff user and return its id.

    Users holding a role of MFA_ROLES have enrolled TOTP_SECRET as their second factor,
    unless `enrolled` is False (they enrol when they first sign in).
    """
    with app.app_context():
        session = get_session()
        user = create_user(
            session, email=email, name="Test User", password=password, roles=list(roles)
        )
        if enrolled if enrolled is not None else bool(MFA_ROLES & set(roles)):
            user.totp_secret, user.totp_enrolled_at = TOTP_SECRET, utcnow()
        session.commit()
        return user.id


_last_steps: dict[str, int] = {}


def next_code(email: str) -> str:
    """A code of `email`'s authenticator app (tests.support.TOTP_SECRET) not used yet.

    A code is good once and the steps just before and after the current one are accepted:
    codes are taken from the earliest unused accepted step, waiting for the clock when all
    three are used.
    """
    while True:
        current = int(time.time() // 30)
        step = max(current - 1, _last_steps.get(email, current - 2) + 1)
        if step <= current + 1:
            _last_steps[email] = step
            return pyotp.TOTP(TOTP_SECRET).at(step * 30)
        time.sleep(1)


def sign_in(client, email: str = "agent@example.nc", password: str = PASSWORD):
    """Sign in through the real pages; the answer of the last one.

    When the second factor is asked, the code comes from the user's secret, after forgetting
    the last time step used (as if the next 30 seconds had come: a code is good once).
    """
    response = client.post("/agents/connexion", data={"email": email, "password": password})
    if response.headers.get("Location") != "/agents/connexion/code":
        return response
    return client.post(
        "/agents/connexion/code", data={"code": fresh_code(client.application, email)}
    )


def fresh_code(app: Flask, email: str) -> str:
    """The current code of the user's app, after forgetting the last step they used (as if
    the next 30 seconds had come: a code is good once)."""
    with app.app_context():
        session = get_session()
        user = session.scalar(select(User).where(User.email == User.normalise_email(email)))
        user.totp_last_step = None
        session.commit()
        return pyotp.TOTP(user.totp_secret).now()


def get_user(app: Flask, user_id: int) -> User:
    with app.app_context():
        return get_session().get(User, user_id)


def sent_mails(app: Flask) -> list[Path]:
    """The .eml files the file mail backend wrote."""
    directory = Path(app.config["MAIL_DIR"])
    return sorted(directory.glob("*.eml")) if directory.exists() else []


def publish_form(
    app: Flask, fields: list[dict], *, slug: str = "essai", rules=None, **extra
) -> str:
    """Create and publish a one-page form with these fields; return its slug."""
    from forms_app import publishing

    data = {
        "format": 1,
        "slug": slug,
        "title": "Formulaire d’essai",
        "settings": {"reference_prefix": "ESSAI"},
        "pages": [{"key": "page_1", "title": "Page 1", "fields": fields}],
        **extra,
    }
    if rules:
        data["rules"] = rules
    with app.app_context():
        session = get_session()
        form = publishing.create_form(session, data, None)
        publishing.publish(session, form, None)
        session.commit()
    return slug


def latest_submission(app: Flask):
    """The last submitted request (drafts are not submissions yet), or None."""
    from sqlalchemy import select

    from forms_app.models import Submission

    with app.app_context():
        submitted = select(Submission).where(Submission.reference.is_not(None))
        return get_session().scalars(submitted.order_by(Submission.id.desc())).first()


TOKEN_FIELD = re.compile(r'name="_jeton" value="([0-9a-f]{32})"')


def submit_answers(client, slug: str, data: dict, *, submit: bool = True):
    """Fill a form page by page as a browser does, then submit it; return the last response.

    Every page is posted all of `data` (a page keeps its own fields). The first page that
    answers with its errors, the check page when it refuses (ineligible), or the answer to
    the submission is returned. Files are given as (bytes or BytesIO, file name).
    """
    files = {key: _file_parts(value) for key, value in data.items() if _is_file(value)}
    response = client.post(f"/demarches/{slug}/")
    while response.status_code == 302:
        location = response.headers["Location"]
        path = urlsplit(location).path
        if "/etapes/" in path:
            fresh = {**data, **{k: _fresh_files(parts) for k, parts in files.items()}}
            response = client.post(location, data=fresh, content_type="multipart/form-data")
        elif path.endswith("/verification"):
            page = client.get(location)
            if page.status_code != 200 or not submit:
                return page
            token = TOKEN_FIELD.search(page.text).group(1)
            return client.post(location, data={"_jeton": token})
        else:
            return response
    return response


def _is_file(value) -> bool:
    items = value if isinstance(value, list) else [value]
    return bool(items) and all(isinstance(i, tuple) and len(i) == 2 for i in items)


def _file_parts(value) -> list[tuple[bytes, str]]:
    items = value if isinstance(value, list) else [value]
    parts = []
    for content, name in items:
        parts.append((content.getvalue() if isinstance(content, io.BytesIO) else content, name))
    return parts


def _fresh_files(parts: list[tuple[bytes, str]]) -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(content), name) for content, name in parts]


def first_page(client, slug: str):
    """Start the form as an applicant does and return its first page."""
    return client.post(f"/demarches/{slug}/", follow_redirects=True)


def submit_directly(app: Flask, slug: str, answers: dict) -> str:
    """Record a submission of the published form through the domain code; its reference."""
    from sqlalchemy import select

    from forms_app import submissions
    from forms_app.formdefs import definition as definitions
    from forms_app.formdefs import rules
    from forms_app.models import Form

    with app.app_context():
        db = get_session()
        form = db.scalar(select(Form).where(Form.slug == slug))
        version = form.current_version
        definition = definitions.of_version(version)
        results = rules.evaluate(definition, answers)
        found = submissions.submit(db, form, version, definition, answers, results)
        db.commit()
        return found.reference


def self_signed(directory: Path, host: str) -> tuple[str, str]:
    """A self-signed certificate for `host` (its subject and only name) and its key, written
    under `directory`: the two files' paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = utcnow()
    made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert, private = directory / f"{host}.pem", directory / f"{host}.key"
    cert.write_bytes(made.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert), str(private)
