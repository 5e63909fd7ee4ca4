"""Evaluation of the category model on the FROZEN sets: the frozen real fold (``real.FROZEN_FOLD`` of
the real messages, never trained on) and the written sets (intents/categories/eval/).

    python -m backend.categories.evaluate [--model PATH] [--out bot/reports]

Real fold scored twice (rows with a title: the title alone; every row: its title and body), the
written message-board set twice (titles; title + body), the written chat set once. Per top level:
accuracy; macro-F1; a confusion table of the top level; a reliability table (per confidence bin:
mean confidence vs accuracy) and coverage at the threshold. ``written_other8``: the written sets'
items of the 8 top levels the real data lacks. ``make test`` gates on GATES.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from . import real
from .model import reliability
from .taxonomy import DATA_DIR, SEP

REPO = Path(__file__).resolve().parents[2]
OUT_DIR = REPO / "bot" / "reports"
EVAL_DIR = DATA_DIR / "eval"
# Accepted figures (issue 25's third pass, level 1's second part an SVM + NBSVM mean: 89.2 / 90.9 / 90.5 /
# 93.5 / 88.5 / 87.3 %) minus about half a point for the real fold, as before for the written sets: make
# test fails below these (top-level accuracy). written_other8: no lower than the first pass's 86.7 %
# (before issue 25: 85.9 %).
GATES = {"real_titles": 0.885, "real_full": 0.905, "board_titles": 0.895, "board_full": 0.93, "chat": 0.875,
         "written_other8": 0.867}
TARGETS = {"real_titles": 0.90, "real_full": 0.92, "board_titles": 0.85, "board_full": 0.88, "chat": 0.88,
           "written_other8": 0.859}
REAL_SETS = ("real_titles", "real_full")
WRITTEN_SETS = ("board_titles", "board_full", "chat")


def eval_sets(eval_dir: Path = EVAL_DIR, real_fold=None) -> Dict[str, list]:
    """name → [(text, gold path)]; the real sets' gold is a top level only. real_fold: rows of the
    real fold to score (default the frozen one)."""
    def rows(name):
        with open(eval_dir / name, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh, delimiter="\t"))
    board, chat = rows("board.tsv"), rows("chat.tsv")
    fold = real.frozen_fold(Path(eval_dir).parent) if real_fold is None else real_fold
    written = {"board_titles": [(r["title"], r["path"]) for r in board],
               "board_full": [(r["title"] + "\n" + r["body"], r["path"]) for r in board],
               "chat": [(r["text"], r["path"]) for r in chat]}
    return {"real_titles": [(r.title, r.label) for r in fold if r.title],
            "real_full": [(r.text, r.label) for r in fold], **written}


def other8(sets: Dict[str, list]) -> list:
    """The written sets' items of the top levels the real data lacks."""
    have = {g for name in REAL_SETS for _, g in sets.get(name, [])}
    return [(t, g) for name in WRITTEN_SETS for t, g in sets[name] if g.split(SEP)[0] not in have]


def macro_f1(gold, pred) -> float:
    f1s = []
    for c in sorted(set(gold)):
        tp = sum(1 for g, p in zip(gold, pred) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, pred) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, pred) if g == c and p != c)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(f1s)) if f1s else 0.0


def score(clf, items) -> dict:
    preds = [clf.classify(t) for t, _ in items]
    gold1 = [g.split(SEP)[0] for _, g in items]
    right1 = np.array([p.level1 == g for p, g in zip(preds, gold1)])
    right2 = np.array([p.path.split(SEP)[:2] == g.split(SEP)[:2] for p, (_, g) in zip(preds, items)]
                      if all(SEP in g for _, g in items) else [])
    l3 = [(p, g) for p, (_, g) in zip(preds, items) if p.level3]
    conf = np.array([p.confidence for p in preds])
    per = {}
    for g, ok in zip(gold1, right1):
        a = per.setdefault(g, [0, 0])
        a[0] += int(ok)
        a[1] += 1
    confusion = Counter((g, p.level1) for g, p in zip(gold1, preds) if g != p.level1)
    th = clf.threshold
    covered = conf >= th
    return {"n": len(items), "top_level_accuracy": round(float(right1.mean()), 4),
            "macro_f1": round(macro_f1(gold1, [p.level1 for p in preds]), 4),
            "level2_accuracy": round(float(right2.mean()), 4) if len(right2) else None,
            "level3_given": len(l3), "level3_accuracy_when_given": round(
                sum(p.path == g for p, g in l3) / len(l3), 4) if l3 else None,
            "per_top_level": {k: {"accuracy": round(a / n, 3), "n": n} for k, (a, n) in sorted(per.items())},
            "confusions": [{"gold": g, "predicted": p, "count": c} for (g, p), c in confusion.most_common(25)],
            "reliability": reliability(conf, right1),
            "threshold": th, "coverage_at_threshold": round(float(covered.mean()), 3),
            "accuracy_of_covered": round(float(right1[covered].mean()), 3) if covered.any() else None}


