# Sourced by the bot-*.sh scripts: defaults for the variables bot/endpoints.yml uses.
# REDIS_URL (redis://[:password@]host:port/db) wins over the individual defaults.
if [ -n "${REDIS_URL:-}" ]; then
  eval "$(python3 - "$REDIS_URL" <<'PY'
import sys, shlex
from urllib.parse import urlparse
u = urlparse(sys.argv[1])
print(f"REDIS_HOST={shlex.quote(u.hostname or '127.0.0.1')}")
print(f"REDIS_PORT={u.port or 6379}")
db = (u.path or "/").lstrip("/")
if db:
    print(f"REDIS_DB={shlex.quote(db)}")
if u.password:
    print(f"REDIS_PASSWORD={shlex.quote(u.password)}")
PY
)"
fi
export REDIS_HOST=${REDIS_HOST:-127.0.0.1}
export REDIS_PORT=${REDIS_PORT:-6379}
export REDIS_DB=${REDIS_BOT_DB:-${REDIS_DB:-0}}
export REDIS_PASSWORD=${REDIS_PASSWORD:-}
export ACTIONS_PORT=${ACTIONS_PORT:-5055}
export ACTIONS_URL=${ACTIONS_URL:-http://127.0.0.1:${ACTIONS_PORT}}
export RASA_PORT=${RASA_PORT:-5005}
# Both servers listen on the loopback only; set RASA_HOST / ACTIONS_HOST to a private network's
# address when the bot runs on another machine than the backend (never a public one).
export RASA_HOST=${RASA_HOST:-127.0.0.1}
export ACTIONS_HOST=${ACTIONS_HOST:-127.0.0.1}
# RASA_AUTH_TOKEN: the backend's key to Rasa (its HTTP API and the REST webhook). ACTIONS_SECRET:
# Rasa's key to the action server. Development has public defaults; production must set its own.
export RASA_AUTH_TOKEN=${RASA_AUTH_TOKEN:-dev-rasa-auth-token}
export ACTIONS_SECRET=${ACTIONS_SECRET:-dev-actions-secret}
if [ "${RED_MAILBOX_ENV:-}" = production ]; then
  for name in RASA_AUTH_TOKEN ACTIONS_SECRET; do
    case "${!name}" in
      dev-*) echo "refusing to start in production: $name is missing" >&2; exit 78 ;;
    esac
  done
fi
export BACKEND_URL=${BACKEND_URL:-http://127.0.0.1:${PORT:-5000}}
export BOT_SERVICE_TOKEN=${BOT_SERVICE_TOKEN:-}
export RASA_TELEMETRY_ENABLED=false
