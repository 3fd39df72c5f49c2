"""Fill catalogue entries: `python scripts/fill_po.py zh_Hans_CN translations.json`.

The English catalogue needs no file: every entry gets msgstr = msgid, so both
catalogues are complete and the completeness test can hold both to it.
"""
import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

DIR = Path(__file__).resolve().parent.parent / "kpiapp" / "translations"


def fill(lang, table):
    path = DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        if lang == "en":
            message.string = message.id if isinstance(message.id, str) else tuple(message.id)
        elif key in table:
            message.string = table[key]
        elif not message.string:
            missing.append(key)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100)
    return missing


if __name__ == "__main__":
    lang = sys.argv[1]
    table = json.loads(Path(sys.argv[2]).read_text("utf-8")) if len(sys.argv) > 2 else {}
    for msgid in fill(lang, table):
        print(json.dumps(msgid, ensure_ascii=False))
