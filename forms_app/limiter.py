"""Rate limits: one Flask-Limiter for the app, counted in Redis, in memory when Redis is away.

Nothing is limited by default: a view opts in with a limit read from the configuration at
each request, so operators (and tests) change it without touching code::

    @bp.route("/signaler-un-probleme", methods=["GET", "POST"])
    @limit_from_config("PROBLEM_REPORT_RATE_LIMIT")
    def report_problem(): ...

Requests are counted per client address (`request.remote_addr`; behind a reverse proxy,
TRUSTED_PROXIES must count the proxies for this to be the visitor's address).
Counters live in RATELIMIT_STORAGE_URI, else REDIS_URL. If Redis does not answer within
REDIS_TIMEOUT, Flask-Limiter counts in this process's memory and tries Redis again later
(after 1, 2, 4… seconds): the site keeps answering and limits still apply, per process.
A refused request gets the French 429 page with `Retry-After` (see `errors.py`).
"""

import time
from collections.abc import Callable, Iterable

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Seconds a refused client is told to wait when the limit's own window cannot be read.
DEFAULT_RETRY_AFTER = 60

limiter = Limiter(get_remote_address, in_memory_fallback_enabled=True)


def init_app(app: Flask) -> None:
    """Count this app's limits in its own Redis (no connection is opened here)."""
    config = app.config
    config["RATELIMIT_STORAGE_URI"] = config.get("RATELIMIT_STORAGE_URI") or config["REDIS_URL"]
    timeout = config["REDIS_TIMEOUT"]
    config.setdefault(
        "RATELIMIT_STORAGE_OPTIONS",
        {"socket_connect_timeout": timeout, "socket_timeout": timeout},
    )
    # The limiter is one object per process; the storage is the last app's (one app per
    # process outside tests). An outage seen by a previous app says nothing of this one.
    limiter._storage_dead = False
    limiter.init_app(app)


def config_limit(key: str) -> Callable[[], str]:
    """A limit read from the app's configuration at each request, e.g. "5 per hour"."""
    return lambda: current_app.config[key]


def limit_from_config(key: str, methods: Iterable[str] = ("POST",)):
    """Decorate a view: limit `methods` requests per client to the configured `key`."""
    return limiter.limit(config_limit(key), methods=list(methods))


def retry_after() -> int:
    """Seconds until the limit that refused the current request lets the client in again."""
    refused = limiter.current_limit
    if refused is None:
        return DEFAULT_RETRY_AFTER
    try:
        seconds = refused.reset_at - time.time()
    except Exception:  # the storage went away between the refusal and the answer
        seconds = refused.limit.get_expiry()
    return max(1, int(seconds))
