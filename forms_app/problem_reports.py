"""Problem reports sent through "Signaler un problème": record, answer by e-mail, close.

A report keeps the page the visitor came from (a path of this site, never an address
elsewhere: agents follow it), the form concerned, a description and an optional e-mail
address. Agents answer once by e-mail (through the outbox), close, or reopen a report.
Every change is written with its audit event; the caller commits. Status changes re-read
the report under a row lock, so two agents acting at once cannot both answer.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Integer, literal, select, tuple_
from sqlalchemy.orm import Session, joinedload

from forms_app import audit, links
from forms_app.db import UTCDateTime, utcnow
from forms_app.filters import local_time
from forms_app.models import ProblemReport, ReportStatus, User
from workflows import outbox

MIN_DESCRIPTION = 10
MAX_DESCRIPTION = 5000
MAX_PAGE = 500
MAX_EMAIL = 254
MAX_ANSWER = 5000
PAGE_SIZE = 50
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ReportError(ValueError):
    """Input refused; str() is the French message, `field` the input it is about."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ReportRefused(Exception):
    """A change the report's status does not allow; str() is the French message."""


# -- Checking what the visitor typed -----------------------------------------------------------


def clean_page(page: str | None) -> str:
    """The path of a page of this site ("" when unknown); refuse anything else."""
    text = (page or "").strip()
    if not text:
        return ""
    if len(text) > MAX_PAGE:
        raise ReportError(
            _("L’adresse de la page ne doit pas dépasser %(max)s caractères.", max=MAX_PAGE),
            "page",
        )
    parts = urlsplit(text)
    local = (
        text.startswith("/")
        and not text.startswith("//")
        and "\\" not in text
        and not parts.scheme
        and not parts.netloc
        and text.isprintable()
    )
    if not local:
        raise ReportError(
            _(
                "Indiquez l’adresse d’une page de ce site, qui commence par « / », "
                "par exemple /demarches/."
            ),
            "page",
        )
    return text


def clean_description(description: str | None) -> str:
    """The description, between MIN_DESCRIPTION and MAX_DESCRIPTION characters."""
    text = (description or "").strip()
    if len(text) < MIN_DESCRIPTION:
        raise ReportError(
            _(
                "Décrivez le problème en quelques mots (au moins %(min)s caractères).",
                min=MIN_DESCRIPTION,
            ),
            "description",
        )
    if len(text) > MAX_DESCRIPTION:
        raise ReportError(_("La description ne doit pas dépasser 5 000 caractères."), "description")
    return text


def clean_email(email: str | None) -> str | None:
    """The contact address, normalised and lower-cased; None when none was given."""
    text = (email or "").strip()
    if not text:
        return None
    if len(text) > MAX_EMAIL:
        raise ReportError(_("L’adresse e-mail est trop longue."), "contact_email")
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ReportError(
            _("Saisissez une adresse e-mail valide, par exemple nom@exemple.nc."),
            "contact_email",
        ) from None


# -- Changes ------------------------------------------------------------------------------------


def create(
    session: Session,
    *,
    page: str,
    description: str,
    contact_email: str | None = None,
    form_id: int | None = None,
) -> ProblemReport:
    """Record a visitor's report (checked first: nothing is added when input is refused)."""
    report = ProblemReport(
        page=clean_page(page),
        description=clean_description(description),
        contact_email=clean_email(contact_email),
        form_id=form_id,
        status=ReportStatus.NEW,
        created_at=utcnow(),
    )
    session.add(report)
    audit.record(
        session,
        report,
        "report_problem",
        None,
        to_state=ReportStatus.NEW.value,
        form_id=form_id,
        contact=report.contact_email is not None,
    )
    return report


