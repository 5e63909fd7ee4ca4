"""gunicorn --preload (the Procfile's web line) forks its workers from the process that ran
backend.wsgi.warm_up: a database connection left in the pool there would be one socket shared by
every worker. The cluster drill found it (libpq "PGRES_TUPLES_OK and no message" under load)."""
from backend.extensions import db
from backend.wsgi import warm_up


def test_the_warm_up_leaves_no_pooled_connection_for_the_forked_workers(app):
    with app.app_context():
        engine = db.engine
    warm_up(app)  # reads the 知识库's index from the database, as at start-up
    assert engine.pool.checkedout() == 0
    # an in-memory SQLite pool (StaticPool) has no count; every other pool must be empty for the fork
    checkedin = getattr(engine.pool, "checkedin", None)
    assert checkedin is None or checkedin() == 0
