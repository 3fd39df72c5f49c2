#!/usr/bin/env bash
# Set up, then run the whole test suite.  SQLite by default; PostgreSQL when
# DATABASE_URL is set (as .ci/run does).  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
KPIAPP_DEV=1 KPIAPP_BROWSER_TESTS=1 bash scripts/setup.sh
export KPIAPP_ENV=test
exec .venv/bin/pytest -q --durations=25 "$@"
