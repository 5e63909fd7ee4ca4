"""The district's seed entries: the 29 answers the bot used to give from its domain
(`bot/domain/faq.yml`), each with the ways residents ask it (`intents/nlu/faq.yml`, the first one as
its question). Read from the repository, so the seed and the bot's former answers are one text."""
from __future__ import annotations

from pathlib import Path

import yaml

from ..config import ROOT

ANSWERS = ROOT / "bot" / "domain" / "faq.yml"
EXAMPLES = ROOT / "intents" / "nlu" / "faq.yml"
CATEGORIES = {
    "medical": "医保社保", "social": "医保社保", "pension": "医保社保",
    "residence": "证件证明", "senior": "为老服务", "canteen": "为老服务",
    "garbage": "垃圾分类", "charging": "物业停车", "parking": "物业停车", "property": "物业停车",
    "elevator": "物业停车", "office": "社区服务", "wish": "社区服务", "grid": "社区服务",
    "order": "社区服务", "volunteer": "社区服务", "low": "救助帮扶", "disability": "救助帮扶",
    "utility": "生活缴费",
}


def _category(key: str) -> str:
    return CATEGORIES.get(key.split("_")[0], "其他")


def seed_rows(answers: Path = ANSWERS, examples: Path = EXAMPLES) -> list[dict]:
    """[{seed_key, question, variants, answer, category}], in the domain's order."""
    responses = yaml.safe_load(answers.read_text(encoding="utf-8"))["responses"]
    asked: dict[str, list[str]] = {}
    for block in yaml.safe_load(examples.read_text(encoding="utf-8"))["nlu"]:
        intent = block.get("intent", "")
        if intent.startswith("ask_faq/"):
            asked[intent.split("/", 1)[1]] = [line[2:].strip() for line in block["examples"].splitlines()
                                               if line.strip().startswith("- ")]
    rows = []
    for name, variants in responses.items():
        key = name.split("/", 1)[1]
        ways = asked.get(key) or []
        rows.append({"seed_key": f"faq:{key}", "question": ways[0] if ways else key, "variants": ways[1:],
                     "answer": variants[0]["text"], "category": _category(key)})
    return rows
