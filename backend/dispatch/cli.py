"""flask CLI: run-worker, rebuild-queues, sla-tick."""
import click
from flask import current_app


def register(app):
    @app.cli.command("run-worker")
    @click.option("--queues", "queue_names", default=None,
                  help="comma-separated RQ queues, highest priority first (default WORKER_QUEUES)")
    @click.option("--burst", is_flag=True, help="exit when the queues are empty")
    @click.option("--no-ticker", is_flag=True, help="do not enqueue the periodic jobs from this worker")
    def run_worker(queue_names, burst, no_ticker):
        """Run an RQ worker (Redis from REDIS_URL) with the periodic SLA tick and outbox sweep."""
        from ..worker import queue_names as served, run
        run(current_app._get_current_object(), served(current_app.config, queue_names), burst=burst,
            with_ticker=not no_ticker)

    @app.cli.command("rebuild-queues")
    def rebuild_queues():
        """Rebuild every Redis claim queue from the database."""
        from .queues import rebuild
        click.echo(f"{rebuild()} waiting orders queued")

    @app.cli.command("sla-tick")
    def sla_tick():
        """Run one SLA tick now (what the worker does every SLA_TICK_SECONDS)."""
        from .jobs import sla_tick as tick
        click.echo(tick())
