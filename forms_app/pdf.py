"""PDF documents: Jinja templates from pdf_templates/ rendered by WeasyPrint, in workers only.

The fetcher only reads files inside pdf_templates/ (the stylesheet, the shipped fonts):
no network, no other file, so a document cannot leak or depend on anything else.

Rendering is fast because what every document shares is prepared once per thread and reused:
the font configuration (the @font-face fonts loaded into Fontconfig and Pango, whose caches
stay warm) and the parsed stylesheets of `STYLESHEETS`. A template listed there links no
stylesheet itself; a template that is not listed keeps its own <link> elements. Changing a
stylesheet or a font on disk prepares everything again at the next render.
"""

import atexit
import gc
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape

from forms_app.formdefs.banking import format_iban
from forms_app.formdefs.nc import format_xpf

TEMPLATES = Path(__file__).resolve().parent.parent / "pdf_templates"
BASE_URL = TEMPLATES.as_uri() + "/"
# The stylesheets of each template, in cascade order, parsed once and passed to WeasyPrint.
STYLESHEETS = {
    "receipt.html": ("base.css",),
    "payment_act.html": ("base.css", "acts.css"),
    "decision.html": ("base.css", "acts.css"),
    "bordereau.html": ("base.css", "acts.css", "bordereau.css"),
}
# Runs of more than 30 characters without a space get invisible break opportunities (U+200B)
# through the `breakable` filter: WeasyPrint lays an unbroken run out again for every line it
# wraps, so one 10,000-character run took 3 s and 50,000 took 36 s (a spaced text: 0.2 s).
_UNBROKEN = re.compile(r"(\S{30})(?=\S)")


def breakable(value) -> str:
    """The value as text, with a zero-width space after every 30 characters of an unbroken run."""
    return _UNBROKEN.sub("\\1\u200b", str(value))


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True
)
_environment.filters["breakable"] = breakable
_environment.filters["iban"] = format_iban
_environment.filters["xpf"] = format_xpf
_prepared = threading.local()  # Pango and Fontconfig objects are not shared between threads


@atexit.register
def _forget() -> None:
    """Drop the main thread's fonts before shutdown clears the modules their cleanup uses."""
    _prepared.__dict__.pop("value", None)


class RefusedResource(ValueError):
    """A template asked for something outside pdf_templates/."""


def _fetcher():
    from weasyprint.urls import URLFetcher

    class TemplateFetcher(URLFetcher):
        """Serve files from pdf_templates/ and refuse everything else."""

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            path = Path(unquote(parts.path)).resolve()
            if parts.scheme != "file" or not path.is_relative_to(TEMPLATES):
                raise RefusedResource(f"refused resource outside pdf_templates: {url}")
            return super().fetch(url, headers)

    return TemplateFetcher(fail_on_errors=True, allowed_protocols=("file",))


class Prepared:
    """What every render shares: fetcher, font configuration, stylesheets parsed on demand."""

    def __init__(self, signature: tuple):
        from weasyprint.text.fonts import FontConfiguration

        self.signature = signature
        self.fetcher = _fetcher()
        self.font_config = FontConfiguration()
        self._stylesheets = {}

    def stylesheet(self, name: str):
        """The parsed stylesheet `name` of pdf_templates/ (its @font-face fonts loaded)."""
        if name not in self._stylesheets:
            from weasyprint import CSS

            self._stylesheets[name] = CSS(
                url=BASE_URL + name, url_fetcher=self.fetcher, font_config=self.font_config
            )
        return self._stylesheets[name]


def _signature() -> tuple:
    """The stylesheets and fonts on disk: name, size and modification time of each."""
    files = sorted([*TEMPLATES.glob("*.css"), *TEMPLATES.glob("fonts/*")])
    return tuple((path.name, *_stat(path)) for path in files)


def _stat(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def prepared() -> Prepared:
    """This thread's shared render state, prepared again when a stylesheet or font changed."""
    signature = _signature()
    current = getattr(_prepared, "value", None)
    if current is None or current.signature != signature:
        current = _prepared.value = Prepared(signature)
    return current


def render_html(template: str, **context) -> str:
    return _environment.get_template(template).render(**context)


def render(template: str, **context) -> bytes:
    """Render a template of pdf_templates/ to PDF bytes (fonts subset and embedded)."""
    from weasyprint import HTML

    shared = prepared()
    source = render_html(template, **context)
    collecting = gc.isenabled()
    gc.disable()  # a render makes many short-lived objects: no collection passes meanwhile
    try:
        html = HTML(string=source, base_url=BASE_URL, url_fetcher=shared.fetcher)
        stylesheets = [shared.stylesheet(name) for name in STYLESHEETS.get(template, ())]
        return html.write_pdf(stylesheets=stylesheets, font_config=shared.font_config)
    finally:
        if collecting:
            gc.enable()
