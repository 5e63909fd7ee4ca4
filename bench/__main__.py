"""`make bench`: run every benchmark in one process and rewrite BENCHMARKS.md.

Results are ratios against a baseline measured in the same run, so they mean the same on a slow
or a busy machine; the targets below are checked and reported, never asserted in tests."""
import datetime
import os
import platform
import sys
from pathlib import Path

from . import bench_chat, bench_claims, bench_queue
from .harness import bench_app

KEPT = "<!-- Section kept by hand"

# name → (module, the ratio it is judged by, target: ratio must be ≤ this, what it means)
BENCHES = [
    # Listing still loads the rows from the database, so Redis cannot beat it by much; the target
    # only bounds what the fast path costs. Its purpose is atomic claims (next).
    ("queue", bench_queue, lambda r: r["listings"]["community admin"]["ratio"], 1.5,
     "community admin's queue from Redis ÷ the same listing from the database (2,000 open orders)"),
    ("chat_fallback", bench_chat, lambda r: r["ratio"], 1.5,
     "a chat message with the bot down ÷ submitting the same order directly"),
    ("claims", bench_claims, lambda r: r["ratio"], 1.0,
     "8 workers racing for 200 orders with the Redis claim lock ÷ the same race decided by the database alone"),
]


def main() -> int:
    import logging
    logging.getLogger("backend.chat.services").setLevel(logging.ERROR)  # the bot is down on purpose
    only = set(sys.argv[1:])
    rows, details = [], []
    # SQLite always; PostgreSQL too when BENCH_DATABASE_URL names one (its schema is dropped!).
    databases = [None] + ([os.environ["BENCH_DATABASE_URL"]] if os.environ.get("BENCH_DATABASE_URL") else [])
    for url in databases:
        with bench_app(url) as app:
            database = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
            for name, module, ratio_of, target, meaning in BENCHES:
                if only and name not in only:
                    continue
                print(f"==> {name} on {database}: {meaning}")
                result = module.run(app)
                ratio = ratio_of(result)
                verdict = "met" if ratio <= target else "MISSED"
                print(f"    ratio {ratio:.2f} (target ≤ {target}) {verdict}")
                rows.append(f"| {name} | {database} | {meaning} | {ratio:.2f} | ≤ {target} | {verdict} |")
                details.append(f"- `{name}` on {database}: `{result}`")
    report = "\n".join([
        "# Benchmarks", "",
        "Written by `make bench` (`python -m bench`). Every figure is a ratio against a baseline measured",
        "in the same run on the same data, so it holds on a slow or busy machine; lower is better.", "",
        f"Last run: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}.", "",
        "| benchmark | database | ratio measured | value | target | |", "|---|---|---|---|---|---|", *rows, "",
        "Raw results:", "", *details, ""])
    path = Path(__file__).resolve().parent.parent.joinpath("BENCHMARKS.md")
    # Sections kept by hand (the classifier's, the load run's) follow their marker comment: keep them.
    kept = path.read_text(encoding="utf-8").split(KEPT, 1) if path.exists() else []
    path.write_text(report + (f"\n{KEPT}{kept[1]}" if len(kept) == 2 else ""), encoding="utf-8")
    print("\nwrote BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
