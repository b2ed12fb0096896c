"""Redis connections and the RQ queue."""

from flask import Flask, current_app
from redis import Redis
from rq import Queue

# The function every outbox message runs through (see workflows.jobs).
RUN_OUTBOX_MESSAGE = "workflows.jobs.run_outbox_message"


def connect(url: str, timeout: float | None = None) -> Redis:
    """Open a Redis client; `timeout` bounds connects and replies (None: block, for workers)."""
    return Redis.from_url(
        url, socket_connect_timeout=timeout or 5, socket_timeout=timeout, health_check_interval=30
    )


def get_redis(app: Flask | None = None) -> Redis:
    """Return the app's short-timeout client: the web tier never waits long on Redis."""
    app = app or current_app
    client = app.extensions.get("guichet.redis")
    if client is None:
        client = connect(app.config["REDIS_URL"], app.config["REDIS_TIMEOUT"])
        app.extensions["guichet.redis"] = client
    return client


def get_queue(app: Flask | None = None, connection: Redis | None = None) -> Queue:
    """Return the RQ queue outbox messages are pushed to."""
    app = app or current_app
    return Queue(app.config["QUEUE_NAME"], connection=connection or get_redis(app))
