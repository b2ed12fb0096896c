"""PDF documents: Jinja templates from pdf_templates/ rendered by WeasyPrint, in workers only.

The fetcher only reads files inside pdf_templates/ (the stylesheet, the shipped fonts):
no network, no other file, so a document cannot leak or depend on anything else.
"""

from pathlib import Path
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape

from forms_app.formdefs.banking import format_iban
from forms_app.formdefs.nc import format_xpf

TEMPLATES = Path(__file__).resolve().parent.parent / "pdf_templates"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True
)
_environment.filters["iban"] = format_iban
_environment.filters["xpf"] = format_xpf


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


def render_html(template: str, **context) -> str:
    return _environment.get_template(template).render(**context)


def render(template: str, **context) -> bytes:
    """Render a template of pdf_templates/ to PDF bytes."""
    from weasyprint import HTML

    html = render_html(template, **context)
    document = HTML(string=html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=_fetcher())
    return document.write_pdf()