def evaluate(clf=None, eval_dir: Path = EVAL_DIR) -> dict:
    if clf is None:
        from .classifier import get_classifier
        clf = get_classifier()
    t0 = time.perf_counter()
    sets = eval_sets(eval_dir)
    sets["written_other8"] = other8(sets)
    r = {name: score(clf, items) for name, items in sets.items()}
    r["seconds"] = round(time.perf_counter() - t0, 1)
    r["model"] = clf.model.meta.get("fingerprint")
    r["calibration"] = clf.model.meta.get("calibration")
    return r


def gate_failures(r: dict) -> list:
    """The sets whose top-level accuracy is below its gate (make test fails on any)."""
    return [s for s, gate in GATES.items() if r[s]["top_level_accuracy"] < gate]


def accepted(new: dict, old: dict, slack: float = 0.0) -> bool:
    """The correction-loop rule: a retrained model is accepted only if it loses nothing (top level
    and level 2, every frozen set) against the current one."""
    return all(new[s][k] + slack >= old[s][k] for s in TARGETS for k in ("top_level_accuracy", "level2_accuracy")
               if old.get(s, {}).get(k) is not None)


def _pct(x):
    return "–" if x is None else f"{100 * x:.1f} %"


NAMES = {"real_titles": "real messages (frozen fold), titles", "real_full": "real messages (frozen fold), title + body",
         "board_titles": "written message board, titles", "board_full": "written message board, title + body",
         "chat": "written chat messages", "written_other8": "written sets, the 8 top levels without real data"}
MODEL_NAMES = {"today": "today's model: hashed char 1–3 + words, logistic regression, written data only",
               "today_real": "today's model + the real messages",
               "tfidf_svm": "TF-IDF char 1–4 + word 1–2, linear SVM (scikit-learn)",
               "tfidf_lr": "TF-IDF char 1–4 + word 1–2, logistic regression (scikit-learn)",
               "fasttext": "fastText (words, word bigrams, char 1–3 subwords)",
               "hashed_svm": "first pass (one 15-way linear SVM for level 1), on today's data: hashed char 1–3 + words with IDF, real + written",
               "blend": "blend: first pass + fastText (mean of probabilities)",
               "two_part": "second pass: the first pass's 15-way layer deciding 7 or other, a second linear SVM over the 7 real top levels (C 1) which one (fit: the second layer's)",
               "two_part_nb": "**shipped** (third pass): the second pass with its second layer the mean of a linear SVM's and an NBSVM's margins (fit: the second layer's)"}


