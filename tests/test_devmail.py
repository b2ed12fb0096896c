"""The development page listing the e-mails the file backend wrote: /dev/courriels."""

import pytest

from forms_app import create_app, mail
from forms_app.db import get_db
from tests.support import sent_mails


def send(app, to="demandeur@example.nc", subject="Votre demande", body="Bonjour.", **extra):
    with app.app_context():
        mail.send(mail.build(to, subject, body, **extra))
    return sent_mails(app)


def test_lists_sent_mails_newest_first(app, client):
    with app.app_context():
        older = mail.build("demandeur@example.nc", "Premier courriel", "Bonjour.")
        older.replace_header("Date", "Mon, 02 Mar 2026 08:00:00 -0000")
        mail.send(older)
    send(app, to="autre@example.nc", subject="Second courriel")
    page = client.get("/dev/courriels/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "autre@<wbr>example.<wbr>nc" in html
    assert "demandeur@<wbr>example.<wbr>nc" in html
    assert html.index("Second courriel") < html.index("Premier courriel")


def test_empty_list_when_nothing_was_sent(client):
    page = client.get("/dev/courriels/")
    assert page.status_code == 200
    assert "Aucun courriel" in page.get_data(as_text=True)


def test_shows_headers_body_with_links_and_attachments(app, client):
    [path] = send(
        app,
        subject="Accusé de réception",
        body="Reprenez votre demande : https://guichet.example.nc/reprendre/abc?x=1&y=2.\n<b>fin</b>",
        reply_to="service@example.nc",
        attachments=[("recu.pdf", "application/pdf", b"%PDF-1.7 test")],
    )
    page = client.get(f"/dev/courriels/{path.name}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Accusé de réception" in html
    # Header values may break after dots and @ on narrow screens.
    assert "service@<wbr>example.<wbr>nc" in html
    # The link is clickable, without the sentence's full stop; the rest is escaped text.
    url = "https://guichet.example.nc/reprendre/abc?x=1&amp;y=2"
    assert f'<a href="{url}">{url}</a>.' in html
    assert "&lt;b&gt;fin&lt;/b&gt;" in html
    assert "recu.pdf" in html
    link = f"/dev/courriels/{path.name}/pieces/0"
    assert link in html

    piece = client.get(link)
    assert piece.status_code == 200
    assert piece.data == b"%PDF-1.7 test"
    assert piece.mimetype == "application/pdf"
    assert "recu.pdf" in piece.headers["Content-Disposition"]
    assert client.get(f"/dev/courriels/{path.name}/pieces/1").status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "nope.eml",
        "0123456789ABCDEF0123456789ABCDEF.eml",  # upper case: not a name the backend writes
        "0123456789abcdef0123456789abcdef.txt",
        "0123456789abcdef0123456789abcdef.eml",  # well formed, but no such file
        "..%2F..%2Fsetup.cfg",
        "%2E%2E",
    ],
)
def test_bad_or_unknown_names_are_404(app, client, name):
    send(app)
    assert client.get(f"/dev/courriels/{name}").status_code == 404
    assert client.get(f"/dev/courriels/{name}/pieces/0").status_code == 404


def test_files_the_backend_did_not_write_are_neither_listed_nor_served(app, client):
    [path] = send(app, subject="Vrai courriel")
    (path.parent / "notes.eml").write_bytes(path.read_bytes().replace(b"Vrai", b"Faux"))
    (path.parent / f".{path.name}.part").write_bytes(b"Subject: partiel\n\n")
    html = client.get("/dev/courriels/").get_data(as_text=True)
    assert "Vrai courriel" in html
    assert "Faux" not in html
    assert "partiel" not in html
    assert client.get("/dev/courriels/notes.eml").status_code == 404


def _app_with(app_config, monkeypatch, tmp_path, **config):
    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path / "instance"))
    return create_app({**app_config, **config})


def test_absent_in_production(app_config, monkeypatch, tmp_path):
    app = _app_with(app_config, monkeypatch, tmp_path, ENV="production", SECRET_KEY="s" * 40)
    try:
        send(app)
        assert "devmail" not in app.blueprints
        assert app.test_client().get("/dev/courriels/").status_code == 404
        assert app.test_client().get(f"/dev/courriels/{sent_mails(app)[0].name}").status_code == 404
    finally:
        get_db(app).dispose()


def test_absent_with_the_smtp_backend(app_config, monkeypatch, tmp_path):
    app = _app_with(app_config, monkeypatch, tmp_path, MAIL_BACKEND="smtp")
    try:
        assert "devmail" not in app.blueprints
        assert app.test_client().get("/dev/courriels/").status_code == 404
    finally:
        get_db(app).dispose()


def test_switching_to_smtp_after_start_hides_the_page(app, client):
    app.config["MAIL_BACKEND"] = "smtp"
    assert client.get("/dev/courriels/").status_code == 404
