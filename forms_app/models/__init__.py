"""Typed SQLAlchemy models, one module per aggregate."""

from forms_app.models.api import ApiToken, IdempotentAnswer, api_token_form
from forms_app.models.casework import Approval, Flag, Note
from forms_app.models.event import Event
from forms_app.models.form import Form, FormStatus, FormVersion
from forms_app.models.message import Message, MessageAuthor
from forms_app.models.ops import (
    Announcement,
    AnnouncementLevel,
    DeadlineExtension,
    ExtensionStatus,
    Heartbeat,
    OpsCounter,
    ProblemReport,
    ReportStatus,
)
from forms_app.models.outbox import OutboxMessage, OutboxStatus
from forms_app.models.payment import (
    ActState,
    Bordereau,
    BordereauLine,
    BordereauState,
    LineStatus,
    NumberSeries,
    PaymentAct,
)
from forms_app.models.submission import (
    ApplicantAccess,
    Attachment,
    ReferenceCounter,
    Submission,
)
from forms_app.models.user import RecoveryCode, Role, User, UserRole
from forms_app.models.webhook import DeliveryStatus, WebhookDelivery, WebhookSubscription

__all__ = [
    "ActState",
    "Announcement",
    "AnnouncementLevel",
    "ApiToken",
    "ApplicantAccess",
    "Approval",
    "Attachment",
    "Bordereau",
    "BordereauLine",
    "BordereauState",
    "DeadlineExtension",
    "DeliveryStatus",
    "Event",
    "ExtensionStatus",
    "Flag",
    "Form",
    "FormStatus",
    "FormVersion",
    "Heartbeat",
    "IdempotentAnswer",
    "LineStatus",
    "Message",
    "MessageAuthor",
    "Note",
    "NumberSeries",
    "OpsCounter",
    "OutboxMessage",
    "OutboxStatus",
    "PaymentAct",
    "ProblemReport",
    "RecoveryCode",
    "ReferenceCounter",
    "ReportStatus",
    "Role",
    "Submission",
    "User",
    "UserRole",
    "WebhookDelivery",
    "WebhookSubscription",
    "api_token_form",
]
