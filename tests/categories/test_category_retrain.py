"""`flask retrain-categories`' rule: a model retrained with staff corrections is kept only if it loses
nothing on the frozen sets, the frozen real fold included. Here the "corrections" are deliberately
wrong (real 城乡建设 messages of the training folds relabelled as air pollution): the candidate loses on
the real fold and must be rejected. Trains one candidate (cached by its data's hash afterwards)."""
import shutil

from backend.categories import corrections, evaluate, real, training
from backend.categories.taxonomy import DATA_DIR


def test_acceptance_rule_covers_the_real_fold():
    old = {s: {"top_level_accuracy": 0.8, "level2_accuracy": None if s.startswith("real") else 0.7}
           for s in evaluate.TARGETS}
    worse = {s: dict(v) for s, v in old.items()}
    worse["real_full"]["top_level_accuracy"] = 0.79
    assert evaluate.accepted(old, old) and not evaluate.accepted(worse, old)


def test_wrong_corrections_are_rejected(tmp_path):
    data = tmp_path / "categories"
    shutil.copytree(DATA_DIR, data, ignore=shutil.ignore_patterns("corrections*.tsv"))
    wrong = [r.title for r in real.training_rows(DATA_DIR) if r.label == "城乡建设" and r.title][:800]
    corrections.write_tsv([(t, "环境保护/环境污染/大气污染") for t in wrong], data / "train" / corrections.CORRECTIONS_FILE)
    r = corrections.retrain(data, progress=lambda *a: None)
    assert r["current"] == training.model_path(DATA_DIR).name   # the shipped model, from the cache
    assert not r["accepted"]
    assert r["after"]["real_full"]["top_level_accuracy"] < r["before"]["real_full"]["top_level_accuracy"]
