"""A district's three years of orders for the scale benchmark, generated inside PostgreSQL
(`INSERT … SELECT … FROM generate_series`, one statement per chunk for the orders and one for their
events, with the secondary indexes built once after the load, so a million rows take minutes, not
the hour the ORM would) with progress.

The district: STREETS streets × COMMUNITIES communities × GRIDS grids, one worker per grid, a
thousand residents. Orders are spread over grids and categories with a skew (a few grids and a few
categories carry most of the load, as in the source articles' districts), one every `span / total`
in time with jitter, over 12 months a year. Ids grow with time, but the NEWEST orders are written
first: after the first stage the district has its recent months (what every page shows: the open
orders, this month, the queues), and the later stages add the older history behind them, so what
grows between stages is history alone, which a page that stays flat must not read.

States follow age as the lifecycle leaves them: the last week has every open state; a week to
six weeks, mostly resolved and rated; older, archived (closed, rated or 未评价) or cancelled. Every
row satisfies the orders table's check constraints (assignee exactly while claimed, a deadline
exactly while open, results on resolved orders …), and each order gets its submit event, a content
check pass, its claim, resolution and rating events as its state implies."""
import time
import uuid

STREETS, COMMUNITIES, GRIDS = 6, 6, 6
RESIDENTS = 1000
SPAN_DAYS = 3 * 365
CATEGORIES = ["城乡建设/市政设施/路灯", "城乡建设/住房保障与房地产/物业服务", "环境保护/环境污染/噪音污染",
              "城乡建设/市政设施/道路", "交通运输/公共交通", "环境保护/环境卫生/垃圾清运", "劳动和社会保障/养老保险",
              "卫生计生/医疗服务", "城乡建设/住房保障与房地产/房屋维修", "商贸旅游/市场监管", "教育文体/教育", "其他"]
TEXTS = ["楼道灯坏了好几天了，晚上漆黑一片，老人上下楼很危险", "小区门口垃圾堆放多日无人清运，气味很大",
         "楼上装修噪音太大，中午也不停", "单元门禁坏了，外来人员随意进出", "下水道堵塞，污水漫到路面",
         "路面坑洼积水，电动车经过容易摔倒", "物业不作为，电梯经常停运", "广场舞音响声音太大影响休息",
         "公交站台没有遮雨棚，雨天候车很不方便", "想咨询一下养老保险补缴的办理流程", "楼顶漏水，家里墙面发霉",
         "小区里有人占用消防通道停车"]
CHANNELS = ["wechat"] * 11 + ["h5"] * 4 + ["hotline"] * 3 + ["walk_in", "photo_report"]
KINDS = ["complaint", "repair", "repair", "suggestion", "consultation"]


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _array(values) -> str:
    return "ARRAY[" + ", ".join(_q(v) for v in values) + "]"


def registry(app) -> dict:
    """The district's streets, communities, grids, one worker per grid, admins and residents, and
    its `as_of`: the moment its newest orders were made, the now every stage is generated against."""
    from backend.accounts.models import Resident, Staff
    from backend.extensions import db
    from backend.grids.models import Building, Community, Grid, Street
    tag = uuid.uuid4().hex[:4]
    with app.app_context():
        grids = []
        for s in range(STREETS):
            street = Street(name=f"规模{tag}街道{s + 1}")
            db.session.add(street)
            for c in range(COMMUNITIES):
                community = Community(street=street, name=f"规模{tag}社区{s + 1}-{c + 1}", aliases=[])
                db.session.add(community)
                for g in range(GRIDS):
                    grid = Grid(community=community, code=f"s{tag}-{s}-{c}-{g}", name=f"第{g + 1}网格")
                    db.session.add(grid)
                    db.session.add(Building(grid=grid, compound=f"幸福{s}{c}小区", number=g + 1, aliases=[]))
                    grids.append(grid)
        db.session.flush()
        workers = [Staff(username=f"{g.code}-wg", name="网格员", role="grid_worker", grid_id=g.id, password_hash="x")
                   for g in grids]
        street_admin = Staff(username=f"s{tag}-street", name="街道", role="street_admin",
                             street_id=grids[0].community.street_id, password_hash="x")
        community_admin = Staff(username=f"s{tag}-community", name="社区", role="community_admin",
                                community_id=grids[0].community_id, password_hash="x")
        db.session.add_all([*workers, street_admin, community_admin])
        db.session.add_all(Resident(openid=f"s{tag}-r{i}", name=f"居民{i}") for i in range(RESIDENTS))
        db.session.commit()
        resident_ids = sorted(r.id for r in db.session.query(Resident).filter(Resident.openid.like(f"s{tag}-r%")))
        from sqlalchemy import text
        db.session.execute(text("DROP TABLE IF EXISTS bench_grids"))
        db.session.execute(text("CREATE UNLOGGED TABLE bench_grids (k int PRIMARY KEY, grid_id int, community_id int, "
                                "street_id int, worker_id int, compound text)"))
        db.session.execute(text("INSERT INTO bench_grids VALUES (:k, :g, :c, :s, :w, :p)"), [
            {"k": k, "g": g.id, "c": g.community_id, "s": g.community.street_id, "w": w.id,
             "p": f"幸福{g.code.split('-')[-3]}{g.code.split('-')[-2]}小区"} for k, (g, w) in enumerate(zip(grids, workers))])
        db.session.commit()
        offset = db.session.execute(text("SELECT COALESCE(max(id), 0) FROM orders")).scalar()
        as_of = db.session.execute(text("SELECT now()")).scalar().isoformat()
        return {"offset": offset, "as_of": as_of, "grids": len(grids), "grid_ids": [g.id for g in grids], "street_admin": street_admin.id,
                "community_admin": community_admin.id, "community_id": grids[0].community_id,
                "worker": workers[0].id, "worker_grid": grids[0].id,
                "residents": (resident_ids[0], resident_ids[-1])}


