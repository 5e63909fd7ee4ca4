"""知识库 (issue 23): a resident's question answered at 2,000 entries — backend time of
`knowledge.services.ask` (the index's stamp query, scope filter, scoring, the question's row and its
commit) and of the whole `POST /api/v1/bot/knowledge/answer` in-process, against the same at the 29
seed entries (the ratio), and the first question after an entry changed (the index rebuilt).

    .venv/bin/python -m bench.bench_knowledge [BENCH_DATABASE_URL]   (default: SQLite in a temp dir)
"""
import statistics
import sys
import time

ENTRIES = 2000
TOPICS = ("疫苗接种", "居委会办公", "大件垃圾", "物业报修电话", "幸福食堂菜单", "供暖时间", "医保缴费截止", "快递驿站",
          "停水通知", "老年人体检", "电梯维保", "充电车棚", "核酸采样", "党员活动日", "志愿服务队", "垃圾清运",
          "消防演练", "防汛值班", "文化活动室", "图书角", "便民理发", "家电维修", "法律咨询", "心理咨询")
WHAT = ("时间", "地点", "怎么报名", "要带什么", "电话多少", "收费标准", "谁可以参加", "有什么变化")


def _entries(communities, streets) -> list[dict]:
    rows = []
    for i in range(ENTRIES - 29):
        topic, what = TOPICS[i % len(TOPICS)], WHAT[(i // len(TOPICS)) % len(WHAT)]
        place = communities[i % len(communities)] if i % 5 else None
        rows.append({"scope": "community" if place else "street", "community_id": place.id if place else None,
                     "street_id": place.street_id if place else streets[0].id,
                     "question": f"{topic}{what}（第{i}期）", "variants": [f"{topic}的{what}", f"问一下{topic}{what}"],
                     "answer": f"{topic}{what}：详见社区公告第{i}号。"})
    return rows


def _timed(fn, questions, repeat=1) -> list[float]:
    times = []
    for _ in range(repeat):
        for q in questions:
            start = time.perf_counter()
            fn(q)
            times.append((time.perf_counter() - start) * 1000)
    return sorted(times)


def _summary(times) -> dict:
    return {"median_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(len(times) * 0.95) - 1], 2)}


def run(database_url: str | None = None) -> dict:
    import yaml
    from sqlalchemy import select
    from backend import clock
    from backend.accounts.models import Resident
    from backend.extensions import db
    from backend.grids.models import Community, Street
    from backend.knowledge import retrieval, services
    from backend.knowledge.models import KnowledgeEntry
    from backend.orders import services as orders
    from backend.accounts.actors import Actor
    from .harness import bench_app
    from .knowledge_eval import EVAL

    data = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    questions = [q for texts in data["questions"].values() for q in texts] + data["none"]
    with bench_app(database_url) as app, app.app_context():
        app.config["KNOWLEDGE_REFRESH_SECONDS"] = 5.0  # production's (the test config looks every time)
        services.seed()
        resident = db.session.scalar(select(Resident))
        orders.create_order(Actor.for_resident(resident), text="楼道灯坏了", location_text="水晶城小区2号楼")
        token = app.config["BOT_SERVICE_TOKEN"]
        from backend.chat.gateway import sender_id
        sender = sender_id(resident.id)
        client = app.test_client()

        def http(q):
            response = client.post("/api/v1/bot/knowledge/answer", json={"sender_id": sender, "text": q},
                                   headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.get_data(as_text=True)

        def direct(q):
            services.ask(resident.id, q)

        result = {"dialect": db.engine.dialect.name, "questions": len(questions)}
        direct(questions[0])  # the first question builds the index (jieba loaded)
        result["seed_29"] = {"ask": _summary(_timed(direct, questions)), "http": _summary(_timed(http, questions))}
        communities = list(db.session.scalars(select(Community)))
        streets = list(db.session.scalars(select(Street)))
        now = clock.now()
        db.session.add_all(KnowledgeEntry(active=True, created_at=now, updated_at=now, **row)
                           for row in _entries(communities, streets))
        db.session.commit()
        services.changed()
        count = db.session.query(KnowledgeEntry).count()
        start = time.perf_counter()
        direct(questions[0])
        result["rebuild_ms"] = round((time.perf_counter() - start) * 1000, 1)
        result[f"entries_{count}"] = {"ask": _summary(_timed(direct, questions)),
                                      "http": _summary(_timed(http, questions))}
        big = result[f"entries_{count}"]
        result["ratio_ask_2000_vs_29"] = round(big["ask"]["median_ms"] / result["seed_29"]["ask"]["median_ms"], 2)
        result["index_texts"] = retrieval._index.matrix.shape[0]
        print(result)
        return result


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else None)
