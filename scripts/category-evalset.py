#!/usr/bin/env python3
"""Compose the FROZEN category evaluation sets from intents/categories/eval/issues.yml.

    python scripts/category-evalset.py      # rewrites eval/board.tsv and eval/chat.tsv (seed fixed)

Run once (2026-11-24) before any tuning; the outputs are committed and must not be regenerated
after training data or model changes (a test checks their hashes). Its templates, place names and
wording are deliberately not shared with the training composer (backend/categories/compose.py).
"""
import csv
import random
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1] / "intents" / "categories" / "eval"
rng = random.Random(20261124)

DISTRICTS = ["东湖区", "西城区", "高新区", "经开区", "江北新区", "南明区", "城关镇", "望城县"]
COMPOUNDS = ["阳光花园", "金桂苑", "幸福里小区", "翠湖湾", "锦绣华庭", "电厂宿舍", "新华小区", "玉兰公寓"]
VILLAGES = ["王家庄", "柳树湾村", "石桥村", "大杨庄", "河口村"]
ROADS = ["人民路", "解放大道", "建设北路", "长江路", "中山东路", "迎宾大道"]
OPENINGS = ["尊敬的领导：您好！", "尊敬的市长：", "领导您好，", "各位领导好！", "您好！", "", ""]
CLOSINGS = ["恳请相关部门尽快调查处理，谢谢！", "希望领导能重视这个问题，给我们一个答复。", "盼复！",
            "请问这个问题到底归哪个部门管？", "望有关部门核实处理。", "谢谢！", ""]


def place():
    return rng.choice([
        lambda: f"我是{rng.choice(DISTRICTS)}{rng.choice(COMPOUNDS)}的居民，",
        lambda: f"本人是{rng.choice(DISTRICTS)}{rng.choice(VILLAGES)}的村民，",
        lambda: f"我家住在{rng.choice(DISTRICTS)}{rng.choice(ROADS)}附近，",
        lambda: "",
    ])()


def when():
    m, d = rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice([f"{m}月{d}日以来，", f"自{rng.choice([2024, 2025, 2026])}年{m}月起，", "近段时间，", "", ""])


def board(title, desc, extra):
    t = rng.choice([title, f"关于{title}的问题", f"{rng.choice(DISTRICTS)}{title}", f"反映{title}",
                    f"{title}，望尽快解决", title])
    body = rng.choice(OPENINGS) + place() + when() + desc + "。"
    if extra:
        body += rng.choice(["另外，", "还有，", "同时，"]) + extra + "。"
    return t, body + rng.choice(CLOSINGS)


def chat(title, desc):
    clauses = desc.split("，")
    core = "，".join(clauses[:rng.choice([1, 2, 2, 3])])
    return rng.choice([
        core, core + " 有人管吗", "你好 " + core, core + "怎么办", "想反映一下" + title,
        core + "，麻烦处理一下", "请问" + title + "找哪个部门", title, core + "。。。",
    ])


def main():
    issues = yaml.safe_load((ROOT / "issues.yml").read_text(encoding="utf-8"))
    items = [(path, *it.split("|", 1)) for path, lst in issues.items() for it in lst]
    by_l1 = {}
    for it in items:
        by_l1.setdefault(it[0].split("/")[0], []).append(it)
    boards, chats = [], []
    for rep in range(3):
        for path, title, desc in items:
            same = [d for p, _, d in items if p == path and d != desc]
            extra = rng.choice(same) if same and rng.random() < 0.35 else None
            boards.append((*board(title, desc, extra), path))
            if rep < 2:
                chats.append((chat(title, desc), path))
    rng.shuffle(boards)
    rng.shuffle(chats)
    with open(ROOT / "board.tsv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["id", "title", "body", "path"])
        w.writerows((f"b{i:04d}", t, b, p) for i, (t, b, p) in enumerate(boards, 1))
    seen, rows = set(), []
    for text, p in chats:
        if text not in seen:
            seen.add(text)
            rows.append((text, p))
    with open(ROOT / "chat.tsv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["id", "text", "path"])
        w.writerows((f"c{i:04d}", t, p) for i, (t, p) in enumerate(rows, 1))
    print(f"board: {len(boards)}  chat: {len(rows)}")


if __name__ == "__main__":
    main()
