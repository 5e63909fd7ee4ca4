"""flask issue-partner-key NAME: an Open311 api_key for a partner system (shown once)."""
import click

from . import services


def register(app) -> None:
    @app.cli.command("issue-partner-key")
    @click.argument("name")
    def issue_partner_key(name):
        """Create partner NAME (or give it a new key; the old one stops working) and print its api_key."""
        key = services.issue_key(name)
        click.echo(key)
        click.echo(f"api_key for {name} (stored hashed; this is the only time it is shown)", err=True)
