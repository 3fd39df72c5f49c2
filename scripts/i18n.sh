#!/usr/bin/env bash
# Extract messages, update both catalogues, compile.  Usage: bash scripts/i18n.sh [extract|compile]
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=.venv/bin/pybabel
DIR=kpiapp/translations
if [[ "${1:-compile}" == "extract" ]]; then
  $PYBABEL extract -F babel.cfg -k _l -k lazy_gettext -k N_ --no-location --sort-output \
    --ignore-dirs=".*" -o "$DIR/messages.pot" . >/dev/null 2>&1
  for lang in zh_Hans_CN en; do
    if [[ -f "$DIR/$lang/LC_MESSAGES/messages.po" ]]; then
      $PYBABEL update --no-fuzzy-matching -i "$DIR/messages.pot" -d "$DIR" -l "$lang" >/dev/null
    else
      $PYBABEL init -i "$DIR/messages.pot" -d "$DIR" -l "$lang" >/dev/null
    fi
  done
fi
$PYBABEL compile -d "$DIR"
