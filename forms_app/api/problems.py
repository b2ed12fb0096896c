"""Errors of the JSON API as `application/problem+json` (RFC 9457), one shape for all."""

from http import HTTPStatus
from typing import Any

from flask import Response, json, request
from werkzeug.exceptions import HTTPException

MEDIA_TYPE = "application/problem+json"
PREFIX = "/api/"


def is_api_request() -> bool:
    return request.path.startswith(PREFIX)


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The problem document for `status`, with a sentence for people and field errors."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    response.headers.update(headers or {})
    return response


def from_http_exception(exc: HTTPException, headers: dict[str, str] | None = None) -> Response:
    """A problem document for an HTTP error raised anywhere under /api/.

    Request parsing (webargs) puts its field errors in `exc.data["messages"]`: they are
    returned as `errors`, keyed by where the value came from ("json", "query") then field.
    """
    data = getattr(exc, "data", None) or {}
    errors = data.get("messages") if isinstance(data, dict) else None
    detail = data.get("message") if isinstance(data, dict) else None
    if detail is None and exc.description and exc.code not in (404, 405, 500):
        detail = exc.description
    all_headers = dict(data.get("headers") or {}) if isinstance(data, dict) else {}
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        all_headers["Allow"] = ", ".join(exc.valid_methods)
    all_headers.update(headers or {})
    return problem(exc.code or 500, detail, errors=errors, headers=all_headers)
