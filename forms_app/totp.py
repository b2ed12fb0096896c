"""Time-based one-time codes (RFC 6238): the staff's second factor, and recovery codes.

Staff give a code after their password at sign-in (forms_app/second_factor.py), and finance
staff give one again with their password to confirm a signature (`confirm_identity`).

A code is good once: the time step it belongs to is recorded on the user
(`totp_last_step`) by a conditional UPDATE, so a code that was accepted, or any earlier one,
is refused afterwards, even by a concurrent request. Codes of the step before and after the
current one are accepted too (clocks drift, people type slowly). `confirm_identity` asks
for the password and a code again before a signature; failures count toward the lockout of
the sign-in page.
"""

import hashlib
import hmac
import secrets
import time
from datetime import timedelta
from io import BytesIO

import pyotp
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from forms_app import accounts, audit
from forms_app.db import utcnow
from forms_app.models import RecoveryCode, User

VALID_WINDOW = 1  # steps accepted on each side of the current one
DIGITS = 6


class TotpError(ValueError):
    """A code was refused; the message is French, for the person who typed it."""


def new_secret() -> str:
    """A random base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    issuer = current_app.config["TOTP_ISSUER"]
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The QR code of `uri` as inline SVG markup (no image file, no external resource)."""
    import qrcode
    from qrcode.image.svg import SvgPathFillImage

    image = qrcode.make(uri, image_factory=SvgPathFillImage, box_size=10)
    output = BytesIO()
    image.save(output)
    markup = output.getvalue().decode()
    return markup[markup.index("<svg") :]  # without the XML declaration


def clean_code(code: str | None) -> str:
    """The code as typed, without spaces ("123 456" is 123456)."""
    return "".join((code or "").split())


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step within the window whose code is `code`, or None."""
    code = clean_code(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    generator = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // generator.interval)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(generator.at(step * generator.interval), code):
            return step
    return None


def fresh_step(user: User, code: str) -> int | None:
    """The step of `code` if it is the user's current code and later than the last used one."""
    if not user.totp_secret:
        return None
    step = matching_step(user.totp_secret, code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return None
    return step


def verify(session: Session, user: User, code: str) -> bool:
    """Whether `code` is the user's current code and was not used before; records its step.

    The caller commits (a rolled back transaction gives the step back).
    """
    step = fresh_step(user, code)
    return step is not None and _claim_step(session, user, step)


def enrol(session: Session, user: User, secret: str, code: str) -> None:
    """Make `secret` the user's once `code` proves their app holds it; audited, no commit.

    Raises TotpError when the code does not match the secret.
    """
    step = matching_step(secret, code)
    if step is None:
        raise TotpError(
            _("Ce code ne correspond pas. Vérifiez l’heure de votre téléphone et réessayez.")
        )
    user.totp_secret = secret
    user.totp_enrolled_at = utcnow()
    user.totp_last_step = step  # the code typed to enrol cannot sign anything
    audit.record(session, user, "totp_enrol", user)


def confirm_identity(
    session: Session, user: User, password: str, code: str, *, changing: bool = False
) -> str | None:
    """Why `password` and `code` do not confirm that `user` is at the keyboard, or None.

    The messages say nothing was signed, or with `changing` nothing was modified.

    Both count as a sign-in: failures add up to the same lockout. The code is checked first,
    so a right password never clears a run of wrong codes; its step is taken last, so a
    mistyped password does not use up a good code. The caller commits either way.
    """
    config = current_app.config
    locked = _(
        "Trop de tentatives infructueuses : ce compte est bloqué pendant %(minutes)d minutes.",
        minutes=config["LOGIN_LOCKOUT_SECONDS"] // 60,
    )
    if changing:
        wrong_code = _(
            "Code incorrect ou déjà utilisé : rien n’a été modifié. Attendez le code suivant "
            "de votre application."
        )
        wrong_password = _("Mot de passe incorrect : rien n’a été modifié.")
    else:
        wrong_code = _(
            "Code incorrect ou déjà utilisé : rien n’a été signé. Attendez le code suivant "
            "de votre application."
        )
        wrong_password = _("Mot de passe incorrect : rien n’a été signé.")
    if user.is_locked(utcnow()):
        return locked
    if fresh_step(user, code) is None:
        return locked if count_failure(user) else wrong_code
    result = accounts.authenticate(
        session,
        user.email,
        password,
        max_failures=config["LOGIN_MAX_FAILURES"],
        lockout_seconds=config["LOGIN_LOCKOUT_SECONDS"],
    )
    if result.outcome is accounts.LoginOutcome.LOCKED:
        return locked
    if result.outcome is not accounts.LoginOutcome.OK or result.user is not user:
        return wrong_password
    if not verify(session, user, code):
        return wrong_code  # used meanwhile by another request
    return None


def count_failure(user: User) -> bool:
    """Count a wrong code like a failed sign-in; True when it locks the account."""
    config = current_app.config
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins < config["LOGIN_MAX_FAILURES"]:
        return False
    user.locked_until = utcnow() + timedelta(seconds=config["LOGIN_LOCKOUT_SECONDS"])
    user.failed_logins = 0
    return True


def _claim_step(session: Session, user: User, step: int) -> bool:
    """Record `step` as the user's last one if it is later than the recorded one."""
    claimed = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        session.refresh(user, attribute_names=["totp_last_step"])
    return bool(claimed)


def forget(session: Session, user: User, *, by: str, actor: User | None = None) -> None:
    """Clear the user's second factor and recovery codes (a lost phone); audited, no commit."""
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(session, user, "totp_reset", actor, by=by)


RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read from paper


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Replace the user's recovery codes with fresh ones; the codes, to show once. No commit."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(c)) for c in codes)
    audit.record(session, user, "recovery_codes_issued", user, count=len(codes))
    return codes


def use_recovery_code(session: Session, user: User, code: str) -> bool:
    """Whether `code` is one of the user's unused recovery codes; it is used up. No commit."""
    used = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    ).rowcount
    if used:
        left = recovery_codes_left(session, user)
        audit.record(session, user, "recovery_code_used", user, left=left)
    return bool(used)


def recovery_codes_left(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def _recovery_hash(code: str) -> str:
    """The SHA-256 of a code as typed, whatever the case, spaces and dashes."""
    typed = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(typed.encode()).hexdigest()
