"""One run's section of BENCHMARKS.md: every figure as a ratio against its same-run baseline,
with the spread over rounds where there are rounds, judged against its target."""
from pathlib import Path


def _spread(s: dict, fmt="{:.2f}") -> str:
    if len(s.get("rounds", [])) > 1:
        return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}–{fmt.format(s['max'])})"
    return fmt.format(s["median"])


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def rows(results: dict) -> list[tuple]:
    """(benchmark, what is measured, value, target, verdict) for each judged figure."""
    out = []
    intake = results.get("intake")
    if intake:
        for c, r in intake["concurrency"].items():
            ratio = r["ratio"]
            out.append((f"intake c{c}", f"POST /api/v1/orders ÷ bare Flask+marshmallow+INSERT ceiling, req/s "
                        f"({_spread(r['app_rps'], '{:.0f}')} vs {_spread(r['ceiling_rps'], '{:.0f}')})",
                        _spread(ratio), "≥ 0.6", _verdict(ratio["median"] >= 0.6)))
            p99 = r["app_p99_ms"]
            out.append((f"intake c{c} p99", f"p99 of POST /api/v1/orders, ms (ceiling's: "
                        f"{_spread(r['ceiling_p99_ms'], '{:.0f}')})", _spread(p99, "{:.0f}"),
                        "≤ 100 ms" if str(c) == "64" else "—",
                        _verdict(p99["median"] <= 100) if str(c) == "64" else ""))
        for name in ("web worker", "rq worker"):
            idle = intake["memory_mb"]["idle after warm-up"].get(name, 0)
            peak = intake["memory_mb"]["peak under load"].get(name, 0)
            out.append((f"memory {name}", f"RSS, MB: at idle after warm-up / peak under load "
                        f"(ceiling worker: {intake['memory_mb']['peak under load'].get('ceiling worker', 0):.0f})",
                        f"{idle:.0f} / {peak:.0f}", "≤ 150 MB", _verdict(max(idle, peak) <= 150)))
    peer = results.get("peer")
    if peer and "error" not in peer:
        for c, r in peer["concurrency"].items():
            out.append((f"peer c{c}", f"POST /api/v1/orders ÷ django-helpdesk {peer.get('version', '')} "
                        f"POST /api/tickets/, req/s ({_spread(r['app_rps'], '{:.0f}')} vs "
                        f"{_spread(r['peer_rps'], '{:.0f}')})", _spread(r["ratio"]), "≥ 3",
                        _verdict(r["ratio"]["median"] >= 3)))
        if peer.get("memory_mb"):
            out.append(("memory peer worker", "django-helpdesk gunicorn worker RSS, MB, peak under load",
                        f"{peer['memory_mb']:.0f}", "—", ""))
    elif peer:
        out.append(("peer", f"not measured: {peer['error']}", "—", "≥ 3", "MISSED"))
    race = results.get("race")
    if race:
        out.append(("claims c50 gate", f"{race['threads']} workers × {race['orders']:,} orders: the claim lock script ÷ "
                    f"raw SET NX round trips, per s ({race['gate_per_s']:,.0f} vs {race['raw_per_s']:,.0f})",
                    f"{race['gate_ratio']:.2f}", "≥ 0.8", _verdict(race["gate_ratio"] >= 0.8)))
        out.append(("claims c50 whole", f"whole claims (lock + PostgreSQL transaction) ÷ raw SET NX round trips, per s "
                    f"({race['claims_per_s']:,.0f} vs {race['raw_per_s']:,.0f}; {race['refused']:,} refused)",
                    f"{race['claims_ratio']:.3f}", "—", ""))
        out.append(("claims c50 doubles", "orders claimed twice / never / told \"yours\" but held by another",
                    f"{race['claim_events_twice']} / {race['never_claimed']} / {race['told_but_not_holder']}",
                    "0 / 0 / 0", _verdict(race["zero_double_claims"])))
    bot = results.get("bot")
    if bot and "error" in bot:
        out.append(("chat turn", f"not measured: {bot['error']}", "—", "≥ 0.8", "MISSED"))
    elif bot:
        chat = bot["chat"]
        out.append(("chat turn c4", f"POST /api/v1/chat ÷ Rasa's REST webhook called directly, req/s, a fresh resident "
                    f"per message ({_spread(chat['app_rps'], '{:.1f}')} vs {_spread(chat['rasa_rps'], '{:.1f}')})",
                    _spread(chat["ratio"]), "≥ 0.8", _verdict(chat["ratio"]["median"] >= 0.8)))
        out.append(("chat turn c4 p99", f"p99 ÷ Rasa's p99 ({_spread(chat['app_p99_ms'], '{:.0f}')} vs "
                    f"{_spread(chat['rasa_p99_ms'], '{:.0f}')} ms)", _spread(chat["p99_ratio"]), "≤ 1.3",
                    _verdict(chat["p99_ratio"]["median"] <= 1.3)))
        long = bot["long"]
        out.append(("chat long conversation", "one resident talking on: req/s and p99 of its later turns, app vs Rasa "
                    f"({long['app']['later']['rps']:.1f} / {long['app']['later']['p99_ms']:.0f} ms vs "
                    f"{long['rasa']['later']['rps']:.1f} / {long['rasa']['later']['p99_ms']:.0f} ms; first turns "
                    f"{long['app']['first']['rps']:.1f} vs {long['rasa']['first']['rps']:.1f} req/s)",
                    f"{long['ratio']:.2f}", "—", ""))
        wechat = bot["wechat"]
        out.append(("wechat ack", f"p99 of the callback's acknowledgement at {wechat['rate']:.0f} pushes/s (open loop) "
                    f"while the bot is busy, ms (the bare ceiling's at the same rate and load: "
                    f"{_spread(wechat['ceiling_p99_ms'], '{:.0f}')}; ratio {_spread(wechat['p99_ratio'])})",
                    _spread(wechat["app_p99_ms"], "{:.0f}"), "≤ 50 ms",
                    _verdict(wechat["app_p99_ms"]["median"] <= 50)))
        for name, target in (("rasa", 1024), ("actions", None)):
            idle = bot["memory_mb"]["after start"].get(name, 0)
            peak = bot["memory_mb"]["peak under load"].get(name, 0)
            out.append((f"memory {name}", "RSS, MB: after start / peak under load", f"{idle:.0f} / {peak:.0f}",
                        "≤ 1 GB" if target else "—", _verdict(max(idle, peak) <= target) if target else ""))
    scale = results.get("scale")
    if scale:
        small, large = scale["sizes"]
        # 月度考核 is opened less often than the dashboard and reads a month's events, not counts:
        # a second for a street's every unit, and flat growth (it reads the month, not the history)
        targets = {"dashboard (street)": 300, "dashboard (community)": 300, "queue": 50,
                   "assessment (street)": 1000, "assessment (community)": 1000}
        for name, figure in scale["stages"][str(large) if str(large) in scale["stages"] else large]["pages"].items():
            target = targets.get(name)
            out.append((f"scale {name}", f"p95 at {large:,} orders, ms (p50 {figure['p50_ms']:.0f}); growth "
                        f"{large:,} ÷ {small:,}: {scale['growth'][name]:.2f}×", f"{figure['p95_ms']:.0f}",
                        f"≤ {target} ms" if target else "—", _verdict(figure["p95_ms"] <= target) if target else ""))
    for key, r in results.items():
        if "/" not in key:
            continue
        name, dialect = key.split("/")
        if name == "queue":
            out.append((f"queue ({dialect})", f"community admin's queue from Redis ÷ the same listing from the "
                        f"database ({r['open_orders']:,} open orders)",
                        f"{r['listings']['community admin']['ratio']:.2f}", "≤ 1.5",
                        _verdict(r["listings"]["community admin"]["ratio"] <= 1.5)))
        elif name == "chat_fallback":
            out.append((f"chat_fallback ({dialect})", "a chat message with the bot down ÷ submitting the same order "
                        "directly", f"{r['ratio']:.2f}", "≤ 1.5", _verdict(r["ratio"] <= 1.5)))
        elif name == "claims":
            out.append((f"claims ({dialect})", f"{r['racers']} workers racing for {r['orders']} orders with the "
                        "Redis claim lock ÷ the same race decided by the database alone", f"{r['ratio']:.2f}", "≤ 1.0",
                        _verdict(r["ratio"] <= 1.0)))
    return out


