#!/usr/bin/env bash
# 创业齐鲁 platform: the two commands.
#   ./dev.sh run    set everything up, then run the app on SQLite with demo data
#   ./dev.sh test   install what the tests need, then run every suite (backend on SQLite and
#                   PostgreSQL, miniapp unit tests, browser tests in Chromium, the production stack)
# and to run it as a service (README "Run it as a service"):
#   ./dev.sh serve                    nginx + two gunicorn app servers + Redis + the scheduler, on PostgreSQL
#   ./dev.sh backup [file]            pg_dump -Fc of DATABASE_URL
#   ./dev.sh restore <file> <new db>  restore into a new database, then check it
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
export FLASK_APP=backend

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
apt_install() {
  say "apt-get install $*"
  as_root apt-get update -qq || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

python_env() {
  local extra=${1:-}
  if [ ! -x "$PY" ]; then
    say "Python virtual environment (.venv)"
    python3 -m venv "$VENV" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$VENV"; }
    "$PY" -m pip install -q --upgrade pip
  fi
  local stamp="$VENV/.installed$extra"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "Python packages"
    "$PY" -m pip install -q -e ".$extra"
    touch "$stamp"
  fi
}

miniapp_build() {
  command -v npm >/dev/null || { echo "需要 Node.js 20 和 npm / Node.js 20 with npm is required" >&2; exit 1; }
  if [ ! -d miniapp/node_modules ] || [ miniapp/package-lock.json -nt miniapp/node_modules/.package-lock.json ]; then
    say "miniapp npm packages"
    (cd miniapp && npm ci --no-audit --no-fund --loglevel=error)
  fi
  say "miniapp build -> static/"
  (cd miniapp && npm run --silent build)
}

cmd_run() {
  python_env ""
  miniapp_build
  say "database (${DATABASE_URL:-SQLite file instance/app.db}) and demo data"
  "$PY" -m flask db upgrade
  "$PY" -m flask seed-demo
  local port=${PORT:-5000}
  say "创业齐鲁 running at http://127.0.0.1:$port/   (API docs: http://127.0.0.1:$port/api/docs)"
  echo "在登录页点演示账号即可一键登录；或输入上面的手机号，验证码会打印在下面的日志里。"
  echo "Log in with a demo account on the login page, or type a demo phone: the SMS code is printed in this log."
  exec "$PY" -m flask run --host "${HOST:-127.0.0.1}" --port "$port"
}

postgres_for_tests() {
  # Use TEST_PG_URL (default: the local server, trust auth); if nothing answers, start a private
  # throwaway cluster (installing Debian's postgresql first when missing).
  export TEST_PG_URL=${TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
  if "$PY" - <<'PYEOF' 2>/dev/null; then return; fi
import os, psycopg
psycopg.connect(os.environ["TEST_PG_URL"], connect_timeout=3).close()
PYEOF
  say "no PostgreSQL at $TEST_PG_URL: starting a private one for the tests"
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  if [ -z "$bindir" ]; then apt_install postgresql; bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1); fi
  local data=/tmp/cyql-test-pg port=54329 run_as=()
  [ "$(id -u)" = 0 ] && run_as=(runuser -u postgres --)
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data" && [ "$(id -u)" = 0 ] && chown postgres "$data"
    "${run_as[@]}" "$bindir/initdb" -D "$data" -A trust -U postgres >/dev/null
  fi
  "${run_as[@]}" "$bindir/pg_ctl" -D "$data" -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" -l "$data/log" -w start >/dev/null || true
  export TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
}

chromium_for_tests() {
  export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
  [ -x "$CHROMIUM" ] || apt_install chromium
  fc-list 2>/dev/null | grep -qi 'cjk\|wqy' || apt_install fonts-noto-cjk
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || apt_install fonts-dejavu-core  # the no-CJK-font poster test
}

nginx_installed() {
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt_install nginx-light
}

redis_installed() {
  # the system Redis at 127.0.0.1:6379 when it answers; otherwise serve.py starts a private redis-server
  command -v redis-server >/dev/null || apt_install redis-server
}

cmd_serve() {
  python_env ""
  nginx_installed
  redis_installed
  command -v pg_dump >/dev/null || apt_install postgresql-client
  miniapp_build
  export DATABASE_URL=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/cyql}
  say "production stack on ${DATABASE_URL%%\?*} (APP_ENV=${APP_ENV:-development})"
  exec "$PY" deploy/serve.py
}

cmd_backup() {
  python_env ""
  command -v pg_dump >/dev/null || apt_install postgresql-client
  export DATABASE_URL=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/cyql}
  "$PY" deploy/backup.py dump "$@"
}

cmd_restore() {
  [ $# -eq 2 ] || { echo "usage: ./dev.sh restore <file> <new database name>" >&2; exit 2; }
  python_env ""
  command -v pg_restore >/dev/null || apt_install postgresql-client
  export DATABASE_URL=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/cyql}
  "$PY" deploy/backup.py restore "$@"
}

cmd_test() {
  python_env "[test]"
  chromium_for_tests
  nginx_installed  # tests/prod: the production stack behind Debian's nginx
  redis_installed
  postgres_for_tests
  say "miniapp unit tests (Vitest)"
  if [ ! -d miniapp/node_modules ] || [ miniapp/package-lock.json -nt miniapp/node_modules/.package-lock.json ]; then
    (cd miniapp && npm ci --no-audit --no-fund --loglevel=error)
  fi
  (cd miniapp && npm test --silent)
  miniapp_build
  say "first-load size budget"
  (cd miniapp && npm run --silent size)
  say "backend (SQLite + PostgreSQL) and browser tests (Chromium)"
  "$PY" -m pytest "$@"
}

case "${1:-}" in
  run) shift; cmd_run "$@" ;;
  test) shift; cmd_test "$@" ;;
  serve) shift; cmd_serve "$@" ;;
  backup) shift; cmd_backup "$@" ;;
  restore) shift; cmd_restore "$@" ;;
  *) echo "usage: ./dev.sh run | ./dev.sh test [pytest args] | ./dev.sh serve | ./dev.sh backup [file] | ./dev.sh restore <file> <new db>" >&2; exit 2 ;;
esac
