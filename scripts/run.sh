#!/usr/bin/env bash
# Set up, migrate the SQLite demo database, load the demo data if empty, serve on 127.0.0.1:${PORT:-5000}.
# The demo's DingTalk, Feishu and WeCom group robots point at a local stand-in (scripts/im_receiver.py on
# 127.0.0.1:${IM_RECEIVER_PORT:-5990}, log in instance/im-receiver.jsonl) unless IM_RECEIVER=0 or the
# *_WEBHOOK_URL variables are set already.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export KPIAPP_ENV="${KPIAPP_ENV:-dev}" FLASK_APP=wsgi
.venv/bin/flask db upgrade
.venv/bin/flask kpi seed-demo
export BASE_URL="${BASE_URL:-http://127.0.0.1:${PORT:-5000}}"
if [[ "${IM_RECEIVER:-1}" != "0" && -z "${DINGTALK_WEBHOOK_URL:-}${FEISHU_WEBHOOK_URL:-}${WECOM_WEBHOOK_URL:-}" ]]; then
  IM_PORT="${IM_RECEIVER_PORT:-5990}"
  export DINGTALK_SECRET="SECdemo-dingtalk-secret" FEISHU_SECRET="demo-feishu-secret"
  export DINGTALK_WEBHOOK_URL="http://127.0.0.1:${IM_PORT}/dingtalk/robot/send?access_token=demo-dingtalk-token"
  export FEISHU_WEBHOOK_URL="http://127.0.0.1:${IM_PORT}/feishu/open-apis/bot/v2/hook/demo-feishu-hook"
  export WECOM_WEBHOOK_URL="http://127.0.0.1:${IM_PORT}/wecom/cgi-bin/webhook/send?key=demo-wecom-key"
  mkdir -p instance
  .venv/bin/python scripts/im_receiver.py --port "$IM_PORT" --log instance/im-receiver.jsonl &
  RECEIVER_PID=$!
  trap 'kill "$RECEIVER_PID" 2>/dev/null || true' EXIT
  sleep 1
  .venv/bin/flask kpi notify-test || true  # one test message per robot: they show on /admin/integrations
  echo "IM robots -> stand-in on 127.0.0.1:${IM_PORT} (what they receive: instance/im-receiver.jsonl)"
fi
echo "kpiapp on http://127.0.0.1:${PORT:-5000}  (demo logins in README.md)"
.venv/bin/gunicorn --workers 2 --threads 4 --timeout 300 --bind "127.0.0.1:${PORT:-5000}" \
  --access-logfile - wsgi:app
