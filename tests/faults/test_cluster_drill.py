"""The failure drill of issue 22 on the several-node topology (bench/cluster.py), small enough for
make test: 2 web nodes behind HAProxy, 2 RQ worker groups, Redis under 3 Sentinels, PostgreSQL through
pgbouncer with a streaming replica for the heavy reads, photos on the S3 server, and 2 Rasa replicas with 2 action servers whose Redis tracker and
lock stores are reached through HAProxy's TCP front to the Redis primary. Under a load of API orders,
WeChat pushes (some twice), two grid workers racing for each new order and residents chatting with the
bot, a web node, a worker group, the Redis primary, a Rasa replica and an action server are SIGKILLed;
the Sentinels promote the replica. Nothing accepted is lost, nothing is stored twice, no order is
claimed twice, every distinct push is answered, every chat turn is in its conversation's tracker once
and in the order sent (or stored as an order when the bot could not take it), and a conversation goes
on after the failover. One cluster for all of it: the Rasa replicas' model load is the slow part.
Every process is the drill's own and is stopped when it ends (bench.cluster.Cluster is a context
manager), pass or fail."""
import json

import pytest

from bench import cluster

pytestmark = [pytest.mark.slow]

CONVERSATIONS, TURNS = 4, 5


@pytest.mark.skipif(bool(cluster.tools_missing(bot=True)),
                    reason="scripts/setup.sh installs haproxy, redis-sentinel, pgbouncer, the bot's venv and model")
def test_killing_a_web_node_a_worker_the_redis_primary_a_rasa_replica_and_an_action_server_loses_nothing(tmp_path):
    result = cluster.drill(n=30, concurrency=6, kills=True, bot=True, conversations=CONVERSATIONS, turns=TURNS,
                           replica=True, keep_logs=tmp_path / "logs")
    summary = json.dumps({k: v for k, v in result.items() if k != "topology"}, ensure_ascii=False, indent=1)
    assert not cluster.group_members(set(result["process_groups"])), "the drill left processes running"
    assert [k["killed"] for k in result["kills"]] == [
        "web node", "worker group", "Redis primary", "Rasa replica", "action server"], summary
    assert result["redis_failover"]["to_port"] not in (None, result["redis_failover"]["from_port"]), summary
    # every order a client was told was taken is stored, once
    assert result["api_accepted"] == 30 and result["lost"] == 0 and result["unasked"] == 0, summary
    assert result["duplicates"] == 0, summary
    # every distinct push acknowledged became one order and got one reply
    assert result["pushes_accepted"] == result["distinct_pushes"] == result["push_orders"], summary
    assert result["wechat_replies_sent"] == result["distinct_pushes"], summary
    # of two racing grid workers at most one got each order
    assert result["double_claims"] == 0 and result["orders_claimed"] >= 1, summary
    # a photo stored through one web node is served by the other, and after the first one's death
    assert result["photo"]["served_by_web2"] and result["photo"]["served_through_haproxy_after_the_kills"], summary
    chat = result["chat"]
    # every chat turn answered is in its tracker or stored as an order; none twice, none out of order
    assert chat["turns_accepted"] == chat["turns_sent"] >= CONVERSATIONS * TURNS and chat["lost"] == 0, summary
    assert chat["twice_in_tracker"] == 0 and chat["out_of_order"] == 0, summary
    assert chat["in_tracker"] >= 1, summary
    # Rasa's stores followed the Sentinels' promotion, and a conversation went on there
    assert chat["redis_front_reaches_port"] == result["redis_failover"]["to_port"], summary
    assert chat["conversations_continued_after_failover"] >= 1, summary
    assert result["gave_up"] == 0 and result["zero_loss"], summary
    # the streaming replica served the dashboard, 考核, the export and 公示 during the load; killed
    # after it, the same pages answered from the primary and /healthz said so with a 200
    standby = result["streaming_replica"]
    assert standby["state"] == "streaming", summary
    assert all(answers.get("200") for answers in standby["heavy_reads_during_load"].values()), summary
    assert standby["standby_served_during_load"]["rows_read"] > 0, summary
    assert set(standby["heavy_reads_with_standby_killed"].values()) == {200}, summary
    assert standby["healthz_with_standby_killed"]["state"] == "down", summary
