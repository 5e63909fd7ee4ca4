"""flask wechat-sweep: re-enqueue what a Redis outage or a dead worker left behind."""
import click


def register(app):
    @app.cli.command("wechat-sweep")
    def wechat_sweep():
        """Re-enqueue unprocessed pushes and unchecked orders (outbox rows: the notify-sweep job)."""
        from . import jobs
        click.echo(jobs.sweep())
