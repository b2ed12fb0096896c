"""Logging: one JSON object per line (LOG_FORMAT "json"), request and job ids, the access log.

With LOG_FORMAT "json" the root logger writes to standard error, one JSON object per line:
`time` (UTC, ISO 8601), `level`, `logger`, `message`, `request_id` (inside a web request),
`job_id` and `outbox_id` (inside a job), plus the `extra` fields a call gives. Every web
answer gets one line from the "guichet.access" logger: method, endpoint, URL rule (the route
as declared, `/mon-espace/acces/<token>`, never the path, so no reference, token or query
string), status and duration_ms. The request id comes from the X-Request-ID header when it
looks safe (8 to 64 letters, digits or dashes), else it is a new one; the answer carries it
back in X-Request-ID. With "text" nothing is changed: the process logs as it did.

Logs carry ids and exception class names, never personal data: an exception's message may
hold what a visitor typed, so JSON tracebacks keep the frames and the class and leave the
message out; unhandled exceptions are logged with the endpoint instead of the path.
"""

import contextlib
import contextvars
import json
import logging
import os
import re
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

from forms_app.config import ConfigError

FORMATS = ("text", "json")
REQUEST_ID_HEADER = "X-Request-ID"
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
# Loggers whose lines would carry personal data (paths, visitors' addresses): kept quiet.
QUIETED = ("werkzeug", "flask-limiter")

access_log = logging.getLogger("guichet.access")
_job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)
_outbox_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("outbox_id", default=None)


class ContextFilter(logging.Filter):
    """Add the current request id, job id and outbox message id to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        record.job_id = _job_id.get()
        record.outbox_id = _outbox_id.get()
        return True


class JsonLineFormatter(JsonFormatter):
    """One JSON object per record; exception messages left out (they may hold personal data)."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def formatException(self, ei) -> str:
        exc_type, _exc, tb = ei
        frames = "".join(traceback.format_tb(tb))
        return f"Traceback (most recent call last):\n{frames}{exc_type.__qualname__}"


class _StderrHandler(logging.StreamHandler):
    """Write to whatever sys.stderr is at the time (test capture included)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


_handler = _StderrHandler()
_handler.setFormatter(JsonLineFormatter())
_handler.addFilter(ContextFilter())
_saved_levels: dict[str, int] = {}


def use_json(level: int = logging.INFO) -> None:
    """Make the root logger write JSON lines to standard error (idempotent)."""
    root = logging.getLogger()
    if _handler in root.handlers:
        return
    for name in ("", *QUIETED):
        _saved_levels[name] = logging.getLogger(name).level
    root.addHandler(_handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    for name in QUIETED:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)


def use_text() -> None:
    """Undo `use_json` (a process, or a test, switching back to LOG_FORMAT "text")."""
    root = logging.getLogger()
    if _handler not in root.handlers:
        return
    root.removeHandler(_handler)
    for name, level in _saved_levels.items():
        logging.getLogger(name).setLevel(level)
    _saved_levels.clear()
    logging.captureWarnings(False)


def format_from_environ(environ=os.environ) -> str:
    """LOG_FORMAT as GUICHET_LOG_FORMAT gives it, for processes that log before create_app."""
    value = environ.get("GUICHET_LOG_FORMAT", "text")
    with contextlib.suppress(ValueError):
        value = json.loads(value)  # Flask's from_prefixed_env reads values as JSON first
    return str(value)


def init_app(app: Flask) -> None:
    """Set up the process's log format, request ids and the access log for `app`."""
    log_format = app.config["LOG_FORMAT"]
    if log_format not in FORMATS:
        raise ConfigError(f"LOG_FORMAT must be one of {FORMATS}, not {log_format!r}.")
    if log_format == "json":
        use_json()
    else:
        use_text()
    # First of all before_request functions: everything logged in the request has its id.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
    app.log_exception = _log_exception.__get__(app)


def request_id_from(header: str | None) -> str:
    """The caller's request id if it looks safe to log and echo, else a new one."""
    if header and SAFE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def _start_request() -> None:
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    request_id = g.get("request_id") or request_id_from(None)
    response.headers[REQUEST_ID_HEADER] = request_id
    if access_log.isEnabledFor(logging.INFO):
        started = g.get("request_started")
        duration = round((time.perf_counter() - started) * 1000, 1) if started else None
        rule = request.url_rule.rule if request.url_rule is not None else None
        access_log.info(
            "%s %s %s",
            request.method,
            rule or "-",
            response.status_code,
            extra={
                "request_id": request_id,
                "method": request.method,
                "endpoint": request.endpoint,
                "rule": rule,
                "status": response.status_code,
                "duration_ms": duration,
            },
        )
    return response


def _log_exception(app: Flask, exc_info) -> None:
    """Flask's log of an unhandled exception, naming the endpoint rather than the path."""
    app.logger.error(
        "Exception on %s [%s]", request.endpoint or "-", request.method, exc_info=exc_info
    )


@contextlib.contextmanager
def job_context(job_id: str, outbox_id: int | None = None) -> Iterator[None]:
    """Tag every line logged inside the block with this job's ids."""
    job_token = _job_id.set(job_id)
    outbox_token = _outbox_id.set(outbox_id)
    try:
        yield
    finally:
        _outbox_id.reset(outbox_token)
        _job_id.reset(job_token)
