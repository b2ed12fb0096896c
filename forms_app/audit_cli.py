"""Command-line tools for the audit log's hash chain: `flask --app wsgi audit seal|verify`."""

import click
from flask.cli import AppGroup

from forms_app import audit_chain
from forms_app.db import get_db, get_session

audit_cli = AppGroup("audit", help="The audit log's hash chain.")


@audit_cli.command("seal")
def audit_seal() -> None:
    """Seal every event written so far (the worker does it every AUDIT_SEAL_INTERVAL)."""
    sealed = audit_chain.seal_all(get_db().sessionmaker)
    click.echo(f"Events sealed: {sealed}")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Recompute the chain; exit 1 and name the first broken link if it does not hold."""
    session = get_session()
    result = audit_chain.verify(session)
    waiting = audit_chain.unsealed(session)
    if result.broken is not None:
        click.echo(
            f"BROKEN at position {result.broken.position}: {result.broken.reason}. "
            f"The {result.checked} events before it hold.",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"Chain holds: {result.checked} events sealed, {waiting} waiting for their seal.")
    click.echo(f"Head: {result.head} (record it elsewhere: a rewrite must match it)")
