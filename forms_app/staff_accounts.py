"""Administering staff accounts: create them, change their roles, deactivate and reactivate
them, unlock them, reset a lost second factor.

Every change is audited (who, what, before and after) in its own transaction with the change.
The views ask the administrator for their password and a code again before any of them
(`totp.confirm_identity`, as a signature does), and an administrator never changes their own
roles nor deactivates themselves: another administrator must, so nobody takes power alone or
locks the platform out by mistake.
"""

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from forms_app import accounts, audit, totp
from forms_app.models import Role, User


class AccountChangeError(ValueError):
    """A change refused; the message is French, for the administrator."""


def create(
    session: Session,
    admin: User,
    *,
    email: str,
    name: str,
    password: str,
    roles: set[Role],
    min_length: int,
) -> User:
    """A new staff account (it enrols its second factor at its first sign-in); no commit."""
    try:
        user = accounts.create_user(
            session,
            email=email,
            name=name,
            password=password,
            roles=sorted(roles),
            min_length=min_length,
        )
    except accounts.AccountError as error:
        raise AccountChangeError(str(error)) from error
    session.flush()
    audit.record(session, user, "user_created", admin, roles=sorted(roles))
    return user


def set_roles(session: Session, admin: User, user: User, roles: set[Role]) -> None:
    """Give `user` exactly `roles`; no commit."""
    _not_oneself(admin, user)
    if not roles:
        raise AccountChangeError(_("Un compte agent a au moins un rôle."))
    before = sorted(user.roles)
    if set(before) == roles:
        return
    for row in [row for row in user.role_rows if row.role not in roles]:
        user.role_rows.remove(row)
    user.grant(*roles)
    audit.record(session, user, "roles_changed", admin, before=before, after=sorted(roles))


def set_active(session: Session, admin: User, user: User, active: bool) -> None:
    """Deactivate (signed out at its next request) or reactivate `user`; no commit."""
    _not_oneself(admin, user)
    if user.active is active:
        return
    user.active = active
    audit.record(session, user, "user_reactivated" if active else "user_deactivated", admin)


def unlock(session: Session, admin: User, user: User) -> None:
    """End a lockout after too many failures; no commit."""
    user.locked_until = None
    user.failed_logins = 0
    audit.record(session, user, "user_unlocked", admin)


def reset_second_factor(session: Session, admin: User, user: User) -> None:
    """Clear a lost second factor and its recovery codes: `user` enrols at the next sign-in."""
    _not_oneself(admin, user)
    totp.forget(session, user, by="admin", actor=admin)


def _not_oneself(admin: User, user: User) -> None:
    if admin.id == user.id:
        raise AccountChangeError(
            _(
                "Vous ne pouvez pas modifier vos propres droits : demandez-le à un autre "
                "administrateur."
            )
        )
