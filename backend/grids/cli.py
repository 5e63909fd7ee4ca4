"""flask import-registry FILE… [--dry-run] and flask export-registry: the registry as spreadsheets;
flask add-property-company and flask add-property-staff: property companies (物业) and their staff;
flask grid-auto-assign CODE --on/--off/--follow-community and flask community-auto-assign NAME
--on/--off: the 轮派 rule."""
import sys
from pathlib import Path

import click

from ..errors import DomainError
from . import property as properties
from . import duty, registry


def register(app) -> None:
    @app.cli.command("import-registry")
    @click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="check and count, write nothing")
    def import_registry(files, dry_run):
        """Import communities, grids, buildings, departments, property companies and staff (XLSX or CSV)."""
        with click.progressbar(length=1, label="导入中", file=sys.stderr) as bar:
            def progress(done, total):
                bar.length = total
                bar.update(done - bar.pos)
            report = registry.import_registry([(Path(f).name, Path(f).read_bytes()) for f in files],
                                              dry_run=dry_run, progress=progress)
        if not report.ok:
            click.echo(f"{len(report.problems)} 处问题，什么也没有导入：", err=True)
            for problem in report.problems:
                click.echo(f"  {problem}", err=True)
            raise SystemExit(1)
        for kind, counts in report.counts.items():
            click.echo(f"{kind}: 新增 {counts['created']}，更新 {counts['updated']}，未变 {counts['unchanged']}")
        for username, password in report.passwords.items():
            click.echo(f"新账号 {username} 的初始密码：{password}")
        click.echo("试导入完成，没有写入" if dry_run else "导入完成")

    @app.cli.command("export-registry")
    @click.option("--out", type=click.Path(dir_okay=False), default="registry.xlsx", show_default=True)
    @click.option("--template", is_flag=True, help="headers only: a blank file to fill in")
    def export_registry(out, template):
        """Write the registry (or a blank template) as an XLSX workbook the import reads back."""
        Path(out).write_bytes(registry.export_registry(template=template))
        click.echo(f"written to {out}")

    @app.cli.command("grid-auto-assign")
    @click.argument("code")
    @click.option("--on/--off", "on", default=None, help="轮派: new orders go to the on-duty worker with the fewest open orders")
    @click.option("--follow-community", is_flag=True, help="the grid says nothing: its community's rule applies")
    def grid_auto_assign(code, on, follow_community):
        """Turn a grid's 轮派 (assignment by load) on or off, or let it follow its community."""
        if (on is None) == (not follow_community):
            raise click.UsageError("请给出 --on、--off 或 --follow-community 之一")
        try:
            grid = duty.set_grid_rule_by_code(code, "community" if follow_community else ("on" if on else "off"))
        except DomainError as refused:
            raise click.ClickException(str(refused)) from None
        said = {True: "轮派已开启", False: "轮派已关闭", None: "轮派跟随社区的规则"}[grid.auto_assign]
        click.echo(f"{grid.name}：{said}")

    @app.cli.command("community-auto-assign")
    @click.argument("name")
    @click.option("--on/--off", "on", required=True, help="轮派 for every grid of the community that says nothing itself")
    def community_auto_assign(name, on):
        """Turn a community's 轮派 on or off (its grids follow unless they say otherwise)."""
        try:
            community = duty.set_community_rule_by_name(name, on)
        except DomainError as refused:
            raise click.ClickException(str(refused)) from None
        click.echo(f"{community.name}：轮派已{'开启' if community.auto_assign else '关闭'}")

    @app.cli.command("add-property-company")
    @click.argument("name")
    @click.option("--compound", "compounds", multiple=True, required=True, metavar="社区名:小区名",
                  help="a compound it manages (repeatable), as the community's name and the compound's")
    @click.option("--phone", default=None)
    def add_property_company(name, compounds, phone):
        """Create (or extend) a property company and bind it to the compounds it manages."""
        pairs = []
        for given in compounds:
            community, sep, compound = given.partition(":")
            if not sep or not community.strip() or not compound.strip():
                raise click.BadParameter(f"{given!r}: write 社区名:小区名", param_hint="--compound")
            pairs.append((community.strip(), compound.strip()))
        try:
            company = properties.save_company(name, pairs, phone=phone)
        except DomainError as refused:
            raise click.ClickException(str(refused)) from None
        click.echo(f"{company.name}：管理 " + "、".join(f"{c.community.name}{c.compound}" for c in company.compounds))

    @app.cli.command("add-property-staff")
    @click.argument("company")
    @click.argument("username")
    @click.argument("name")
    @click.option("--phone", default=None)
    def add_property_staff(company, username, name, phone):
        """A staff account of a property company; its first password is printed once."""
        try:
            staff, password = properties.add_staff(company, username, name, phone)
        except DomainError as refused:
            raise click.ClickException(str(refused)) from None
        click.echo(f"新账号 {staff.username} 的初始密码：{password}")
