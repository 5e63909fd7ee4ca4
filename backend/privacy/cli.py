"""flask CLI: export-resident, delete-resident (docs/operations.md)."""
import json

import click

from ..errors import NotFound


def register(app):
    @app.cli.command("export-resident")
    @click.argument("openid")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
                  help="write the JSON here instead of standard output")
    def export_resident(openid, output):
        """Everything stored about the resident with OPENID, as JSON (个人信息查阅、复制)."""
        from .services import export_resident as export
        try:
            text = json.dumps(export(openid), ensure_ascii=False, indent=2)
        except NotFound as exc:
            raise click.ClickException(exc.message) from None
        if output:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            click.echo(text)

    @app.cli.command("delete-resident")
    @click.argument("openid")
    @click.option("--yes", is_flag=True, help="do not ask for confirmation")
    def delete_resident(openid, yes):
        """Anonymise the resident with OPENID and their orders' personal fields (orders stay)."""
        from .services import delete_resident as delete
        if not yes:
            click.confirm(f"Anonymise resident {openid} and the personal data of all their orders?", abort=True)
        try:
            done = delete(openid)
        except NotFound as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"resident {done['resident_id']} anonymised; {len(done['orders'])} orders anonymised")
