"""Meaningless input (issue 24, item 7): "0", ".ô", a formula, only punctuation or emoji, only
filler sounds (嗯嗯, 哈哈哈) — a resident's message that says nothing about a problem. The chat asks
back (templates/chat/describe.txt) instead of making an order of it, and a resident's (or the bot's)
intake refuses it with the same question; staff intake keeps free text, they know what they typed.

Short real complaints must pass: "灯坏了", "漏水", "停电了", "有老鼠" — two Chinese characters that
are not filler are enough (so "你好" and "谢谢" still reach the bot, which answers them), and so are three Latin words ("water leak in building 3")."""
import re
import unicodedata

from flask import render_template

from ..text import for_matching

# Sounds and particles that carry no problem on their own.
FILLER = set("啊阿哦噢喔嗯恩哈呵嘿嘻哎唉诶欸额呃喂嗨么吗嘛呢吧了的啦呀哇耶哟嘞咯")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-z]{2,}")


def _kept(ch: str) -> bool:
    # Letters, digits and CJK; punctuation, symbols (emoji, math), marks, spaces and controls go.
    return unicodedata.category(ch)[0] in ("L", "N")


def is_meaningless(text: str | None) -> bool:
    plain = "".join(ch for ch in for_matching(text).lower() if _kept(ch))
    if not plain:
        return True  # punctuation, emoji, spaces only
    hanzi = _CJK.findall(plain)
    if hanzi:
        return len([ch for ch in hanzi if ch not in FILLER]) < 2  # 嗯嗯, 好的, a lone 灯
    # No Chinese at all: digits, a stray letter, a formula — unless it is a sentence in words.
    return len(_LATIN_WORD.findall(for_matching(text).lower())) < 3


def question() -> str:
    """What the resident is asked instead (the words are in the template, not here)."""
    return render_template("chat/describe.txt").strip()
