"""Template filters: amounts in F CFP, times in Pacific/Noumea."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from forms_app.formdefs.nc import format_xpf


def local_time(value: datetime | None, tz: str = "Pacific/Noumea") -> str:
    """Show a UTC time in New Caledonia, as JJ/MM/AAAA HH:MM."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y %H:%M")


def init_app(app: Flask) -> None:
    app.add_template_filter(lambda v: "" if v is None else format_xpf(v), "xpf")
    app.add_template_filter(
        lambda v: local_time(v, app.config["BABEL_DEFAULT_TIMEZONE"]), "datetime_local"
    )
