"""flask export-corrections: staff-corrected categories → the classifier's training data."""
from pathlib import Path

import click

from ..categories.corrections import CORRECTIONS_FILE, write_tsv
from ..categories.taxonomy import DATA_DIR
from .corrections import corrected_texts


def register(app) -> None:
    @app.cli.command("export-corrections")
    @click.option("--out", type=click.Path(), default=str(DATA_DIR / "train" / CORRECTIONS_FILE),
                  show_default=True, help="training file to write (text, path)")
    def export_corrections(out):
        """Write staff-corrected orders (OrderEvent correct_category) as category training data."""
        rows = corrected_texts()
        write_tsv(rows, Path(out))
        click.echo(f"{len(rows)} corrected orders written to {out}")
