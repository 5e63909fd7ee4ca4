"""flask CLI commands: seed-demo, issue-token, accounts."""
import click
from flask import current_app
from sqlalchemy import select

from . import demo
from .accounts import tokens
from .accounts.models import Resident
from .extensions import db


def register(app):
    from .categories import cli as categories_cli
    from .privacy import cli as privacy_cli
    from .dispatch import cli as dispatch_cli
    from .grids import cli as grids_cli
    from .open311 import cli as open311_cli
    from .orders import cli as orders_cli
    dispatch_cli.register(app)
    categories_cli.register(app)
    privacy_cli.register(app)
    orders_cli.register(app)
    open311_cli.register(app)
    grids_cli.register(app)

    @app.cli.command("seed-demo")
    def seed_demo():
        """Create the demo street, communities, grids, staff, residents and orders (idempotent)."""
        created = demo.seed()
        click.echo("demo data created" if created else "demo data already present")

    @app.cli.command("accounts")
    def list_accounts():
        """Print the staff accounts (their password is DEMO_PASSWORD in a demo)."""
        click.echo(f"{'username':<14} {'role':<20} name")
        for username, role, name in demo.accounts():
            click.echo(f"{username:<14} {role:<20} {name}")
        click.echo(f"password of every demo account: DEMO_PASSWORD={current_app.config['DEMO_PASSWORD']}")

    @app.cli.command("issue-token")
    @click.argument("openid")
    def issue_token(openid):
        """Issue a resident token for OPENID (development and tests; no open endpoint does this)."""
        resident = db.session.scalar(select(Resident).where(Resident.openid == openid))
        if resident is None:
            resident = Resident(openid=openid)
            db.session.add(resident)
            db.session.commit()
        click.echo(tokens.issue("resident", resident.id, version=resident.session_version or 0)["token"])
