#!/usr/bin/env bash
# Set up, migrate the SQLite demo database, load the demo data if empty, serve on 127.0.0.1:${PORT:-5000}.
# Beside the app: the marketplace stand-in on 127.0.0.1:${FAKE_MARKETPLACE_PORT:-5999} (the demo's
# connected stores pull from it) and `kpi cron` (the schedule, in-process without Redis).
# The demo's DingTalk, Feishu and WeCom group robots point at a local stand-in (scripts/im_receiver.py on
# 127.0.0.1:${IM_RECEIVER_PORT:-5990}, log in instance/im-receiver.jsonl) unless IM_RECEIVER=0 or the
# *_WEBHOOK_URL variables are set already.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export KPIAPP_ENV="${KPIAPP_ENV:-dev}" FLASK_APP=wsgi
# the demo's connected stores point at the stand-in this script starts, on whichever port
export KPIAPP_FAKE_MARKETPLACE_URL="${KPIAPP_FAKE_MARKETPLACE_URL:-http://127.0.0.1:${FAKE_MARKETPLACE_PORT:-5999}}"
.venv/bin/flask db upgrade
.venv/bin/flask kpi seed-demo
mkdir -p instance
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT INT TERM
export BASE_URL="${BASE_URL:-http://127.0.0.1:${PORT:-5000}}"
if [[ "${IM_RECEIVER:-1}" != "0" && -z "${DINGTALK_WEBHOOK_URL:-}${FEISHU_WEBHOOK_URL:-}${WECOM_WEBHOOK_URL:-}" ]]; then
  IM_PORT="${IM_RECEIVER_PORT:-5990}"
  export DINGTALK_SECRET="SECdemo-dingtalk-secret" FEISHU_SECRET="demo-feishu-secret"
  export DINGTALK_WEBHOOK_URL="http://127.0.0.1:${IM_PORT}/dingtalk/robot/send?access_token=demo-dingtalk-token"
  export FEISHU_WEBHOOK_URL="http://127.0.0.1:${IM_PORT}/feishu/open-apis/bot/v2/hook/demo-feishu-hook"
  export WECOM_WEBHOOK_URL="http://127.0.0.1:${IM_PORT}/wecom/cgi-bin/webhook/send?key=demo-wecom-key"
  .venv/bin/python scripts/im_receiver.py --port "$IM_PORT" --log instance/im-receiver.jsonl &
  PIDS+=($!)
  sleep 1
  .venv/bin/flask kpi notify-test || true  # one test message per robot: they show on /admin/integrations
  echo "IM robots -> stand-in on 127.0.0.1:${IM_PORT} (what they receive: instance/im-receiver.jsonl)"
fi
.venv/bin/flask kpi fake-marketplace --port "${FAKE_MARKETPLACE_PORT:-5999}" >instance/fake-marketplace.log 2>&1 &
PIDS+=($!)
.venv/bin/flask kpi cron >instance/cron.log 2>&1 &
PIDS+=($!)
echo "marketplace stand-in on http://127.0.0.1:${FAKE_MARKETPLACE_PORT:-5999}, schedule running (instance/*.log)"
echo "kpiapp on http://127.0.0.1:${PORT:-5000}  (demo logins in README.md)"
.venv/bin/gunicorn --workers 2 --threads 4 --timeout 300 --bind "127.0.0.1:${PORT:-5000}" \
  --access-logfile - wsgi:app
