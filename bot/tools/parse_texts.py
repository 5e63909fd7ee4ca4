"""Parse texts with a trained model (intent, confidence, the ResponseSelector's FAQ key): what the
bot's NLU makes of each line of a file, as JSON — bench/knowledge_eval.py reads it for the 知识库's
before/after figures.

    cd bot && .venv/bin/python tools/parse_texts.py MODEL.tar.gz TEXTS.txt OUT.json
"""
import asyncio, sys, json
from rasa.core.agent import Agent
texts = [l.strip() for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
async def main():
    agent = Agent.load(sys.argv[1])
    out = []
    for t in texts:
        r = await agent.parse_message(t)
        rs = (r.get("response_selector") or {}).get("ask_faq", {}).get("response", {})
        out.append({"text": t, "intent": r["intent"]["name"], "conf": round(r["intent"]["confidence"], 3),
                    "faq": rs.get("intent_response_key"), "faq_conf": rs.get("confidence")})
    json.dump(out, open(sys.argv[3], "w", encoding="utf-8"), ensure_ascii=False, indent=0)
asyncio.run(main())
