#!/usr/bin/env bash
# Set up, migrate the SQLite demo database, load the demo data if empty, serve on 127.0.0.1:${PORT:-5000}.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export KPIAPP_ENV="${KPIAPP_ENV:-dev}" FLASK_APP=wsgi
.venv/bin/flask db upgrade
.venv/bin/flask kpi seed-demo
echo "kpiapp on http://127.0.0.1:${PORT:-5000}  (demo logins in README.md)"
exec .venv/bin/gunicorn --workers 2 --threads 4 --timeout 300 --bind "127.0.0.1:${PORT:-5000}" \
  --access-logfile - wsgi:app
