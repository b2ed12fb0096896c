"""`flask --app wsgi forms list|import|export`: forms as JSON files."""

import json
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from forms_app import publishing
from forms_app.db import get_session
from forms_app.formdefs.definition import DefinitionError, canonical_json
from forms_app.models import Form

DEMO_FORMS_DIR = Path(__file__).resolve().parent / "demo_forms"

forms_cli = AppGroup("forms", help="Form definitions.")


@forms_cli.command("list")
def forms_list() -> None:
    """Print one form per line: slug, status, current version, title."""
    for form in get_session().scalars(select(Form).order_by(Form.slug)):
        version = form.current_version.number if form.current_version else "-"
        click.echo(f"{form.slug}\t{form.status.value}\tv{version}\t{form.title}")


@forms_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--publish", "publish_it", is_flag=True, help="Publish the imported definition.")
def forms_import(path: Path, publish_it: bool) -> None:
    """Create or update the form named by the file's slug."""
    session = get_session()
    try:
        form = publishing.import_definition(session, _read(path), None, publish_it=publish_it)
        session.commit()
    except DefinitionError as exc:
        lines = "\n".join(f"  {where}: {message}" for where, message in exc.errors)
        raise click.ClickException(f"{path} is not a valid form definition:\n{lines}") from exc
    except publishing.PublishingError as exc:
        raise click.ClickException(str(exc)) from exc
    state = f"published as version {form.current_version.number}" if publish_it else "draft saved"
    click.echo(f"{form.slug}: {state}.")


@forms_cli.command("export")
@click.argument("slug")
@click.option("--published", is_flag=True, help="Export the live version instead of the draft.")
def forms_export(slug: str, published: bool) -> None:
    """Print the form's definition as JSON on standard output."""
    form = publishing.get_form(get_session(), slug)
    if form is None:
        raise click.ClickException(f"No form {slug!r}.")
    if published and form.current_version is None:
        raise click.ClickException(f"{slug} has no published version.")
    click.echo(canonical_json(form.current_version.definition if published else form.draft))


def load_demo_forms() -> list[str]:
    """Import and publish the demo forms shipped in forms_app/demo_forms (idempotent)."""
    session = get_session()
    loaded = []
    for path in sorted(DEMO_FORMS_DIR.glob("*.json")):
        data = _read(path)
        form = publishing.get_form(session, data["slug"])
        if form is None or form.draft != data:
            form = publishing.import_definition(session, data, None)
        if publishing.draft_changed(form):
            publishing.publish(session, form, None)
        loaded.append(form.slug)
    session.commit()
    return loaded


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