def _compare(c: dict) -> List[str]:
    sets = ["real_titles", "real_full", "board_titles", "board_full", "chat", "written_other8"]
    slow = (f"the slow candidates on folds {', '.join(map(str, c['slow_folds']))} only" if c["slow_folds"]
            else "the slow candidates, logistic regressions over the real data, not run: see below")
    L = ["## Choosing the model (bench/categories_compare.py)", "",
         f"Top level, k-fold by message on the real set (folds {c['folds']} of {real.K}; {slow}), each fold's "
         "model also scored on the frozen written sets (figures pooled over the folds). Accuracy / macro-F1. "
         "Fit: seconds on the first fold, on a machine shared with other jobs (load average 11–14 in the second pass). Single call: median over "
         "300 written chat texts, level 1 only; memory: the arrays (or the saved file) of level 1.", "",
         "| model | " + " | ".join(NAMES[s].replace("real messages (frozen fold)", "real folds") for s in sets)
         + " | fit | single call | memory |", "|---" * (len(sets) + 4) + "|"]
    for name, m in c["models"].items():
        cells = [f"{100 * m['sets'][s]['accuracy']:.1f} / {100 * m['sets'][s]['macro_f1']:.1f}"
                 if s in m["sets"] else "–" for s in sets]
        cost = m.get("cost", {})
        L.append(f"| {MODEL_NAMES.get(name, name)} | " + " | ".join(cells) +
                 f" | {cost.get('fit_s', '–')} s | {cost.get('single_call_ms', '–')} ms | {cost.get('model_mb', '–')} MB |")
    shipped = c["models"].get("two_part_nb") or c["models"].get("two_part") or c["models"].get("hashed_svm")
    first = (c["models"].get("two_part") if "two_part_nb" in c["models"]
             else c["models"].get("hashed_svm") if "two_part" in c["models"] else None)
    if shipped:
        real_sets = [s for s in ("real_titles", "real_full") if s in shipped["sets"]]
        classes = sorted({k for s in real_sets for k in shipped["sets"][s]["per_class"]})
        heads = [NAMES[s].replace("real messages (frozen fold)", "real folds") for s in real_sets]
        if first:
            L += ["", "Shipped candidate per class on the real folds (accuracy, "
                  f"{'second pass' if 'two_part_nb' in c['models'] else 'first pass'} → shipped):", "",
                  "| top level | " + " | ".join(heads) + " |", "|---" * (len(real_sets) + 1) + "|"]
            L += [f"| {k} | " + " | ".join(f"{_pct(first['sets'][s]['per_class'].get(k))} → "
                                           f"{_pct(shipped['sets'][s]['per_class'].get(k))}" for s in real_sets) + " |"
                  for k in classes]
        else:
            L += ["", "Shipped candidate per class on the real folds (accuracy):", "",
                  "| top level | " + " | ".join(heads) + " |", "|---" * (len(real_sets) + 1) + "|"]
            L += [f"| {k} | " + " | ".join(_pct(shipped["sets"][s]["per_class"].get(k)) for s in real_sets) + " |"
                  for k in classes]
        L += ["", "Its commonest confusions on the real folds (title + body):", "", "| gold | predicted | count |",
              "|---|---|---|"]
        L += [f"| {g} | {p} | {n} |" for g, p, n in shipped["sets"].get("real_full", {}).get("confusions", [])[:10]]
    return L


