"""The JSON API for other systems, under /api/v1 (docs/api.md).

flask-smorest builds the OpenAPI 3 document (/api/v1/openapi.json) from the views' schemas.
Every view takes a bearer token (`access.authenticate`), is rate limited per token
(API_RATE_LIMIT), answers errors as `application/problem+json` (`problems`, from
`forms_app/errors.py`) and is exempt from CSRF: it reads no cookie.
"""

import http

from flask import Flask
from flask_smorest import Api as SmorestApi
from flask_smorest.spec import prepare_response
from werkzeug.routing import IntegerConverter

from forms_app.api import problems
from forms_app.api.schemas import ProblemSchema

PREFIX = "/api/v1"


class RowId(IntegerConverter):
    """`<id:name>`: a row's id, within the database's integers (else the URL is a 404)."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=ROW_ID_MAX)


ROW_ID_MAX = 2**31 - 1


class Api(SmorestApi):
    """flask-smorest, with errors left to the app's handlers and documented as problems."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """The app's handlers (forms_app/errors.py) answer problem documents under /api/."""

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, problems.MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error (RFC 9457 problem)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.MEDIA_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def init_app(app: Flask) -> None:
    from forms_app.api import action_views, finance_views, form_views, submission_views
    from forms_app.api.access import authenticate, rate_key
    from forms_app.limiter import config_limit, limiter
    from forms_app.security import csrf

    config = app.config
    config.update(
        API_TITLE="Guichet",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = Api(
        app,
        spec_kwargs={
            "servers": [{"url": "/"}],
            "security": [{"token": []}],
            "info": {"description": "Read requests, act on them, follow payments: docs/api.md"},
        },
    )
    api.spec.components.security_scheme("token", {"type": "http", "scheme": "bearer"})
    app.url_map.converters["id"] = RowId
    api.register_converter(
        RowId, lambda _c: {"type": "integer", "minimum": 1, "maximum": ROW_ID_MAX}
    )
    for module in (form_views, submission_views, action_views, finance_views):
        blueprint = module.blp
        if not blueprint.before_request_funcs:
            blueprint.before_request(authenticate)
            # One count per token across the whole API, not one per blueprint.
            limiter.shared_limit(config_limit("API_RATE_LIMIT"), "api", key_func=rate_key)(
                blueprint
            )
            csrf.exempt(blueprint)
        api.register_blueprint(blueprint, url_prefix=PREFIX + module.PATH)
    app.extensions["guichet.api"] = api
