"""`flask --app wsgi pki demo`: the demonstration signing key for bordereaux."""

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from forms_app import pki

pki_cli = AppGroup("pki", help="Keys and certificates for electronic signatures.")


def init_app(app: Flask) -> None:
    app.cli.add_command(pki_cli)


@pki_cli.command("demo")
@click.option("--force", is_flag=True, help="Replace an existing demo CA and signer key.")
def pki_demo(force: bool) -> None:
    """Create a demo CA and a signer certificate (PKCS#12) under the instance folder."""
    if current_app.config["ENV"] == "production":
        raise click.ClickException(
            "The demo PKI is never used in production: set GUICHET_SIGNING_PKCS12 and "
            "GUICHET_SIGNING_PKCS12_PASSWORD to the signer's own key."
        )
    configured = current_app.config.get("SIGNING_PKCS12_PASSWORD")
    password = str(configured) if configured else pki.DEMO_PASSWORD
    made = pki.create_demo_pki(
        pki.default_directory(current_app.instance_path), password, force=force
    )
    click.echo(("Created" if made.created else "Kept the existing") + " demo PKI:")
    click.echo(f"  CA certificate       {made.ca_certificate}")
    click.echo(f"  signer key (PKCS#12) {made.signer_pkcs12}  (mode 0600)")
    if not made.created:
        click.echo("Use --force to replace it (documents signed before will no longer be trusted).")
    click.echo("Signing uses these by default outside production; to name them explicitly:")
    click.echo(f"  GUICHET_SIGNING_PKCS12={made.signer_pkcs12}")
    shown = "(the password already configured)" if configured else password
    click.echo(f"  GUICHET_SIGNING_PKCS12_PASSWORD={shown}")
    click.echo(f"  GUICHET_SIGNING_TRUST_ROOTS={made.ca_certificate}")
