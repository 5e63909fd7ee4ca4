"""Summarize `rasa test nlu` results into bot/reports/ and enforce the macro-F1 gate.

    python tools/eval_nlu.py <results dir> <reports dir> <min macro-F1>
"""
import json
import pathlib
import shutil
import sys


def main(results: str, reports: str, minimum: float) -> int:
    res, rep = pathlib.Path(results), pathlib.Path(reports)
    rep.mkdir(parents=True, exist_ok=True)
    report = json.loads((res / "intent_report.json").read_text(encoding="utf-8"))
    shutil.copy(res / "intent_report.json", rep / "intent_report.json")
    errors = json.loads((res / "intent_errors.json").read_text(encoding="utf-8")) if (res / "intent_errors.json").exists() else []
    macro = report["macro avg"]["f1-score"]
    rows = [
        (name, v["precision"], v["recall"], v["f1-score"], v["support"])
        for name, v in sorted(report.items())
        if isinstance(v, dict) and "f1-score" in v and not name.endswith(" avg")
    ]
    split = pathlib.Path("build/data/split.txt")
    lines = [
        "# Bot NLU evaluation (held-out split)",
        "",
        f"- data: {split.read_text(encoding='utf-8').strip() if split.exists() else 'see tools/split_nlu.py'}",
        "- every 5th example of each intent (and of each ask_faq/<key>) is held out; the served model never saw them",
        f"- **intent macro-F1: {macro:.3f}** (gate: {minimum:.2f}), accuracy: {report.get('accuracy', 0):.3f}",
        "",
        "| intent | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {n} | {p:.2f} | {r:.2f} | {f:.2f} | {s} |" for n, p, r, f, s in rows]
    if errors:
        lines += ["", "## Misclassified held-out examples", "", "| text | expected | predicted | confidence |", "|---|---|---|---|"]
        for e in errors:
            pred = e.get("intent_prediction") or {}
            lines.append(f"| {e['text']} | {e['intent']} | {pred.get('name')} | {pred.get('confidence', 0):.2f} |")
    (rep / "nlu_summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"held-out intent macro-F1 = {macro:.3f} (gate {minimum:.2f})")
    return 0 if macro >= minimum else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
