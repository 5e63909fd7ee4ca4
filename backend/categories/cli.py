"""flask retrain-categories: the acceptance step of the correction loop."""
import json
import shutil
from pathlib import Path

import click

from .corrections import CORRECTIONS_FILE, retrain
from .taxonomy import DATA_DIR

SETS = ("real_titles", "real_full", "board_titles", "board_full", "chat", "written_other8")


def register(app) -> None:
    @app.cli.command("retrain-categories")
    @click.option("--report", type=click.Path(), default=None, help="write the before/after JSON here")
    def retrain_categories(report):
        """Retrain with the exported corrections; keep the model only if it loses nothing on the frozen sets
        (the frozen real fold and the written sets)."""
        corrections = DATA_DIR / "train" / CORRECTIONS_FILE
        had_corrections = corrections.exists()
        r = retrain(progress=click.echo)
        for s in SETS:
            click.echo(f"{s}: {r['before'][s]['top_level_accuracy']:.3f} → {r['after'][s]['top_level_accuracy']:.3f}")
        if report:
            Path(report).write_text(json.dumps({k: r[k] for k in ("accepted", "candidate", "current")} | {
                s: {"before": r["before"][s]["top_level_accuracy"], "after": r["after"][s]["top_level_accuracy"]}
                for s in SETS}, ensure_ascii=False, indent=1), encoding="utf-8")
        if r["accepted"]:
            click.echo(f"accepted: {r['candidate']} (commit {corrections})")
        else:
            click.echo("rejected: the candidate loses on a frozen set; corrections.tsv is set aside")
            if had_corrections:
                shutil.move(str(corrections), str(corrections.with_suffix(".rejected.tsv")))
            raise SystemExit(1)
