"""Public pages: French first, English on request, accessible layout, error pages, headers."""


def test_home_is_french_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="fr">' in response.text
    assert "Démarches en ligne" in response.text
    assert 'href="#contenu"' in response.text  # skip link
    assert 'role="main"' in response.text


def test_english_on_request_and_remembered(client):
    response = client.get("/?lang=en")
    assert '<html lang="en">' in response.text
    assert "Online services" in response.text
    assert "lang=en" in response.headers["Set-Cookie"]
    assert "Online services" in client.get("/").text


def test_french_whatever_the_browser_says_until_english_is_chosen(client):
    assert "Démarches en ligne" in client.get("/", headers={"Accept-Language": "en-GB"}).text
    assert "Online services" in client.get("/?lang=en", headers={"Accept-Language": "fr"}).text


def test_unknown_language_falls_back_to_french(client):
    assert "Démarches en ligne" in client.get("/?lang=xx").text


def test_not_found_page_is_french(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.text


def test_security_headers(client):
    headers = client.get("/").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in headers["Content-Security-Policy"]


def test_banner_slot_renders_banners(app):
    with app.test_request_context("/"):
        from flask import render_template

        html = render_template(
            "public/index.html",
            forms=[],
            service_banners=[{"level": "degraded", "message": "Service ralenti ce matin."}],
        )
    assert 'class="service-banner service-banner--degraded"' in html
    assert "Service ralenti ce matin." in html


def test_database_outage_gives_a_french_503(app_config, tmp_path, monkeypatch):
    from forms_app import create_app

    monkeypatch.setenv("GUICHET_INSTANCE_PATH", str(tmp_path))
    config = dict(app_config, DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    client = create_app(config).test_client()
    response = client.post("/agents/connexion", data={"email": "a@b.nc", "password": "x"})
    assert response.status_code == 503
    assert "Service momentanément indisponible" in response.text
    assert response.headers["Retry-After"] == "30"
