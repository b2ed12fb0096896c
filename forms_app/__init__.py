"""Guichet: e-forms with a processing chain, for provincial administrations."""

import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from forms_app import config as config_module


def create_app(test_config: dict | None = None) -> Flask:
    """Build the Flask app: configuration, extensions, blueprints. No database or Redis I/O."""
    instance_path = os.environ.get("GUICHET_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_object(config_module.Config)
    config_module.load(app.config, os.environ)
    app.config.from_prefixed_env("GUICHET")
    if test_config is not None:
        app.config.from_mapping(test_config)
    instance = Path(app.instance_path)
    app.config["DATABASE_URL"] = (
        app.config["DATABASE_URL"] or f"sqlite:///{instance / 'guichet.sqlite3'}"
    )
    app.config["MAIL_DIR"] = app.config["MAIL_DIR"] or str(instance / "mail")
    if app.config["ENV"] == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    config_module.check(app.config)
    if app.config["TRUSTED_PROXIES"]:
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from forms_app import (
        api,
        auth,
        banners,
        cli,
        db,
        devmail,
        errors,
        filters,
        health,
        i18n,
        limiter,
        logs,
        metrics,
        metrics_views,
        ops_evidence,
        security,
    )
    from forms_app.backoffice import bp as backoffice_bp
    from forms_app.builder import bp as builder_bp
    from forms_app.finance import bp as finance_bp
    from forms_app.ops import bp as ops_bp
    from forms_app.public import bp as public_bp

    app.jinja_env.add_extension("jinja2.ext.do")
    logs.init_app(app)  # log format, request ids, the access log
    metrics.init_app(app)  # request latency for /metrics
    db.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    limiter.init_app(app)  # rate limits, only where a view names one
    errors.init_app(app)
    filters.init_app(app)
    banners.init_app(app)
    ops_evidence.init_app(app)  # counts answers per bucket: evidence of outages
    cli.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics_views.bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(backoffice_bp)
    app.register_blueprint(finance_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(builder_bp)
    api.init_app(app)  # /api/v1: token auth, its own errors, its OpenAPI document
    devmail.init_app(app)  # development only: /dev/courriels
    return app
