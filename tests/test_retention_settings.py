"""Each form's retention: set in the builder, audited; drafts live as long as their form says."""

import hashlib
import time
from datetime import timedelta
from unittest import mock

from sqlalchemy import select, update

from forms_app import drafts, links, storage
from forms_app.db import get_session, utcnow
from forms_app.models import Attachment, Event, Form, Submission
from tests.support import publish_form
from tests.test_builder import BASE, login_designer, make_published_form, stored_form
from tests.test_drafts import FIELDS, draft, fill_first_page

DAY = 86400


def test_the_designer_sets_the_periods_and_the_change_is_audited(app, client, auth):
    login_designer(app, auth)
    make_published_form(app)
    page = client.get(f"{BASE}/aide/conservation")
    assert page.status_code == 200 and "Par défaut : 30 jours" in page.text

    for bad, message in (
        ({"draft_lifetime_days": "0"}, "supérieur ou égal à 1"),
        ({"draft_lifetime_days": "366"}, "inférieur ou égal à 365"),
        ({"retention_months": "2,5"}, "nombre entier"),
        ({"retention_months": "trois"}, "Saisissez un nombre"),
    ):
        answer = client.post(f"{BASE}/aide/conservation", data=bad)
        assert answer.status_code == 400 and message in answer.text
    assert stored_form(app, "aide").retention_months is None

    answer = client.post(
        f"{BASE}/aide/conservation", data={"draft_lifetime_days": "10", "retention_months": "60"}
    )
    assert answer.status_code == 302
    form = stored_form(app, "aide")
    assert (form.draft_lifetime_days, form.retention_months) == (10, 60)
    assert "brouillons 10 jours, demandes terminées 60 mois" in client.get(f"{BASE}/aide/").text
    with app.app_context():
        event = get_session().scalars(select(Event).where(Event.action == "retention")).one()
    assert event.details == {
        "before": {"draft_lifetime_days": None, "retention_months": None},
        "after": {"draft_lifetime_days": 10, "retention_months": 60},
    }
    client.post(
        f"{BASE}/aide/conservation", data={"draft_lifetime_days": "", "retention_months": ""}
    )
    form = stored_form(app, "aide")
    assert (form.draft_lifetime_days, form.retention_months) == (None, None)  # the defaults


def set_lifetime(app, slug: str, days: int) -> None:
    with app.app_context():
        db = get_session()
        db.execute(update(Form).where(Form.slug == slug).values(draft_lifetime_days=days))
        db.commit()


def link_made(app, draft_id: int, days_ago: float) -> str:
    """The resume link of the draft as if it had been sent `days_ago`."""
    with app.app_context():
        found = get_session().get(Submission, draft_id)
        with mock.patch("time.time", return_value=time.time() - days_ago * DAY):
            return links.make(drafts.RESUME, {"d": found.id, "g": found.resume_token_hash[:16]})


def opens(app, token: str) -> bool:
    with app.app_context():
        return drafts.from_resume_token(get_session(), token) is not None


def test_a_draft_and_its_link_live_as_long_as_its_form_says(app, client):
    slug = publish_form(app, FIELDS)
    set_lifetime(app, slug, 2)
    fill_first_page(client, slug)
    found = draft(app)
    assert utcnow() + timedelta(days=1.9) < found.expires_at < utcnow() + timedelta(days=2.1)
    assert opens(app, link_made(app, found.id, 1))
    assert not opens(app, link_made(app, found.id, 3))

    set_lifetime(app, slug, 100)  # longer than the platform's default (30 days)
    assert opens(app, link_made(app, found.id, 40))
    assert not opens(app, link_made(app, found.id, 101))


def test_an_expired_drafts_files_go_with_it_unless_another_row_names_them(app, client, runner):
    slug = publish_form(app, FIELDS)
    fill_first_page(client, slug)
    content, kept = b"%PDF-1.4\n% passeport\n%%EOF\n", b"%PDF-1.4\n% partage\n%%EOF\n"
    with app.app_context():
        db = get_session()
        found = db.scalars(select(Submission)).one()
        other = Submission(form_id=found.form_id, form_version_id=found.form_version_id,
                           state="submitted", answers={})  # fmt: skip
        db.add(other)
        db.flush()
        keys = []
        for owner, data in ((found, content), (found, kept), (other, kept)):
            sha256 = hashlib.sha256(data).hexdigest()
            keys.append(storage.store(data, sha256))
            db.add(Attachment(submission_id=owner.id, field_key="piece", original_name="p.pdf",
                              content_type="application/pdf", size=len(data), sha256=sha256,
                              storage_key=keys[-1]))  # fmt: skip
        found.expires_at = utcnow() - timedelta(seconds=1)
        db.commit()

    result = runner.invoke(args=["drafts", "sweep"])
    assert result.exit_code == 0 and "Expired 1" in result.output, result.output
    with app.app_context():
        assert not storage.exists(keys[0])
        assert storage.read(keys[1]) == kept  # the submitted request still names it


def test_the_retention_command_reports_what_it_did(app, runner):
    result = runner.invoke(args=["retention", "sweep"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Anonymised 0 request(s), deleted 0 file(s), 0 e-mail(s), 0 webhook delivery(ies), "
        "0 idempotent answer(s); erased 0 problem report(s).\n"
    )
