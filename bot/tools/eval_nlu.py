"""Summarize `rasa test nlu` results into bot/reports/ and enforce the macro-F1 gate.

    python tools/eval_nlu.py <results dir> <reports dir> <min macro-F1> [held-out|chat]

held-out (default): the split of intents/nlu → nlu_summary.md, intent_report.json.
chat: the frozen independently written chat set bot/eval/chat_intents.yml → chat_summary.md,
chat_intent_report.json.
"""
import json
import pathlib
import shutil
import sys


SETS = {
    "held-out": ("intent_report.json", "nlu_summary.md", "Bot NLU evaluation (held-out split)"),
    "chat": ("chat_intent_report.json", "chat_summary.md",
             "Bot NLU evaluation (frozen chat set written apart from the training data)"),
}


def main(results: str, reports: str, minimum: float, which: str = "held-out") -> int:
    res, rep = pathlib.Path(results), pathlib.Path(reports)
    rep.mkdir(parents=True, exist_ok=True)
    json_name, md_name, title = SETS[which]
    report = json.loads((res / "intent_report.json").read_text(encoding="utf-8"))
    shutil.copy(res / "intent_report.json", rep / json_name)
    errors = json.loads((res / "intent_errors.json").read_text(encoding="utf-8")) if (res / "intent_errors.json").exists() else []
    macro = report["macro avg"]["f1-score"]
    rows = [
        (name, v["precision"], v["recall"], v["f1-score"], v["support"])
        for name, v in sorted(report.items())
        if isinstance(v, dict) and "f1-score" in v and not name.endswith(" avg")
    ]
    split = pathlib.Path("build/data/split.txt")
    if which == "chat":
        about = [f"- data: bot/eval/chat_intents.yml, {sum(r[4] for r in rows)} messages (how it was made: bot/eval/README.md)",
                 "- written independently of intents/nlu; no text equals a training text (tests/bot/test_bot_eval.py)"]
    else:
        about = [f"- data: {split.read_text(encoding='utf-8').strip() if split.exists() else 'see tools/split_nlu.py'}",
                 "- every 5th example of each intent (and of each ask_faq/<key>) is held out; the served model never saw them"]
    lines = [
        f"# {title}",
        "",
        *about,
        f"- **intent macro-F1: {macro:.3f}** (gate: {minimum:.2f}), accuracy: {report.get('accuracy', 0):.3f}",
        "",
        "| intent | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {n} | {p:.2f} | {r:.2f} | {f:.2f} | {s} |" for n, p, r, f, s in rows]
    if errors:
        lines += ["", f"## Misclassified {which} examples", "", "| text | expected | predicted | confidence |", "|---|---|---|---|"]
        for e in errors:
            pred = e.get("intent_prediction") or {}
            lines.append(f"| {e['text']} | {e['intent']} | {pred.get('name')} | {pred.get('confidence', 0):.2f} |")
    (rep / md_name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{which} intent macro-F1 = {macro:.3f} (gate {minimum:.2f})")
    return 0 if macro >= minimum else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), *sys.argv[4:5]))