def _orders_sql(reg: dict, total: int, lo: int, hi: int) -> str:
    """Orders with ids lo..hi of `total`: id i was created (total - i) / total of the span before
    the district's `as_of` (its now, fixed for every stage, so a district reused later is measured at it)."""
    r0, r1 = reg["residents"]
    now = f"'{reg['as_of']}'::timestamptz"
    return f"""
WITH base AS (
  SELECT g AS id,
         {now} - make_interval(secs => ({total} - g)::float8 / {total} * {SPAN_DAYS} * 86400 + random() * 600) AS created,
         floor(power(random(), 1.7) * {reg['grids']})::int AS gk,
         ({_array(CATEGORIES)})[1 + floor(power(random(), 1.6) * {len(CATEGORIES)})::int] AS category,
         ({_array(TEXTS)})[1 + floor(random() * {len(TEXTS)})::int] AS body,
         ({_array(CHANNELS)})[1 + floor(random() * {len(CHANNELS)})::int] AS channel,
         ({_array(KINDS)})[1 + floor(random() * {len(KINDS)})::int] AS kind,
         random() AS u, random() AS v, random() AS w
  FROM generate_series({lo}, {hi}) AS g
), aged AS (
  SELECT b.*, {now} - b.created AS age,
         CASE
           WHEN {now} - b.created > interval '45 days' THEN
             CASE WHEN u < 0.04 THEN 'cancelled' ELSE 'closed' END
           WHEN {now} - b.created > interval '7 days' THEN
             CASE WHEN u < 0.03 THEN 'cancelled' WHEN u < 0.05 THEN 'in_progress'
                  WHEN u < 0.25 THEN 'resolved' ELSE 'rated' END
           ELSE
             CASE WHEN u < 0.02 THEN 'cancelled' WHEN u < 0.14 THEN 'submitted' WHEN u < 0.29 THEN 'claimed'
                  WHEN u < 0.49 THEN 'in_progress' WHEN u < 0.52 THEN 'escalated' WHEN u < 0.80 THEN 'resolved'
                  ELSE 'rated' END
         END AS state,
         CASE WHEN v < 0.05 THEN 'urgent' ELSE 'normal' END AS grade
  FROM base b
), timed AS (
  SELECT a.*, a.created + interval '1 hour' * (2 + 70 * power(w, 2)) AS resolved,
         a.created + CASE WHEN a.grade = 'urgent' THEN interval '1 day' ELSE interval '7 days' END AS resolve_by,
         CASE WHEN v < 0.45 THEN 'satisfied' WHEN v < 0.62 THEN 'basically_satisfied'
              WHEN v < 0.68 THEN 'unsatisfied' ELSE NULL END AS satisfaction
  FROM aged a
)
INSERT INTO orders (id, number, channel, kind, category, category_confidence, grade, text, location_text, state, rung,
  building_id, grid_id, community_id, street_id, resident_id, assignee_id, resolver_id, flags, claim_by, resolve_by,
  ack_by, due_at, result, satisfaction, rating_score, reopen_count, created_at, updated_at, resolved_at, rated_at,
  closed_at, version)
SELECT {reg['offset']} + t.id, 'HX' || to_char(t.created AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-' || lpad(t.id::text, 7, '0'),
  t.channel, t.kind, t.category, 0.8, t.grade, bg.compound || (1 + t.gk % 6) || '号楼' || t.body,
  bg.compound || (1 + t.gk % 6) || '号楼', t.state,
  CASE WHEN t.state = 'escalated' THEN 'community' ELSE 'grid_worker' END,
  NULL, bg.grid_id, bg.community_id, bg.street_id,
  CASE WHEN t.channel IN ('wechat', 'h5') THEN {r0} + floor(random() * {r1 - r0 + 1})::int END,
  CASE WHEN t.state IN ('claimed', 'in_progress') THEN bg.worker_id END,
  CASE WHEN t.state IN ('resolved', 'rated', 'closed') THEN bg.worker_id END,
  CASE WHEN t.state = 'closed' AND t.satisfaction IS NULL THEN '["unrated"]' ELSE '[]' END::json,
  t.created + interval '2 hours', t.resolve_by, NULL,
  CASE WHEN t.state = 'submitted' OR t.state = 'escalated' THEN t.created + interval '2 hours'
       WHEN t.state IN ('claimed', 'in_progress') THEN t.resolve_by END,
  CASE WHEN t.state IN ('resolved', 'rated', 'closed') THEN '已处理完毕，现场复查正常' END,
  CASE WHEN t.state = 'rated' THEN (CASE WHEN t.satisfaction = 'basically_satisfied' THEN t.satisfaction
                                         ELSE 'satisfied' END)
       WHEN t.state = 'closed' THEN t.satisfaction END,
  NULL, 0, t.created, t.created,
  CASE WHEN t.state IN ('resolved', 'rated', 'closed') THEN LEAST(t.resolved, {now}) END,
  CASE WHEN t.state = 'rated' OR (t.state = 'closed' AND t.satisfaction IS NOT NULL) THEN LEAST(t.resolved + interval '1 day', {now}) END,
  CASE WHEN t.state IN ('closed', 'cancelled') THEN t.created + interval '30 days' END, 1
FROM timed t JOIN bench_grids bg ON bg.k = t.gk
"""


