#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian/Ubuntu machine (root, or a user with sudo):
# OS packages, .venv with pinned Python packages (test tools too with KPIAPP_DEV=1), front-end packages from npm,
# compiled translations, migrated database.  A second run only checks and exits fast.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[[ "$(id -u)" -ne 0 ]] && SUDO="sudo"

OS_PACKAGES=(python3 python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
             fonts-noto-cjk poppler-utils)
command -v npm >/dev/null || OS_PACKAGES+=(nodejs npm)
[[ "${KPIAPP_BROWSER_TESTS:-0}" == "1" ]] && OS_PACKAGES+=(chromium chromium-driver)

missing=()
for pkg in "${OS_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if (( ${#missing[@]} )); then
  echo "Installing OS packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required" >&2; exit 1; }
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
# requirements.txt is what the app runs on; requirements-dev.txt (tests, linters) only with KPIAPP_DEV=1.
requirement_files=(requirements.txt)
[[ "${KPIAPP_DEV:-0}" == "1" ]] && requirement_files+=(requirements-dev.txt)
for file in "${requirement_files[@]}"; do
  stamp=".venv/.${file%.txt}.sha256"
  if ! sha256sum -c "$stamp" --status 2>/dev/null; then
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -r "$file"
    sha256sum "$file" > "$stamp"
  fi
done

stamp="node_modules/.package-lock.sha256"
if ! sha256sum -c "$stamp" --status 2>/dev/null; then
  # --ignore-scripts: we copy built files only; swagger-ui-dist's @scarf/scarf postinstall would phone home
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  sha256sum package-lock.json > "$stamp"
fi
mkdir -p kpiapp/static/vendor
cp -u node_modules/htmx.org/dist/htmx.min.js node_modules/@picocss/pico/css/pico.min.css kpiapp/static/vendor/
cp -u node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
   node_modules/vega/build/vega.min.js node_modules/vega-lite/build/vega-lite.min.js \
   node_modules/vega-embed/build/vega-embed.min.js kpiapp/static/vendor/

bash scripts/i18n.sh compile >/dev/null 2>&1
mkdir -p instance
