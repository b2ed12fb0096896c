"""Service banners shown on top of every page (information, degraded service, outage).

The slot is filled from configuration (GUICHET_SERVICE_BANNER and
GUICHET_SERVICE_BANNER_LEVEL), so an operator can announce a problem without a deploy.
"""

from flask import Flask

LEVELS = ("info", "degraded", "unavailable")


def init_app(app: Flask) -> None:
    @app.context_processor
    def _banners() -> dict:
        message = (app.config.get("SERVICE_BANNER") or "").strip()
        if not message:
            return {"service_banners": []}
        level = app.config.get("SERVICE_BANNER_LEVEL", "info")
        return {
            "service_banners": [{"message": message, "level": level if level in LEVELS else "info"}]
        }