def section(run: dict) -> str:
    v = run["versions"]
    lines = [f"## Run {run['date']} — commit {run['commit']}{' (quick)' if run['quick'] else ''}"
             f"{' — ' + run['label'] if run['label'] else ''}", "",
             f"Machine: {run['machine']}. Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
             f"Took {run['elapsed_s'] / 60:.1f} min"
             + (" (" + ", ".join(f"{name} {secs / 60:.1f}" for name, secs in run["part_s"].items()) + ")"
                if run.get("part_s") else "") + "."]
    intake = run["results"].get("intake")
    if intake:
        lines.append(f"Intake: gunicorn `{intake['gunicorn']}` (the Procfile's web line) for the app and the ceiling, "
                     f"{intake['database']}, private redis-server, {intake['rate_limits']}, a fresh Idempotency-Key "
                     f"per request, load by {intake['generator']}; {intake['rounds']} rounds of "
                     f"{intake['seconds_per_run']:.0f} s per server and concurrency, interleaved; "
                     "median (min–max) over rounds.")
    lines += ["", "| benchmark | ratio measured | value | target | |", "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(str(x) for x in row)} |" for row in rows(run["results"])]
    lines += scale_table(run["results"].get("scale"))
    lines.append("")
    return "\n".join(lines)


def scale_table(scale: dict | None) -> list[str]:
    """How each page grows from the small stage to the large one: p50 / p95 in ms at each."""
    if not scale:
        return []
    sizes = scale["sizes"]
    stage = lambda size: scale["stages"].get(size) or scale["stages"][str(size)]  # noqa: E731 — JSON keys are strings
    lines = ["", f"Scale: {scale['district']}; p50 / p95 over {scale['repeat']} calls, ms; generated in "
             + ", ".join(f"{scale['generation_s'].get(s, scale['generation_s'].get(str(s), 0)):.0f} s" for s in sizes)
             + " (newest orders first).", "",
             "| page | " + " | ".join(f"{s:,} orders" for s in sizes) + " | growth (p95) |",
             "|---|" + "---|" * (len(sizes) + 1)]
    for name in stage(sizes[-1])["pages"]:
        cells = [f"{stage(s)['pages'][name]['p50_ms']:.0f} / {stage(s)['pages'][name]['p95_ms']:.0f}" for s in sizes]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {scale['growth'][name]:.2f}× |")
    return lines


def append(path: Path, section_text: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    path.write_text(text.rstrip("\n") + "\n\n" + section_text, encoding="utf-8")
