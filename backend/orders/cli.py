"""flask export-corrections: staff-corrected categories → the classifier's training data;
flask community-emergency: a community's own 危险词 and emergency numbers."""
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

    @app.cli.command("community-emergency")
    @click.argument("community")
    @click.option("--word", "words", multiple=True, metavar="KIND=词", help="one more danger word of a kind (gas, fire, electric, trapped, collapse, fire_exit)")
    @click.option("--off", "off", multiple=True, metavar="KIND", help="a kind this community does not treat as an emergency")
    @click.option("--phone", "phones", multiple=True, metavar="名称=号码", help="a number every emergency answer names, e.g. 燃气抢修=96777")
    def community_emergency(community, words, off, phones):
        """A community's own 危险词, kinds turned off and emergency numbers (issue 24)."""
        from ..errors import DomainError
        from . import emergencies

        def pairs(given, name):
            out = {}
            for item in given:
                key, sep, value = item.partition("=")
                if not sep or not key.strip() or not value.strip():
                    raise click.BadParameter(f"{item!r}: 请写成 名称=值", param_hint=name)
                out.setdefault(key.strip(), []).append(value.strip())
            return out
        more = pairs(words, "--word")
        numbers = {k: v[-1] for k, v in pairs(phones, "--phone").items()}
        try:
            done = emergencies.configure(community, words=more if words else None, off=list(off) if off else None,
                                         phones_=numbers if phones else None)
        except DomainError as refused:
            raise click.ClickException(str(refused)) from None
        click.echo(f"{done.name}：险情设置已保存 {done.emergency}")