def answer(session: Session, report: ProblemReport, text: str, actor: User) -> None:
    """E-mail the agent's answer to the report's contact, once; the report is then answered."""
    text = (text or "").strip()
    if not text:
        raise ReportError(_("Écrivez votre réponse."), "answer")
    if len(text) > MAX_ANSWER:
        raise ReportError(_("La réponse ne doit pas dépasser 5 000 caractères."), "answer")
    _lock(session, report)
    if not report.contact_email:
        raise ReportRefused(
            _("Ce signalement ne donne pas d’adresse e-mail : il n’est pas possible d’y répondre.")
        )
    if report.status is ReportStatus.ANSWERED:
        raise ReportRefused(_("Ce signalement a déjà reçu une réponse."))
    if report.status is ReportStatus.CLOSED:
        raise ReportRefused(_("Ce signalement est clos : rouvrez-le pour y répondre."))
    previous = report.status
    report.status = ReportStatus.ANSWERED
    report.answer = text
    report.answered_at = utcnow()
    report.answered_by_id = actor.id
    outbox.add(
        session,
        "send_email",
        to=report.contact_email,
        subject=_("Votre signalement n° %(number)s", number=report.id),
        body=_answer_body(report),
        form_id=report.form_id,  # the form's announcements end the e-mail
    )
    audit.record(
        session,
        report,
        "answer_report",
        actor,
        from_state=previous.value,
        to_state=report.status.value,
        answer=text,
    )


def close(session: Session, report: ProblemReport, actor: User) -> None:
    """Close a report that needs nothing more (answered or not)."""
    _lock(session, report)
    if report.status is ReportStatus.CLOSED:
        raise ReportRefused(_("Ce signalement est déjà clos."))
    _move(session, report, ReportStatus.CLOSED, "close_report", actor)


def reopen(session: Session, report: ProblemReport, actor: User) -> None:
    """Open a closed report again; it may then be answered (again)."""
    _lock(session, report)
    if report.status is not ReportStatus.CLOSED:
        raise ReportRefused(_("Ce signalement n’est pas clos."))
    _move(session, report, ReportStatus.NEW, "reopen_report", actor)


def _lock(session: Session, report: ProblemReport) -> None:
    session.flush()
    session.refresh(report, with_for_update=True)


def _move(
    session: Session, report: ProblemReport, status: ReportStatus, action: str, actor: User
) -> None:
    previous = report.status
    report.status = status
    audit.record(session, report, action, actor, from_state=previous.value, to_state=status.value)


def _answer_body(report: ProblemReport) -> str:
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    return _(
        "Bonjour,\n\nVous nous avez signalé un problème le %(date)s (signalement n° %(number)s). "
        "Voici notre réponse :\n\n%(answer)s\n\n%(organisation)s\n\n"
        "Ce message est envoyé automatiquement : n’y répondez pas. Pour nous signaler un autre "
        "problème, utilisez le lien « Signaler un problème » en bas de chaque page du site :\n"
        "%(link)s\n",
        date=local_time(report.created_at, zone),
        number=report.id,
        answer=report.answer,
        organisation=current_app.config["ORGANISATION_NAME"],
        link=links.absolute("public.report_problem"),
    )


# -- Listing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page of reports ended: its last report's creation time and id."""

    created_at: datetime
    id: int

    def encode(self) -> str:
        return f"{(self.created_at - EPOCH) // timedelta(microseconds=1)}~{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> "Cursor | None":
        """Read a cursor from the query string; anything malformed means the first page."""
        try:
            stamp, report_id = (text or "").split("~")
            return cls(EPOCH + timedelta(microseconds=int(stamp)), int(report_id))
        except (ValueError, OverflowError):
            return None


@dataclass(frozen=True)
class Filters:
    """Which reports to list: a status, a form, a period [start, end) in UTC."""

    status: ReportStatus | None = None
    form_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None


def page(
    session: Session, filters: Filters, *, after: Cursor | None = None, size: int = PAGE_SIZE
) -> tuple[list[ProblemReport], Cursor | None]:
    """One page of reports, newest first, and the cursor of the next page (None: last page)."""
    statement = (
        select(ProblemReport)
        .options(joinedload(ProblemReport.form))
        .order_by(ProblemReport.created_at.desc(), ProblemReport.id.desc())
        .limit(size + 1)
    )
    if filters.status is not None:
        statement = statement.where(ProblemReport.status == filters.status)
    if filters.form_id is not None:
        statement = statement.where(ProblemReport.form_id == filters.form_id)
    if filters.start is not None:
        statement = statement.where(ProblemReport.created_at >= filters.start)
    if filters.end is not None:
        statement = statement.where(ProblemReport.created_at < filters.end)
    if after is not None:
        bound = tuple_(literal(after.created_at, UTCDateTime()), literal(after.id, Integer))
        statement = statement.where(tuple_(ProblemReport.created_at, ProblemReport.id) < bound)
    found = list(session.scalars(statement))
    following = None
    if len(found) > size:
        found = found[:size]
        following = Cursor(found[-1].created_at, found[-1].id)
    return found, following
