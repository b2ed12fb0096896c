"""Template filters: amounts in F CFP, times in Pacific/Noumea, file sizes."""

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import format_decimal
from flask_babel import gettext as _

from forms_app.formdefs.nc import format_xpf


def local_time(value: datetime | None, tz: str = "Pacific/Noumea") -> str:
    """Show a UTC time in New Caledonia, as JJ/MM/AAAA HH:MM."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y %H:%M")


def file_size(size: int) -> str:
    """A file size as people read it: 12 Ko, 3,4 Mo."""
    if size < 1024 * 1024:
        return _("%(n)s Ko", n=max(1, math.ceil(size / 1024)))
    return _("%(n)s Mo", n=format_decimal(size / (1024 * 1024), format="0.#"))


def init_app(app: Flask) -> None:
    app.add_template_filter(file_size, "file_size")
    app.add_template_filter(lambda v: "" if v is None else format_xpf(v), "xpf")
    app.add_template_filter(
        lambda v: local_time(v, app.config["BABEL_DEFAULT_TIMEZONE"]), "datetime_local"
    )
