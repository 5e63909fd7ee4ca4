"""Training text that looks like what citizens write, composed from ``phrases.yml``.

For every phrase: chat-length variants (as typed into the mini-program) and message-board
complaints (a title plus a body with a formal opening, the writer's place, a date, sometimes a
second issue of the same level 2 and a closing line). Deterministic (fixed seed), so the model's
cache key (a hash of the data files and this module) identifies the training set exactly.
Templates and place names here are not those of the frozen evaluation sets (scripts/category-evalset.py).
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import List, Tuple

import yaml

PHRASES_FILE = "phrases.yml"
SEED = 7
CITIES = ["长沙市", "合肥市", "南宁市", "洛阳市", "绵阳市", "济宁市", "常州市", "赣州市"]
AREAS = ["岳麓区", "蜀山区", "青秀区", "涧西区", "涪城区", "任城区", "武进区", "章贡区", "开福区", "瑶海区"]
HOMES = ["和平里小区", "书香苑", "滨江一号", "南湖新村", "纺织厂家属院", "桃源居", "御景湾", "东方明珠花园",
         "城南安置小区", "龙湖春江郦城"]
VILLAGES = ["李家村", "新塘镇", "黄土岭村", "白沙镇", "三合村"]
STREETS = ["五一大道", "芙蓉路", "青年路", "朝阳街", "滨河路", "学府路"]
NAMES = ["张科长", "刘主任", "王书记", "李局长"]
CHAT = ["{p}", "{p}", "{p}了", "{p}怎么办", "{p}，谁来管管", "请问{p}", "你好，{p}", "{p}，能处理一下吗",
        "{home}{p}", "{p}啊", "我们这{p}", "{p}好久了", "{p}？", "咨询一下{p}", "反映个事 {p}",
        "{p}已经好几天了", "{p}，急", "{home}{n}栋{p}"]
TITLES = ["{p}", "关于{p}的反映", "{home}{p}", "{area}{p}问题", "请求解决{p}", "{p}谁来管", "投诉{p}",
          "{p}的问题何时能解决", "咨询{p}", "{area}{home}{p}"]
OPEN = ["尊敬的领导：", "领导好！", "尊敬的{city}市长：您好！", "您好：", "各位领导：", "", "", "尊敬的{name}："]
WHO = ["我是{area}{home}的业主，", "本人住在{city}{area}{street}，", "我们是{area}{village}的村民，",
       "我是{home}{n}栋的住户，", "", ""]
WHEN = ["从{y}年{m}月开始，", "{m}月{d}号那天，", "今年以来，", "这半年来，", "最近一个月，", ""]
MORE = ["而且", "此外", "还有一个问题，", "另外"]
TAIL = ["多次找过社区和相关部门都没有结果。", "打过12345也没有解决。", "给居民生活带来很大不便。",
        "已经反映过好几次了。", ""]
CLOSE = ["请领导关注，谢谢！", "望尽快解决！", "恳请相关部门处理。", "希望早日给个说法。", "谢谢！", ""]


def load_phrases(data_dir: Path) -> List[Tuple[str, str]]:
    """[(phrase, path)]: path is "L1/L2/L3", or "L1/L2" for phrases under "_"."""
    raw = yaml.safe_load((Path(data_dir) / PHRASES_FILE).read_text(encoding="utf-8")) or {}
    out = []
    for l2, groups in raw.items():
        for l3, phrases in (groups or {}).items():
            path = l2 if l3 == "_" else f"{l2}/{l3}"
            out.extend((str(p).strip(), path) for p in phrases or [] if str(p).strip())
    return out


def compose(data_dir: Path, chat_per_phrase: int = 3, board_per_phrase: int = 3) -> List[Tuple[str, str]]:
    """[(text, path)] chat messages and "title\\nbody" board messages for every phrase."""
    rng = random.Random(SEED)
    phrases = load_phrases(data_dir)
    by_l2 = {}
    for p, path in phrases:
        by_l2.setdefault(path.split("/")[0] + "/" + path.split("/")[1], []).append(p)

    def fill(t, p):
        return t.format(p=p, home=rng.choice(HOMES), area=rng.choice(AREAS), city=rng.choice(CITIES),
                        street=rng.choice(STREETS), village=rng.choice(VILLAGES), name=rng.choice(NAMES),
                        n=rng.randint(1, 30), y=rng.choice([2023, 2024, 2025, 2026]), m=rng.randint(1, 12),
                        d=rng.randint(1, 28))

    out = []
    for p, path in phrases:
        l2 = "/".join(path.split("/")[:2])
        for t in rng.sample(CHAT, chat_per_phrase):
            out.append((fill(t, p), path))
        for _ in range(board_per_phrase):
            body = fill(rng.choice(OPEN) + rng.choice(WHO) + rng.choice(WHEN), p) + p + "，" + rng.choice(TAIL)
            others = [q for q in by_l2[l2] if q != p]
            if others and rng.random() < 0.4:
                body += rng.choice(MORE) + rng.choice(others) + "。"
            body += rng.choice(CLOSE)
            out.append((fill(rng.choice(TITLES), p) + "\n" + body, path))
    return out
