"""The applicant's form in progress: its draft, its pinned definition, and its pages.

Every page is validated against the whole draft (conditions may read earlier pages), and
only the errors of the page on screen are shown.
"""

from dataclasses import dataclass

from flask import session, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, joinedload
from werkzeug.datastructures import CombinedMultiDict, MultiDict

from forms_app import drafts
from forms_app.formdefs import definition as definitions
from forms_app.formdefs.composite import GroupField
from forms_app.formdefs.conditions import is_visible, referenced_fields
from forms_app.formdefs.definition import FormDefinition, PageDef
from forms_app.formdefs.fields import UploadField
from forms_app.formdefs.wtform import DefinitionForm, form_class
from forms_app.models import Form, FormVersion, Submission
from forms_app.public.lookup import FORM_COLUMNS, published, published_form

SESSION_DRAFTS = "drafts"


@dataclass
class Filling:
    """One applicant's draft of one form, with the definition it is filled with."""

    form: Form
    draft: Submission
    version: FormVersion
    definition: FormDefinition

    @classmethod
    def of(cls, form: Form, draft: Submission) -> "Filling":
        version = draft.form_version
        return cls(form, draft, version, definitions.of_version(version))

    def web_form(self, data: MultiDict | None = None, files: MultiDict | None = None):
        """The definition's form on `data` (default: the draft), files already kept included."""
        data = drafts.formdata(self.draft) if data is None else data
        formdata = CombinedMultiDict([data, files]) if files else data
        form: DefinitionForm = form_class(self.definition, self.version.sha256)(
            formdata=formdata or None, meta={"csrf": False}
        )
        for key, size in drafts.group_sizes(self.draft).items():
            field = form._fields.get(key)
            while isinstance(field, GroupField) and len(field.entries) < size:
                field.append_entry()
        for name, field in form._fields.items():
            if isinstance(field, UploadField):
                field.kept = drafts.kept_files(self.draft, name)
        return form

    def page(self, number: int) -> PageDef | None:
        pages = self.definition.pages
        return pages[number - 1] if 1 <= number <= len(pages) else None

    def first_invalid(self, form: DefinitionForm) -> int | None:
        """The first page the applicant still has to complete or correct (form validated)."""
        for number in self.visible_numbers(form.answers):
            if page_errors(form, self.page(number)):
                return number
        return None

    def first_unsaved(self, form: DefinitionForm) -> int | None:
        """The first page the applicant has not saved yet (form validated)."""
        saved = drafts.pages_saved(self.draft)
        return next((n for n in self.visible_numbers(form.answers) if n not in saved), None)

    def resume_point(self) -> str:
        """Where to take the applicant back to: the first page to complete, or the check page."""
        form = self.web_form()
        form.validate()
        number = self.first_unsaved(form) or self.first_invalid(form)
        if number is None:
            return url_for("public.check", slug=self.form.slug)
        return url_for("public.step", slug=self.form.slug, number=number)

    def visible_numbers(self, answers: dict) -> list[int]:
        """Numbers (1-based) of the pages the answers so far lead to."""
        return [
            n
            for n, page in enumerate(self.definition.pages, 1)
            if is_visible(page.visible_if, answers)
        ]


def page_keys(page: PageDef) -> list[str]:
    return [fdef.key for fdef in page.fields if fdef.holds_answer]


def hidden_by_other_pages(page: PageDef, answers: dict) -> set[str]:
    """Fields of the page that earlier answers hide (conditions on this page are left to
    the page itself: the script reveals them, the server ignores what stays hidden)."""
    own = set(page_keys(page))
    return {
        fdef.key
        for fdef in page.fields
        if fdef.visible_if
        and not referenced_fields(fdef.visible_if) & own
        and not is_visible(fdef.visible_if, answers)
    }


def page_errors(form: DefinitionForm, page: PageDef) -> list[tuple[str, str]]:
    """The error summary of one page: (field id, message) of its fields only."""
    keys = page_keys(page)
    return [
        (field_id, message)
        for field_id, message in form.error_list()
        if field_id and any(field_id == k or field_id.startswith(f"{k}-") for k in keys)
    ]


def form_and_draft(db: Session, slug: str, *, lock: bool = False) -> tuple[Form, Submission | None]:
    """The published form at `slug` (else 404) and the live draft this browser fills, if any.

    When the session holds a draft for the form, one query reads the draft, its files, the
    form and its current version (every page needs all four). `lock` reads the draft's row
    FOR UPDATE (submitting: a concurrent click waits, then finds it submitted).
    """
    draft_id = session.get(SESSION_DRAFTS, {}).get(slug)
    if draft_id is None:
        return published_form(slug), None
    statement = (
        select(Submission)
        .join(Submission.form)
        .where(Submission.id == draft_id, Form.slug == slug)
        .options(
            joinedload(Submission.attachments),
            contains_eager(Submission.form).options(*FORM_COLUMNS),
        )
    )
    if lock:
        statement = statement.with_for_update(of=Submission)
    draft = db.scalars(statement).unique().one_or_none()
    if draft is None:  # gone, or another form's
        return published_form(slug), None
    form = published(draft.form)
    return form, drafts.live(draft, form)


def submitted_reference(db: Session, form: Form) -> str | None:
    """The reference of the draft this browser filled for the form, once it is submitted.

    Read from the session's identity map when `form_and_draft` has just loaded it.
    """
    draft_id = session.get(SESSION_DRAFTS, {}).get(form.slug)
    found = db.get(Submission, draft_id) if draft_id is not None else None
    return found.reference if found is not None and found.form_id == form.id else None


def bind(draft: Submission, form: Form) -> None:
    """Remember in the (signed) session cookie which draft this browser fills."""
    bound = dict(session.get(SESSION_DRAFTS, {}))
    bound[form.slug] = draft.id
    session[SESSION_DRAFTS] = bound
    session.permanent = True


def unbind(form: Form) -> None:
    bound = dict(session.get(SESSION_DRAFTS, {}))
    bound.pop(form.slug, None)
    session[SESSION_DRAFTS] = bound
