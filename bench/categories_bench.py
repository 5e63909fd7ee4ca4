"""Single-call category classification time and model memory: the model shipped before issue 25
(commit e9f497d: hashed features, logistic regression, written data only) against today's, both
measured in this run on the same texts, in separate processes, alternating rounds.

    .venv/bin/python bench/categories_bench.py [--rounds 3] [--old COMMIT]   → prints a Markdown section (BENCHMARKS.md)

``--old``: the commit whose model is "before" (default e9f497d; issue 25's second pass used e8d4572, the first pass).

The old package is taken from git (``git archive``) and loads its own model from the cache (its
fingerprint is that of its data, so ``scripts/category-train.sh`` at that commit built it; if not,
the first load trains it). Time: the median (and 90th percentile) of single calls on 400 written chat
texts, 400 real messages (title + body) and 50 texts of 20,000 characters; memory: the process's
resident-set growth from loading the model (jieba's dictionary loaded first and counted apart),
and the bytes of the model's arrays.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OLD_COMMIT = "e9f497d"
N = 400


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def texts():
    import csv
    import gzip
    import io
    with open(ROOT / "intents/categories/eval/chat.tsv", encoding="utf-8") as fh:
        chat = [r["text"] for r in csv.DictReader(fh, delimiter="\t")][:N]
    raw = gzip.open(ROOT / "intents/categories/real/tipdm2020c-messages.tsv.gz", "rb").read().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(raw, newline=""), delimiter="\t"))[::30][:N]
    real = ["\n".join(x for x in (r["title"], r["body"]) if x) for r in rows]
    long = [(r + "。") * (20000 // (len(r) + 1) + 1) for r in real[:50]]
    return {"chat": chat, "real": real, "long_20000": long}


def timed(classify, items):
    for t in items[:10]:
        classify(t)
    samples = []
    for t in items:
        t0 = time.perf_counter()
        classify(t)
        samples.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(samples), 3), round(statistics.quantiles(samples, n=10)[-1], 3)


def measure(package: str) -> dict:
    items = texts()
    import importlib
    import numpy  # noqa: F401
    start = rss_mb()
    classifier = importlib.import_module(f"{package}.classifier")
    model = importlib.import_module(f"{package}.model")
    training = importlib.import_module(f"{package}.training")
    compact = importlib.import_module(f"{package}.compact")
    compact.use_compact_tokenizer(training.DATA_DIR / training.DICTIONARY_FILE)
    model.tokenizer(training.DATA_DIR / training.DICTIONARY_FILE).lcut("预热")
    before = rss_mb()
    t0 = time.perf_counter()
    clf = classifier.get_classifier()
    ready = time.perf_counter() - t0
    clf.classify(items["chat"][0])
    grown = rss_mb() - before
    out = {"ready_s": round(ready, 2), "rss_growth_mb": round(grown, 1), "jieba_mb": round(before - start, 1),
           "model_array_mb": round(clf.model.nbytes() / 1e6, 1)}
    for name, ts in items.items():
        out[name] = timed(clf.classify, ts)
    return out


def run(which: str, old_commit: str = OLD_COMMIT) -> dict:
    if which == "new":
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        out = subprocess.run([sys.executable, __file__, "--one", "backend.categories"], env=env, check=True,
                             capture_output=True, text=True, cwd=str(ROOT)).stdout
        return json.loads(out.strip().splitlines()[-1])
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", old_commit, "backend/categories", "intents/categories"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        os.rename(f"{tmp}/backend/categories", f"{tmp}/old_categories")
        env = dict(os.environ, CATEGORY_DATA_DIR=f"{tmp}/intents/categories", PYTHONPATH=tmp)
        out = subprocess.run([sys.executable, __file__, "--one", "old_categories"], env=env, check=True,
                             capture_output=True, text=True, cwd=tmp).stdout
        return json.loads(out.strip().splitlines()[-1])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2])))
        return
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    old_commit = sys.argv[sys.argv.index("--old") + 1] if "--old" in sys.argv else OLD_COMMIT
    res = {"old": [], "new": []}
    for _ in range(rounds):
        for which in ("old", "new"):
            res[which].append(run(which, old_commit))

    def med(which, key, i=None):
        vals = [r[key] if i is None else r[key][i] for r in res[which]]
        return statistics.median(vals)

    print("## Category classifier, issue 25: single call and memory before → after (bench/categories_bench.py)\n")
    print(f"Before: the model at {old_commit}; after: today's (real messages + written, hashed TF-IDF, level 1 "
          f"in two linear SVMs). Same run, separate processes, {rounds} alternating rounds, the median of the rounds' figures.\n")
    print("| | before | after | target |")
    print("|---|---|---|---|")
    labels = {"chat": "written chat texts", "real": "real messages (title + body)", "long_20000": "texts of 20,000 characters"}
    for key, label in labels.items():
        print(f"| single call, median / p90, {label} | {med('old', key, 0):.3f} / {med('old', key, 1):.3f} ms | "
              f"{med('new', key, 0):.3f} / {med('new', key, 1):.3f} ms | {'≤ 0.5 ms median' if key == 'chat' else ''} |")
    print(f"| resident memory added by the model | {med('old', 'rss_growth_mb'):.0f} MB | {med('new', 'rss_growth_mb'):.0f} MB | ≤ 60 MB |")
    print(f"| the model's arrays (level 3's mapped from the file, shared) | {med('old', 'model_array_mb')} MB | {med('new', 'model_array_mb')} MB | |")
    print(f"| ready after start (load) | {med('old', 'ready_s'):.2f} s | {med('new', 'ready_s'):.2f} s | |")
    print(f"\nMeasured {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())} on a {os.cpu_count()}-core machine shared with other jobs.")


if __name__ == "__main__":
    main()
