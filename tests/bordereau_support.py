"""Bordereaux in tests: second factors, building, rendering, reading PDFs back."""

import re
import shutil
import subprocess
import time

from sqlalchemy import select

from forms_app import bordereaux
from forms_app.db import get_session, utcnow
from forms_app.models import Bordereau, PaymentAct, User
from forms_app.signing import STAMP_BOX
from tests import support
from tests.finance_support import FINANCE, issued_act
from tests.support import PASSWORD, TOTP_SECRET, sign_in

A4_HEIGHT = 842
WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)
PDFSIG = shutil.which("pdfsig") or "/usr/bin/pdfsig"
PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"
SECRET = TOTP_SECRET


def user_by_email(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


def enrol(app, email: str = FINANCE, secret: str = SECRET) -> str:
    """Give a staff member a second factor directly; return its secret."""
    with app.app_context():
        db = get_session()
        user = user_by_email(db, email)
        user.totp_secret, user.totp_enrolled_at, user.totp_last_step = secret, utcnow(), None
        db.commit()
    return secret


def fresh_code(app, email: str = FINANCE) -> str:
    """The current code, after forgetting the last step used (as if a minute had passed)."""
    return support.fresh_code(app, email)


def login(client, email: str, password: str = PASSWORD):
    response = sign_in(client, email, password)
    assert response.status_code == 302, response.text
    return response


def unrendered_act(app, **kwargs) -> int:
    """An issued act whose PDF has not been rendered yet."""
    return issued_act(app, render=False, **kwargs)


def build(app, act_ids, email: str = FINANCE) -> int:
    """Build and commit a bordereau as `email`; its id."""
    with app.test_request_context():
        db = get_session()
        made = bordereaux.build(db, act_ids, user_by_email(db, email))
        db.commit()
        return made.id


def render(app, bordereau_id: int) -> bytes:
    """Run the render job's body in-process."""
    with app.app_context():
        db = get_session()
        content = bordereaux.render_bordereau_pdf(db, bordereau_id)
        db.commit()
        return content


def load(app, bordereau_id: int) -> Bordereau:
    with app.app_context():
        db = get_session()
        found = db.get(Bordereau, bordereau_id)
        found.lines  # noqa: B018 - loaded while the session is open
        return found


def acts(app, act_ids) -> list[PaymentAct]:
    with app.app_context():
        db = get_session()
        found = list(db.scalars(select(PaymentAct).where(PaymentAct.id.in_(list(act_ids)))))
        for act in found:
            act.submission  # noqa: B018
        return sorted(found, key=lambda act: act.id)


def pdf_pages(content: bytes, tmp_path, *options: str) -> list[str]:
    """pdftotext's text of each page."""
    path = tmp_path / f"read-{time.monotonic_ns()}.pdf"
    path.write_bytes(content)
    run = subprocess.run(
        [PDFTOTEXT, *options, str(path), "-"], capture_output=True, text=True, check=True
    )
    return run.stdout.split("\f")[:-1]


def pdfsig(content: bytes, tmp_path) -> str:
    """pdfsig's report, with an empty HOME so no user's NSS database is read."""
    path = tmp_path / f"signed-{time.monotonic_ns()}.pdf"
    path.write_bytes(content)
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [PDFSIG, str(path)], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    return run.stdout + run.stderr


def words_in_stamp_box(content: bytes, tmp_path) -> list[str]:
    """Words that pdftotext finds where the signature stamp goes on the last page."""
    path = tmp_path / "bbox.pdf"
    path.write_bytes(content)
    html = subprocess.run(
        [PDFTOTEXT, "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    left, bottom, right, top = STAMP_BOX
    found = []
    for x_min, y_min, x_max, y_max, word in WORD.findall(html.split("<page ")[-1]):
        overlaps_x = float(x_max) > left and float(x_min) < right
        overlaps_y = A4_HEIGHT - float(y_min) > bottom and A4_HEIGHT - float(y_max) < top
        if overlaps_x and overlaps_y:
            found.append(word)
    return found
