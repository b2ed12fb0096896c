"""Typed SQLAlchemy models, one module per aggregate."""

from forms_app.models.outbox import OutboxMessage, OutboxStatus
from forms_app.models.user import Role, User, UserRole

__all__ = ["OutboxMessage", "OutboxStatus", "Role", "User", "UserRole"]
