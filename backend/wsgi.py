"""The app as the web server runs it (Procfile: gunicorn 'backend.wsgi:app'): made, then warmed up
before its first request. Each gunicorn worker imports this module once when it starts, so what
would otherwise happen inside a resident's first request in every worker — loading the category
model, the kind model (trained once if the cache lacks it), the 知识库's index and jieba's dictionary (about 2 s here, with every thread of the worker queued behind its
lock) and configuring the ORM's mappers — happens before the worker takes a connection."""
import logging
import time

from . import create_app

log = logging.getLogger(__name__)


def warm_up(flask_app) -> float:
    """Do the start-up work of the first request now; seconds taken."""
    from sqlalchemy.orm import configure_mappers
    from .categories import classifier
    from .kinds import predict_kind
    started = time.perf_counter()
    configure_mappers()
    with flask_app.app_context():
        classifier.classify("楼道灯坏了")  # loads the model, and jieba's dictionary on first use
    predict_kind("楼道灯坏了")  # loads the kind model (builds it into the cache if absent)
    with flask_app.app_context():
        from .knowledge import services as knowledge
        try:  # the 知识库's index (and jieba's default dictionary): else the bot's first question waits for it
            knowledge.index()
        except Exception:  # noqa: BLE001 — a database not migrated yet: the first question builds it
            log.warning("知识库 index not built at start-up", exc_info=True)
    with flask_app.app_context():
        # gunicorn --preload forks its workers from this process: a pooled connection opened here
        # (the index's read) would be one socket shared by every worker, their statements and
        # rollbacks interleaved on it (libpq's "PGRES_TUPLES_OK and no message", closed results).
        # Closed now, each worker opens its own (the read replica's too, when there is one).
        from .extensions import db
        for engine in db.engines.values():
            engine.dispose()
    took = time.perf_counter() - started
    log.info("warmed up in %.1f s", took)
    return took


app = create_app()
warm_up(app)
# What the warm-up loaded (the models, jieba's trie, the mappers: a few hundred thousand objects)
# lives as long as the process: moved out of the collector's generations, a full collection under
# load no longer walks it, and under --preload the forked workers no longer touch (and so copy)
# those pages when the collector marks them. Objects made by requests are collected as before.
import gc  # noqa: E402

gc.collect()
gc.freeze()