def _events_sql(offset: int, lo: int, hi: int) -> str:
    """Every event of orders lo..hi in one pass over them (each order's submit, content check pass,
    claim, resolution and rating, as its state implies), not one scan per kind of event."""
    return f"""
INSERT INTO order_events (order_id, actor_type, actor_id, action, from_state, to_state, note, data, created_at)
SELECT o.id, e.actor_type, e.actor_id, e.action, e.from_state, e.to_state, e.note, e.data::json, e.created_at
FROM orders o CROSS JOIN LATERAL (VALUES
  (true, 'resident', o.resident_id, 'submit', NULL, 'submitted', NULL, '{{}}', o.created_at),
  (o.state <> 'submitted', 'system', NULL, 'content_check', NULL, NULL, NULL, '{{"verdict": "pass"}}',
   o.created_at + interval '1 minute'),
  (o.state NOT IN ('submitted', 'cancelled', 'escalated'), 'staff', COALESCE(o.assignee_id, o.resolver_id), 'claim',
   'submitted', 'claimed', NULL, '{{}}', o.created_at + interval '1 minute' * (5 + (o.id % 100))),
  (o.resolved_at IS NOT NULL, 'staff', o.resolver_id, 'resolve', 'in_progress', 'resolved', o.result, '{{}}', o.resolved_at),
  (o.rated_at IS NOT NULL, 'resident', o.resident_id, 'rate', 'resolved', 'rated', NULL, '{{}}', o.rated_at)
) AS e(keep, actor_type, actor_id, action, from_state, to_state, note, data, created_at)
WHERE o.id BETWEEN {offset + lo} AND {offset + hi} AND e.keep
ORDER BY o.id
"""


_TABLES = ("orders", "order_events")


def _drop_indexes(conn) -> list[str]:
    """Drop the tables' secondary indexes (not those behind a constraint) and return how to make
    them again: built once over the loaded rows they cost a fraction of being kept up to date
    through a million inserts (three of them are trigram GIN indexes)."""
    from sqlalchemy import text
    from sqlalchemy import bindparam
    rows = conn.execute(text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
        "AND i.tablename IN :tables AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = (quote_ident(i.indexname))::regclass)").bindparams(
        bindparam("tables", expanding=True)), {"tables": list(_TABLES)}).all()
    for name, _ in rows:
        conn.execute(text(f'DROP INDEX "{name}"'))
    return [definition for _, definition in rows]


def generate(app, reg: dict, total: int, lo: int, hi: int, chunk: int = 100_000) -> float:
    """Write orders lo..hi (of `total`), newest chunk first, with their events; seconds taken.
    The secondary indexes are dropped for the load and built again after it, in the same
    transaction, so a load that fails leaves the district as it was."""
    from sqlalchemy import text
    from backend.extensions import db
    started = time.perf_counter()
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            definitions = _drop_indexes(conn)
            top = hi
            while top >= lo:
                bottom = max(lo, top - chunk + 1)
                conn.execute(text(_orders_sql(reg, total, bottom, top)))
                conn.execute(text(_events_sql(reg['offset'], bottom, top)))
                done = hi - bottom + 1
                rate = done / (time.perf_counter() - started)
                print(f"\r  orders {done:>9,}/{hi - lo + 1:,} of this stage  ({rate:,.0f}/s)", end="", flush=True)
                top = bottom - 1
            print(f"\n  building {len(definitions)} indexes", end="", flush=True)
            for definition in definitions:
                conn.execute(text(definition))
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('orders', 'id'), {reg['offset'] + total})"))
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE orders"))
            conn.execute(text("VACUUM ANALYZE order_events"))
    print(flush=True)
    return time.perf_counter() - started
