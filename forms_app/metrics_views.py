"""`/metrics`: the Prometheus text format, for the monitoring server only.

With METRICS_TOKEN set, a request must carry `Authorization: Bearer <METRICS_TOKEN>`. With
none, only requests from the loopback interface that did not come through a proxy (no
X-Forwarded-For or Forwarded header) are answered. Anyone else gets the site's plain 404: the
page is not advertised. The answer sets no cookie and is never cached.
"""

import hmac
import ipaddress
import os

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from forms_app.metrics import MULTIPROC_ENV
from forms_app.metrics_gauges import ScrapeCollector

bp = Blueprint("metrics", __name__)
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


@bp.get("/metrics")
def metrics():
    """Every figure: this host's processes' counters and the database and Redis readings."""
    if not allowed():
        abort(404)
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)
    else:
        registry.register(_ProcessFigures())
    registry.register(ScrapeCollector(current_app._get_current_object()))
    return Response(
        generate_latest(registry),
        headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
    )


def allowed() -> bool:
    """Whether this request may read the figures (see the module's doc)."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), str(token).encode()
        )
    if any(header in request.headers for header in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


class _ProcessFigures:
    """This process's own registry (no multiprocess directory): counters and process stats."""

    def collect(self):
        return REGISTRY.collect()
