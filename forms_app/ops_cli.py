"""Command-line tools for outage evidence: `flask --app wsgi ops detect|flush`."""

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from forms_app import extensions, ops_evidence, outages
from forms_app.db import get_session, utcnow
from forms_app.filters import local_time

ops_cli = AppGroup("ops", help="Outage evidence and detection.")


@ops_cli.command("detect")
@click.option("--hours", default=72, show_default=True, type=click.IntRange(1, 24 * 60))
def ops_detect(hours: int) -> None:
    """Print the outage windows of the last HOURS and propose the extensions they call for."""
    session = get_session()
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    now = utcnow()
    found = outages.windows(session, now - timedelta(hours=hours), now, current_app.config)
    click.echo(f"Outage windows in the last {hours} h (Pacific/Noumea time): {len(found)}")
    for window in found:
        click.echo(
            f"  {local_time(window.start, zone)} → {local_time(window.end, zone)}"
            f"  ({outages.describe(window.duration)})  {', '.join(window.reasons)}"
        )
    proposed = extensions.propose_for_outages(session, now)
    session.commit()
    click.echo(f"Extensions proposed or widened: {len(proposed)}")
    for extension in proposed:
        click.echo(
            f"  #{extension.id} {extension.form.slug}: closes "
            f"{local_time(extension.new_closes_at, zone)} instead of "
            f"{local_time(extension.previous_closes_at, zone)}"
        )


@ops_cli.command("flush")
def ops_flush() -> None:
    """Write the counts this process holds in memory to the database now."""
    written = ops_evidence.flush(current_app._get_current_object())
    click.echo(f"Flushed {written} count(s).")
