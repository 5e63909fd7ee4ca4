"""Pure helpers that read residents' messages. No user-facing text here: the
keyword lists below are matched against what residents write, never shown."""
from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional

ORDER_NUMBER_RE = re.compile(r"[Hh][Xx]\d{8}-\d{4}")
BUILDING_RE = re.compile(r"[0-9零一二三四五六七八九十百]{1,4}\s*(?:号楼|号院|栋|幢|座)")
UNIT_RE = re.compile(r"[0-9一二三四五六七八九十]{1,3}\s*单元")
PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
URL_RE = re.compile(r"https?://\S+")

CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
SCORE_RE = re.compile(r"([1-5一二两三四五])\s*(?:分|星|颗星|个星)")
# What residents write, on the 12345 scale (满意 / 基本满意 / 不满意). Checked in order: the more
# specific phrase first ("不太满意" before "满意", "基本满意" before "满意").
SATISFACTION_WORDS = [
    ("非常不满意", "unsatisfied"), ("很不满意", "unsatisfied"), ("一点都不满意", "unsatisfied"),
    ("不太满意", "unsatisfied"), ("不满意", "unsatisfied"), ("差评", "unsatisfied"), ("太差", "unsatisfied"),
    ("很差", "unsatisfied"), ("不怎么样", "unsatisfied"), ("没解决", "unsatisfied"), ("没修好", "unsatisfied"),
    ("基本满意", "basically_satisfied"), ("比较满意", "basically_satisfied"), ("一般", "basically_satisfied"),
    ("还行", "basically_satisfied"), ("凑合", "basically_satisfied"), ("还可以", "basically_satisfied"),
    ("马马虎虎", "basically_satisfied"),
    ("非常满意", "satisfied"), ("很满意", "satisfied"), ("满分", "satisfied"), ("好评", "satisfied"),
    ("非常好", "satisfied"), ("点赞", "satisfied"), ("满意", "satisfied"), ("挺好", "satisfied"),
    ("不错", "satisfied"),
]

# The kind the resident's intent itself names. Every other order's kind (报修 / 投诉 / 咨询 / 求助 /
# 矛盾纠纷) is predicted by the backend from the order's text (backend/kinds), not guessed here.
INTENT_KINDS = {"make_wish": "wish", "make_suggestion": "suggestion", "request_human": "consultation"}
# Of those, the kinds sent with the order; "consultation" for request_human only chooses the question
# the form asks (the resident then says what the matter is, and that text decides its kind).
SENT_KINDS = ("wish", "suggestion")
GENERIC_PHRASES = (
    "我要", "我想", "想要", "我有", "有个", "有一个", "一个", "提个", "提点", "提交",
    "报修", "报个事", "反映", "投诉", "问题", "建议", "意见", "微心愿", "心愿", "许个",
    "许", "登记", "一下", "个", "下", "给社区", "社区", "帮我", "请", "您好", "你好",
    "转人工", "人工", "网格员", "找", "联系", "吧", "呀", "啊", "哈",
)
SKIP_WORDS = ("没有", "没", "不用", "不需要", "不要", "无", "不方便", "算了", "不留")


def find_order_number(text: str, entities: Iterable[Dict] = ()) -> Optional[str]:
    for entity in entities:
        if entity.get("entity") == "order_number" and entity.get("value"):
            return str(entity["value"]).upper()
    match = ORDER_NUMBER_RE.search(text or "")
    return match.group(0).upper() if match else None


def location_parts(text: str, entities: Iterable[Dict] = ()) -> Dict[str, str]:
    """compound / building / unit found in a message (entities first, then regexes)."""
    parts: Dict[str, str] = {}
    for entity in entities:
        name, value = entity.get("entity"), entity.get("value")
        if name in ("compound", "building", "unit") and value:
            value = re.sub(r"\s+", "", str(value))
            if len(value) > len(parts.get(name, "")):
                parts[name] = value
    text = text or ""
    if "building" not in parts:
        match = BUILDING_RE.search(text)
        if match:
            parts["building"] = re.sub(r"\s+", "", match.group(0))
    if "unit" not in parts:
        match = UNIT_RE.search(text)
        if match:
            parts["unit"] = re.sub(r"\s+", "", match.group(0))
    return parts


def merge_location(current: Optional[str], parts: Dict[str, str]) -> Optional[str]:
    """Apply a correction like 是5号楼 to a location text, keeping what is not corrected."""
    if not parts:
        return current
    if not current:
        return "".join(parts[k] for k in ("compound", "building", "unit") if k in parts)
    location = current
    if "unit" in parts:
        if UNIT_RE.search(location):
            location = UNIT_RE.sub(parts["unit"], location, count=1)
        else:
            location = location + parts["unit"]
    if "building" in parts:
        if BUILDING_RE.search(location):
            location = BUILDING_RE.sub(parts["building"], location, count=1)
        else:
            match = UNIT_RE.search(location)
            if match:
                location = location[: match.start()] + parts["building"] + location[match.start():]
            else:
                location = location + parts["building"]
    if "compound" in parts and parts["compound"] not in location:
        location = parts["compound"] + location
    return location


def parse_rating(text: str) -> Optional[str]:
    """What a resident wrote as a rating: a satisfaction code (满意 / 基本满意 / 不满意 and their
    everyday words), or a bare score "1"–"5" for the backend to map; None if it is neither."""
    text = text or ""
    for word, satisfaction in SATISFACTION_WORDS:
        if word in text:
            return satisfaction
    match = SCORE_RE.search(text)
    if match:
        digit = match.group(1)
        return str(int(digit) if digit.isdigit() else CN_DIGITS[digit])
    stripped = text.strip()
    return stripped if stripped in {"1", "2", "3", "4", "5"} else None


def intent_kind(intent: Optional[str]) -> Optional[str]:
    """The kind an intent names (a wish, a suggestion, a person to talk to); None: the backend
    predicts it from the text."""
    return INTENT_KINDS.get(intent or "")


def kind_to_send(slot_value: Optional[str]) -> Optional[str]:
    """What the order form sends as the kind: the intent's wish or suggestion, else nothing."""
    return slot_value if slot_value in SENT_KINDS else None


def is_substantive(text: str) -> bool:
    """Does the message say what happened, or only that the resident wants to say something?"""
    rest = re.sub(r"[\s，。！？,.!?~、：:]", "", text or "")
    for phrase in sorted(GENERIC_PHRASES, key=len, reverse=True):
        rest = rest.replace(phrase, "")
    return len(rest) >= 4


def find_url(text: str) -> Optional[str]:
    match = URL_RE.search(text or "")
    return match.group(0) if match else None


def find_phone(text: str) -> Optional[str]:
    match = PHONE_RE.search(text or "")
    return match.group(0) if match else None


def means_skip(text: str) -> bool:
    return any(word in (text or "") for word in SKIP_WORDS)


def entities_of(message: Dict) -> List[Dict]:
    return list((message or {}).get("entities") or [])
