"""The correction loop: staff category corrections → training data → a retrained model that is
accepted only if it loses nothing on the frozen evaluation sets (the frozen real fold and the
written sets).

Corrections are OrderEvents with action "correct_category" and data {"from": old, "to": new}
(written by the order lifecycle). ``flask export-corrections`` (``orders.corrections``, which knows
orders; this package does not) writes the corrected orders' texts with their latest corrected path
to ``intents/categories/train/corrections.tsv`` (the trainer's format: text, path);
``flask retrain-categories`` trains a candidate from that data, evaluates it and the current model
on the frozen sets and keeps the candidate only when ``evaluate.accepted``.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import List, Tuple

from .taxonomy import DATA_DIR

CORRECTIONS_FILE = "corrections.tsv"


def write_tsv(rows: List[Tuple[str, str]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(["text", "path"])
        w.writerows(rows)
    tmp.replace(path)


def retrain(data_dir: Path = DATA_DIR, progress=print) -> dict:
    """Train with the current train/ files (candidate) and without corrections.tsv (current, the
    model the process would have without the new data); accept the candidate only if it loses
    nothing on the frozen sets. Returns both evaluations and the decision."""
    from . import classifier, evaluate, training
    data_dir = Path(data_dir)
    base_path = training.build(data_dir, exclude=(CORRECTIONS_FILE,), progress=progress)
    cand_path = training.build(data_dir, progress=progress)
    before = evaluate.evaluate(classifier.load(base_path, data_dir))
    after = evaluate.evaluate(classifier.load(cand_path, data_dir))
    ok = evaluate.accepted(after, before)
    return {"accepted": ok, "before": before, "after": after, "candidate": cand_path.name,
            "current": base_path.name}
