"""Single-call category classification time and model memory: the loaded light model against
the classifier it replaced (10 calibrated SVMs through sklearn, commit 551a063), both measured in
this run on the same chat texts.

    .venv/bin/python bench/categories_bench.py        → prints a Markdown section (BENCHMARKS.md)

The old classifier is taken from git (``git archive 551a063``) and run in a subprocess (it reads
its own data directory); memory is the process's resident-set growth from loading (new) or
fitting (old) the model, plus the new model's array bytes.
"""
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OLD_COMMIT = "551a063"
N = 400


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def texts():
    with open(ROOT / "intents/categories/eval/chat.tsv", encoding="utf-8") as fh:
        return [r["text"] for r in csv.DictReader(fh, delimiter="\t")][:N]


def timed(classify, items):
    for t in items[:20]:
        classify(t)
    samples = []
    for t in items:
        t0 = time.perf_counter()
        classify(t)
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), statistics.quantiles(samples, n=10)[-1]


def measure(which: str) -> dict:
    items = texts()
    import numpy  # noqa: F401
    start = rss_mb()
    # Both tokenise with a private jieba Tokenizer holding its dictionary: loaded first and counted
    # apart, so "model" is what the classifier itself adds.
    if which == "new":
        sys.path.insert(0, str(ROOT))
        from backend.categories import classifier, model, training
        model.tokenizer(training.DATA_DIR / training.DICTIONARY_FILE)
    else:
        from old_categories import classifier
        from old_categories.taxonomy import DATA_DIR
        classifier._tokenizer(DATA_DIR)
    before = rss_mb()
    t0 = time.perf_counter()
    clf = classifier.get_classifier()
    ready = time.perf_counter() - t0
    clf.classify(items[0])
    grown = rss_mb() - before
    extra = {"model_array_mb": round(clf.model.nbytes() / 1e6, 1)} if which == "new" else {}
    median, p90 = timed(clf.classify, items)
    return {"ready_s": round(ready, 2), "rss_growth_mb": round(grown, 1), "jieba_mb": round(before - start, 1),
            "median_ms": round(median, 3), "p90_ms": round(p90, 3), **extra}


def run_old() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", OLD_COMMIT, "backend/categories", "intents/categories"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        os.rename(f"{tmp}/backend/categories", f"{tmp}/old_categories")
        env = dict(os.environ, CATEGORY_DATA_DIR=f"{tmp}/intents/categories", PYTHONPATH=tmp)
        out = subprocess.run([sys.executable, __file__, "--one", "old"], env=env, check=True,
                             capture_output=True, text=True, cwd=tmp).stdout
        return json.loads(out.strip().splitlines()[-1])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2])))
        return
    old = run_old()
    new = json.loads(subprocess.run([sys.executable, __file__, "--one", "new"], check=True, capture_output=True,
                                    text=True, cwd=str(ROOT)).stdout.strip().splitlines()[-1])
    print("## Category classifier: single call and memory (bench/categories_bench.py)\n")
    print(f"{N} chat texts from the frozen evaluation set, one call each, same run, same machine.\n")
    print("| | old (10 calibrated SVMs, fitted per process) | new (loaded hashed linear model) | ratio |")
    print("|---|---|---|---|")
    print(f"| single call, median | {old['median_ms']:.2f} ms | {new['median_ms']:.3f} ms | {old['median_ms'] / new['median_ms']:.1f}× faster |")
    print(f"| single call, 90th percentile | {old['p90_ms']:.2f} ms | {new['p90_ms']:.3f} ms | {old['p90_ms'] / new['p90_ms']:.1f}× faster |")
    print(f"| ready after start (fit vs load) | {old['ready_s']:.1f} s | {new['ready_s']:.2f} s | {old['ready_s'] / max(new['ready_s'], 1e-3):.0f}× |")
    print(f"| resident memory added by the model | {old['rss_growth_mb']:.0f} MB | {new['rss_growth_mb']:.0f} MB (arrays {new['model_array_mb']} MB) | {old['rss_growth_mb'] / max(new['rss_growth_mb'], 1):.1f}× less |")
    print(f"| jieba dictionary and imports (both, counted apart) | {old['jieba_mb']:.0f} MB | {new['jieba_mb']:.0f} MB | |")


if __name__ == "__main__":
    main()
