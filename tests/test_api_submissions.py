"""Reading requests through the API: keyset pages and their filters, one request in full,
its files; and the forms with their versions."""

import hashlib
import re
from datetime import timedelta

from sqlalchemy import select, update

from forms_app import storage
from forms_app.db import get_session, utcnow
from forms_app.models import Attachment, Flag, Submission
from tests.api_support import bearer, make_token
from tests.finance_support import AGENT, approved_request, publish_payment_form, staff_users
from tests.support import submit_answers, submit_directly

ANSWERS = {
    "nom": "SARL CORAIL", "ridet": "1234567001", "courriel": "corail@example.nc",
    "montant": 100_000, "titulaire": "SARL CORAIL", "iban": "FR7699999000010001234567809",
}  # fmt: skip


def submit(app, count: int) -> list[str]:
    return [submit_directly(app, "aide", ANSWERS) for _ in range(count)]


def walk(client, secret: str, query: str) -> list[dict]:
    """Every item of the listing, page by page, following next_cursor."""
    items, cursor = [], None
    while True:
        url = f"/api/v1/submissions?{query}" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=bearer(secret))
        assert page.status_code == 200, page.json
        items += page.json["items"]
        cursor = page.json["next_cursor"]
        if cursor is None:
            return items


def test_pages_follow_each_other_without_gap_or_repeat_and_filters_apply(app, client):
    publish_payment_form(app)
    staff_users(app)
    references = submit(app, 7)
    secret = make_token(app, AGENT)
    listed = walk(client, secret, "limit=3")
    assert [item["reference"] for item in listed] == references  # oldest change first
    assert listed[0]["form"] == "aide" and listed[0]["state"] == "submitted"

    with app.app_context():
        db = get_session()
        db.execute(
            update(Submission).where(Submission.reference.in_(references[:3])).values(priority=1)
        )
        # onupdate stamps updated_at: the times are set after, on purpose
        db.execute(update(Submission).values(updated_at=utcnow() - timedelta(days=2)))
        db.execute(
            update(Submission)
            .where(Submission.reference.in_(references[4:]))
            .values(updated_at=utcnow(), state="in_review")
        )
        db.commit()
    since = (utcnow() - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    changed = walk(client, secret, f"limit=2&updated_since={since}")
    assert [item["reference"] for item in changed] == references[4:]
    in_review = walk(client, secret, "state=in_review&form=aide")
    assert {item["reference"] for item in in_review} == set(references[4:])
    assert walk(client, secret, "form=inconnu") == []
    by_priority = walk(client, secret, "order=priority&limit=2")
    assert [item["reference"] for item in by_priority][:3] == references[:3]
    assert {item["reference"] for item in by_priority} == set(references)
    cursor = client.get("/api/v1/submissions?limit=2", headers=bearer(secret)).json["next_cursor"]
    mixed = client.get(
        f"/api/v1/submissions?order=priority&cursor={cursor}", headers=bearer(secret)
    )
    assert mixed.status_code == 422  # a cursor belongs to its ordering


def test_one_request_in_full_with_its_flags_history_and_files(app, client):
    publish_payment_form(app)
    reference = approved_request(app)
    content = b"%PDF-1.4\n% avis RIDET\n%%EOF\n"
    with app.app_context():
        db = get_session()
        found = db.scalar(select(Submission).where(Submission.reference == reference))
        sha256 = hashlib.sha256(content).hexdigest()
        db.add(Attachment(submission_id=found.id, field_key="avis", original_name="avis.pdf",
                          content_type="application/pdf", size=len(content), sha256=sha256,
                          storage_key=storage.store(content, sha256)))  # fmt: skip
        db.add(Flag(submission_id=found.id, kind="same_iban", key="k", message="IBAN déjà vu"))
        db.commit()
    secret = make_token(app, AGENT)
    detail = client.get(f"/api/v1/submissions/{reference}", headers=bearer(secret))
    assert detail.status_code == 200
    body = detail.json
    assert body["answers"]["nom"] == "SARL LAGON BLEU TOURS" and body["state"] == "approved"
    assert body["approved_amount"] == 150_000 and body["proposal"] == "accept"
    assert [event["action"] for event in body["history"]] == [
        "submit",
        "take",
        "propose",
        "approve",
    ]
    assert body["history"][1]["by"] == AGENT and body["history"][1]["to_state"] == "in_review"
    assert body["flags"] == [{"kind": "same_iban", "message": "IBAN déjà vu",
                              "other_reference": None, "created_at": body["flags"][0]["created_at"]}]  # fmt: skip
    [attachment] = body["attachments"]
    assert attachment["name"] == "avis.pdf" and attachment["sha256"] == sha256
    files = f"/api/v1/submissions/{reference}/attachments"
    with client.get(f"{files}/{attachment['id']}", headers=bearer(secret)) as download:
        assert download.status_code == 200 and download.data == content
        assert download.headers["Content-Disposition"].startswith("attachment")
    missing = client.get(f"{files}/{attachment['id'] + 99}", headers=bearer(secret))
    assert missing.status_code == 404


def test_drafts_stay_private(app, client):
    publish_payment_form(app)
    staff_users(app)
    client.post("/demarches/aide/")  # a draft, started by an applicant
    secret = make_token(app, AGENT)
    assert walk(client, secret, "limit=50") == []


def test_forms_and_their_published_versions(app, client):
    publish_payment_form(app)
    staff_users(app)
    secret = make_token(app, AGENT)
    [form] = client.get("/api/v1/forms", headers=bearer(secret)).json["items"]
    assert form["slug"] == "aide" and form["status"] == "published" and form["current_version"] == 1
    detail = client.get("/api/v1/forms/aide", headers=bearer(secret)).json
    assert [version["number"] for version in detail["versions"]] == [1]
    version = client.get("/api/v1/forms/aide/versions/1", headers=bearer(secret)).json
    assert version["definition"]["slug"] == "aide"
    assert version["sha256"] == detail["versions"][0]["sha256"]
    assert client.get("/api/v1/forms/aide/versions/2", headers=bearer(secret)).status_code == 404


def test_a_request_submitted_after_a_sync_is_in_the_next_one(app, client):
    """A draft saved before the sync time and submitted after it counts as changed."""
    publish_payment_form(app)
    staff_users(app)
    secret = make_token(app, AGENT)
    typed = {**ANSWERS, "montant": "100 000", "ridet": "1234567.001"}
    check = submit_answers(client, "aide", typed, submit=False)
    assert check.status_code == 200, check.status_code
    with app.app_context():
        db = get_session()
        db.execute(update(Submission).values(updated_at=utcnow() - timedelta(days=1)))
        db.commit()
    since = utcnow().isoformat().replace("+00:00", "Z")
    token = re.search(r'name="_jeton" value="([0-9a-f]{32})"', check.text)[1]
    assert client.post("/demarches/aide/verification", data={"_jeton": token}).status_code == 302
    [item] = walk(client, secret, f"updated_since={since}")
    assert item["state"] == "submitted" and item["reference"].startswith("AIDE-")
