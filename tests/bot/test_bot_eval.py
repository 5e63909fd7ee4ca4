"""The bot's frozen chat evaluation set (bot/eval/): frozen, and never equal to a training text."""
import hashlib
import re
import unicodedata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "bot" / "eval" / "chat_intents.yml"
# Frozen before any tuning of the training data (issue 25): changing the set is not allowed.
FROZEN_SHA256 = "db05ec9d024c8549fb1f3338664a5bd6c6bfcbfb66c42923dcdb9fa71b90224f"
_MARKUP = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", _MARKUP.sub(r"\1", text)).lower()
    return "".join(ch for ch in text if not (ch.isspace() or unicodedata.category(ch)[0] in "PZS"))


def examples(path: Path):
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for item in doc.get("nlu") or []:
        if "intent" not in item:
            continue
        for line in str(item.get("examples", "")).splitlines():
            if line.strip().startswith("- "):
                yield item["intent"], line.strip()[2:].strip()


def test_chat_eval_set_is_frozen_and_covers_every_intent():
    assert hashlib.sha256(EVAL.read_bytes()).hexdigest() == FROZEN_SHA256
    found = list(examples(EVAL))
    assert len(found) >= 150
    intents = {name.split("/")[0] for name, _ in found}
    trained = {name.split("/")[0] for p in (ROOT / "intents" / "nlu").glob("*.yml") for name, _ in examples(p)}
    assert intents == trained, trained ^ intents
    assert sum(1 for name, _ in found if name == "report_issue") >= 30


def test_no_chat_eval_text_equals_a_training_text():
    training = {normalize(text) for p in (ROOT / "intents" / "nlu").glob("*.yml") for _, text in examples(p)}
    clashes = [text for _, text in examples(EVAL) if normalize(text) in training]
    assert not clashes, f"evaluation texts found in intents/nlu: {clashes}"


def _eval_nlu():
    import importlib.util
    spec = importlib.util.spec_from_file_location("eval_nlu", ROOT / "bot" / "tools" / "eval_nlu.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_chat_gate_fails_below_the_accepted_figure(tmp_path):
    """scripts/bot-check.sh step 5: a model whose chat macro-F1 is under BOT_MIN_CHAT_F1 fails the check."""
    import json
    eval_nlu = _eval_nlu()
    for macro, expected_rc in ((0.91, 1), (0.95, 0)):
        results, reports = tmp_path / f"r{macro}", tmp_path / f"p{macro}"
        results.mkdir()
        report = {"report_issue": {"precision": macro, "recall": macro, "f1-score": macro, "support": 40},
                  "accuracy": macro, "macro avg": {"precision": macro, "recall": macro, "f1-score": macro, "support": 40}}
        (results / "intent_report.json").write_text(json.dumps(report), encoding="utf-8")
        assert eval_nlu.main(str(results), str(reports), 0.92, "chat") == expected_rc
        summary = (reports / "chat_summary.md").read_text(encoding="utf-8")
        assert f"intent macro-F1: {macro:.3f}" in summary and (reports / "chat_intent_report.json").exists()