def render(r: dict, baseline: Optional[dict], compare: Optional[dict] = None, first: Optional[dict] = None) -> str:
    L = ["# Category model: real and written evaluation sets", "",
         "Sets: the **frozen real fold** (fold 0 of the 2020 泰迪杯 problem C messages organised by TipDM, grouped "
         "by message, never trained on: `backend/categories/real.py`, 7 top levels, level 1 only) and the written "
         "frozen sets `intents/categories/eval/` (board 666 messages, chat 426; 15 top levels), which overstate "
         "real accuracy and stay the yardstick of the 8 top levels the real data lacks and of levels 2 and 3.", "",
         f"Model `{r.get('model')}`; threshold {r['chat']['threshold']:.2f} (calibrated on held-out training data, "
         "real messages among it). Before: the model shipped before issue 25 (`category_before_issue25.json`); "
         "first pass: issue 25's first model (`category_first_pass.json`: one linear SVM for level 1).", "",
         "## Top level: before and after", "",
         "| set | n | target | gate | before | first pass | after | macro-F1 before → first pass → after | "
         "coverage / accuracy of covered, first pass → after | level 2 |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    for s, label in NAMES.items():
        if s not in r:
            continue
        b = (baseline or {}).get(s, {})
        f = (first or {}).get(s, {})
        a = r[s]
        L.append(f"| {label} | {a['n']} | {_pct(TARGETS[s])} | {_pct(GATES[s])} | {_pct(b.get('top_level_accuracy'))} | "
                 f"{_pct(f.get('top_level_accuracy'))} | **{_pct(a['top_level_accuracy'])}** | "
                 f"{_pct(b.get('macro_f1'))} → {_pct(f.get('macro_f1'))} → {_pct(a['macro_f1'])} | "
                 f"{_pct(f.get('coverage_at_threshold'))} / {_pct(f.get('accuracy_of_covered'))} → "
                 f"{_pct(a['coverage_at_threshold'])} / {_pct(a['accuracy_of_covered'])} | {_pct(a['level2_accuracy'])} |")
    if compare:
        L += [""] + _compare(compare)
    findings = OUT_DIR / "category_findings.md"
    if findings.exists():
        L += ["", findings.read_text(encoding="utf-8").rstrip()]
    for s, label in NAMES.items():
        if s not in r:
            continue
        a = r[s]
        b = (baseline or {}).get(s, {}).get("per_top_level", {})
        fp = (first or {}).get(s, {}).get("per_top_level", {})

        def acc(d, k):
            return (d.get(k) or {}).get("accuracy") if isinstance(d.get(k), dict) else d.get(k)
        L += ["", f"## {label}", "", f"Coverage at the threshold: {_pct(a['coverage_at_threshold'])}, "
              f"top-level accuracy of the covered: {_pct(a['accuracy_of_covered'])}.", "",
              "| top level | n | before | first pass | after |", "|---|---|---|---|---|"]
        L += [f"| {k} | {v['n']} | {_pct(acc(b, k))} | {_pct(acc(fp, k))} | {_pct(v['accuracy'])} |"
              for k, v in a["per_top_level"].items()]
        L += ["", "Reliability (does 0.8 confidence mean 80 % right?):", "",
              "| confidence | n | mean confidence | accuracy |", "|---|---|---|---|"]
        L += [f"| {x['bin']} | {x['n']} | {x['mean_confidence']:.2f} | {_pct(x['accuracy'])} |" for x in a["reliability"]]
        L += ["", "Commonest top-level confusions:", "", "| gold | predicted | count |", "|---|---|---|"]
        L += [f"| {c['gold']} | {c['predicted']} | {c['count']} |" for c in a["confusions"][:12]]
    loop = OUT_DIR / "category_corrections.json"
    if loop.exists():
        c = json.loads(loop.read_text(encoding="utf-8"))
        L += ["", "## Correction loop (bench/categories_correction_loop.py)", "",
              "Staff corrections (OrderEvent `correct_category`) exported by `flask export-corrections`, then "
              "`flask retrain-categories`: the candidate is kept only if it loses nothing (top level and level 2, "
              f"every frozen set, real fold included). Last run: **{'accepted' if c['accepted'] else 'rejected'}** "
              f"(`{c['current']}` → `{c['candidate']}`).", "",
              "| set | before | after |", "|---|---|---|"]
        L += [f"| {NAMES[s]} | {_pct(c[s]['before'])} | {_pct(c[s]['after'])} |" for s in NAMES if s in c]
    cal = r.get("calibration") or {}
    if cal:
        L += ["", "## Calibration on the held-out training split", "",
              f"{cal.get('held_out')} held-out training texts ({cal.get('held_out_real', 0)} of them real messages, "
              f"held out by message); threshold {cal.get('threshold')}: the lowest confidence at which the covered "
              "held-out requests are ≥ 90 % right and no held-out chatter passes.", "",
              "Real held-out messages (does 0.8 mean 80 %?):", "",
              "| confidence | n | mean confidence | accuracy |", "|---|---|---|---|"]
        L += [f"| {x['bin']} | {x['n']} | {x['mean_confidence']:.2f} | {_pct(x['accuracy'])} |"
              for x in cal.get("reliability_real", [])]
        L += ["", "Threshold against coverage (share categorised without a person) and accuracy:", "",
              "| threshold | coverage, all | accuracy of covered, all | coverage, real | accuracy of covered, real | chatter passing |",
              "|---|---|---|---|---|---|"]
        L += [f"| {x['threshold']:.2f} | {_pct(x['coverage'])} | {_pct(x['accuracy_of_covered'])} | "
              f"{_pct(x.get('real_coverage'))} | {_pct(x.get('real_accuracy_of_covered'))} | {x['chatter_passing']} |"
              for x in cal.get("threshold_curve", [])]
    return "\n".join(L) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(OUT_DIR))
    ap.add_argument("--model", help="a model .npz (default: the current data's)")
    a = ap.parse_args(argv)
    from . import classifier
    clf = classifier.load(Path(a.model)) if a.model else classifier.get_classifier()
    r = evaluate(clf)
    out = Path(a.out)
    base_f = out / "category_before_issue25.json"
    baseline = json.loads(base_f.read_text(encoding="utf-8")) if base_f.exists() else None
    cmp_f = out / "category_compare.json"
    compare = json.loads(cmp_f.read_text(encoding="utf-8")) if cmp_f.exists() else None
    first_f = out / "category_first_pass.json"
    first = json.loads(first_f.read_text(encoding="utf-8")) if first_f.exists() else None
    (out / "category_report.json").write_text(json.dumps(r, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out / "category_report.md").write_text(render(r, baseline, compare, first), encoding="utf-8")
    for s in TARGETS:
        print(f"{s}: top level {r[s]['top_level_accuracy']:.3f} (gate {GATES[s]}), macro-F1 {r[s]['macro_f1']:.3f}, "
              f"level 2 {_pct(r[s]['level2_accuracy'])}")
    return 0 if not gate_failures(r) else 1


if __name__ == "__main__":
    sys.exit(main())
