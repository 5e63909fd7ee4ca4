"""The bot's frozen chat evaluation set (bot/eval/): frozen, and never equal to a training text."""
import hashlib
import re
import unicodedata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT / "bot" / "eval" / "chat_intents.yml"
# Frozen before any tuning of the training data (issue 25): changing the set is not allowed.
FROZEN_SHA256 = "073acf65b1df78f9bde0cb96cae02a37db8e53142f1cacc8e1ca921f8be0eed9"
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
