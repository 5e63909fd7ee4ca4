"""The peer: django-helpdesk creating tickets through its DRF API (`POST /api/tickets/`, token
auth), against `POST /api/v1/orders`, both under the same gunicorn settings on the same PostgreSQL
server (a database each), runs interleaved round by round as in the intake bench.

Nothing of the peer is kept in this repository: `make bench` installs it into its own venv under
var/peers/ (git-ignored) from PyPI, writes a minimal Django project around it there (settings below:
the API on, e-mail to a dummy backend so a ticket is what is measured, not SMTP), migrates its
database and makes a staff user with a DRF token."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from . import bench_intake, load, servers

VERSION = "2.6.1"
PINS = [f"django-helpdesk=={VERSION}", "gunicorn==23.0.0", "psycopg2-binary==2.9.10"]
PEERS = servers.ROOT / "var" / "peers"
VENV = PEERS / f"helpdesk-{VERSION}"
SITE = PEERS / "helpdesk-site"

SETTINGS = '''import os
from urllib.parse import urlparse
_u = urlparse(os.environ["PEER_DATABASE_URL"])
SECRET_KEY = "bench-peer-not-for-production"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                  "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
                  "django.contrib.sites", "django.contrib.humanize", "rest_framework",
                  "rest_framework.authtoken", "helpdesk"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.contrib.sessions.middleware.SessionMiddleware",
              "django.middleware.common.CommonMiddleware", "django.middleware.csrf.CsrfViewMiddleware",
              "django.contrib.auth.middleware.AuthenticationMiddleware",
              "django.contrib.messages.middleware.MessageMiddleware"]
ROOT_URLCONF = "peer_urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                 "django.contrib.auth.context_processors.auth",
                                                 "django.contrib.messages.context_processors.messages"]}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": _u.path.lstrip("/"),
                         "USER": _u.username or "postgres", "PASSWORD": _u.password or "",
                         "HOST": _u.hostname or "127.0.0.1", "PORT": str(_u.port or 5432), "CONN_MAX_AGE": 600}}
SITE_ID = 1
STATIC_URL = "/static/"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"]}
HELPDESK_API_ENABLED = True
HELPDESK_TEAMS_MODE_ENABLED = False  # teams need pinax-teams, not part of a plain install
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
'''

URLS = '''from django.urls import include, path
urlpatterns = [path("", include("helpdesk.urls", namespace="helpdesk"))]
'''

SETUP = '''
import django
django.setup()
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from helpdesk.models import Queue
user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True, "is_superuser": True,
                                                                           "email": "bench@example.invalid"})
queue, _ = Queue.objects.get_or_create(slug="bench", defaults={"title": "Bench"})
token, _ = Token.objects.get_or_create(user=user)
print("PEERJSON", {"token": token.key, "queue": queue.id}.__repr__())
'''


def install(progress=print) -> Path:
    """The peer's venv, built once from PyPI (Python 3.10+: the system python3)."""
    python = VENV / "bin" / "python"
    marker = VENV / ".installed"
    if not marker.exists():
        progress(f"  installing django-helpdesk {VERSION} into {VENV.relative_to(servers.ROOT)} (once)")
        subprocess.run(["python3", "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
        marker.write_text(" ".join(PINS))
    SITE.mkdir(parents=True, exist_ok=True)
    (SITE / "peer_settings.py").write_text(SETTINGS)
    (SITE / "peer_urls.py").write_text(URLS)
    return python


def peer_env(database_url: str) -> dict:
    return {"PEER_DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "peer_settings",
            "PYTHONPATH": str(SITE), "PYTHONUNBUFFERED": "1"}


def prepare(python: Path, database_url: str) -> dict:
    """A fresh database for the peer: migrated, one staff user with a token, one queue."""
    from sqlalchemy.engine import make_url
    u = make_url(database_url)
    args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    subprocess.run(["dropdb", *args, "--if-exists", u.database], check=True, capture_output=True)
    subprocess.run(["createdb", *args, u.database], check=True, capture_output=True)
    env = {**os.environ, **peer_env(database_url)}
    subprocess.run([str(python), "-m", "django", "migrate", "-v", "0"], env=env, cwd=SITE, check=True)
    out = subprocess.run([str(python), "-c", SETUP], env=env, cwd=SITE, check=True, capture_output=True, text=True)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("PEERJSON "))
    import ast
    return ast.literal_eval(line[len("PEERJSON "):])


def run(database_url: str | None = None, *, rounds: int = 3, seconds: float = 10, warmup: float = 3,
        concurrencies=(16, 64)) -> dict:
    database_url = database_url or bench_intake.default_database_url()
    peer_url = database_url.rsplit("/", 1)[0] + "/" + database_url.rsplit("/", 1)[1] + "_peer"
    try:
        python = install()
        peer = prepare(python, peer_url)
    except (subprocess.CalledProcessError, OSError, StopIteration) as e:
        return {"error": f"django-helpdesk could not be installed or set up ({type(e).__name__}: {e})"}
    logdir = servers.ROOT / "var" / "bench-logs"
    logdir.mkdir(parents=True, exist_ok=True)
    ticket = {"queue": peer["queue"], "title": bench_intake.BODY["text"][:20],
              "description": bench_intake.BODY["text"] + " " + bench_intake.BODY["location_text"],
              "submitter_email": "resident@example.invalid", "priority": 3}
    bench_intake.ensure_database(database_url)
    with servers.redis_server() as redis_url:
        tokens = bench_intake.prepare(database_url, redis_url)
        env = bench_intake.server_env(database_url, redis_url)
        app_port, app_server = servers.gunicorn("backend.wsgi:app", env, log=logdir / "peer-app.log")
        peer_port, peer_server = servers.gunicorn("django.core.wsgi:get_wsgi_application()", peer_env(peer_url),
                                                  log=logdir / "peer-helpdesk.log", python_bin=python.parent,
                                                  extra=["--chdir", str(SITE)])
        with app_server as app_proc, peer_server as peer_proc:
            app = lambda c, s: load.run(f"http://127.0.0.1:{app_port}", "/api/v1/orders",  # noqa: E731
                                        bench_intake.BODY, tokens, c, s)
            helpdesk = lambda c, s: load.run(f"http://127.0.0.1:{peer_port}", "/api/tickets/",  # noqa: E731
                                             ticket, [peer["token"]], c, s, auth_prefix="Token ")
            print(f"  warm-up both {warmup:.0f}s", flush=True)
            app(16, warmup)
            first = helpdesk(16, warmup)
            if first["rps"] == 0:
                return {"error": f"django-helpdesk answered no 2xx ({first}); see var/bench-logs/peer-helpdesk.log"}
            runs = {c: {"app": [], "peer": []} for c in concurrencies}
            total, done = rounds * len(concurrencies) * 2, 0
            with servers.RssSampler(lambda: {"peer": servers.children(peer_proc.pid)}) as sampler:
                for r in range(rounds):
                    for c in concurrencies:
                        for name in (("peer", "app") if r % 2 == 0 else ("app", "peer")):
                            result = (helpdesk if name == "peer" else app)(c, seconds)
                            runs[c][name].append(result)
                            done += 1
                            print(f"  [{done}/{total}] round {r + 1} c{c} {name:<5} {result['rps']:7.1f} req/s "
                                  f"p99 {result['p99_ms']:7.1f} ms errors {result['errors']}", flush=True)
    out = {"version": VERSION, "generator": load.generator(), "memory_mb": sampler.peak.get("peer", 0),
           "concurrency": {}}
    for c in concurrencies:
        ratios = [a["rps"] / p["rps"] if p["rps"] else float("nan") for a, p in zip(runs[c]["app"], runs[c]["peer"])]
        out["concurrency"][c] = {"ratio": bench_intake._summary(ratios),
                                 "app_rps": bench_intake._summary([a["rps"] for a in runs[c]["app"]]),
                                 "peer_rps": bench_intake._summary([p["rps"] for p in runs[c]["peer"]]),
                                 "peer_p99_ms": bench_intake._summary([p["p99_ms"] for p in runs[c]["peer"]]),
                                 "peer_errors": sum(p["errors"] for p in runs[c]["peer"]), "runs": runs[c]}
    return out


if __name__ == "__main__":
    print(json.dumps(run(rounds=1, seconds=3, warmup=2), indent=1, default=str))
