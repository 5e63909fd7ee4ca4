"""Display labels (Chinese) live in templates/labels.yml, not in code."""
from functools import lru_cache

import yaml

from .config import ROOT


@lru_cache(maxsize=1)
def _labels() -> dict:
    with open(ROOT / "templates" / "labels.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def label(group: str, key: str | None) -> str | None:
    return _labels().get(group, {}).get(key, key) if key else None
