"""Who may do what: the one place staff authorization is decided."""

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from forms_app.models import Role

STAFF_ROLES = frozenset(Role)


def roles_required(*roles: Role) -> Callable:
    """Let a view through only for signed-in staff holding one of `roles`."""
    allowed = frozenset(roles) or STAFF_ROLES

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*allowed):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = allowed
        return wrapped

    return decorator
