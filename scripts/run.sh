#!/usr/bin/env bash
# Set up, migrate the SQLite demo database, load the demo data if empty, serve on 127.0.0.1:${PORT:-5000}.
# Beside the app: the marketplace stand-in on 127.0.0.1:${FAKE_MARKETPLACE_PORT:-5999} (the demo's
# connected stores pull from it) and `kpi cron` (the schedule, in-process without Redis).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export KPIAPP_ENV="${KPIAPP_ENV:-dev}" FLASK_APP=wsgi
.venv/bin/flask db upgrade
.venv/bin/flask kpi seed-demo
mkdir -p instance
.venv/bin/flask kpi fake-marketplace --port "${FAKE_MARKETPLACE_PORT:-5999}" >instance/fake-marketplace.log 2>&1 &
FAKE_PID=$!
.venv/bin/flask kpi cron >instance/cron.log 2>&1 &
CRON_PID=$!
trap 'kill "$FAKE_PID" "$CRON_PID" 2>/dev/null || true' EXIT INT TERM
echo "kpiapp on http://127.0.0.1:${PORT:-5000}  (demo logins in README.md)"
echo "marketplace stand-in on http://127.0.0.1:${FAKE_MARKETPLACE_PORT:-5999}, schedule running (instance/*.log)"
.venv/bin/gunicorn --workers 2 --threads 4 --timeout 300 --bind "127.0.0.1:${PORT:-5000}" \
  --access-logfile - wsgi:app
