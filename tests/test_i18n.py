"""Both catalogues are complete: every string the code and templates use is translated."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.factories import UserFactory
from tests.helpers import signed_in_client

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "lazy_gettext", "-k", "N_", "--ignore-dirs=.*", "-o", str(pot), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])  # babel resolves zh_CN to zh_Hans_CN
def test_catalogue_is_complete(extracted, lang):
    with (ROOT / "kpiapp/translations" / lang / "LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = {m.id: m.string for m in read_po(handle) if m.id}
    missing = sorted(msgid for msgid in extracted if not catalog.get(msgid))
    assert missing == [], f"untranslated in {lang} (run scripts/i18n.sh extract): {missing[:20]}"
    bad = [msgid for msgid in extracted
           if set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(catalog[msgid]))]
    assert bad == [], f"placeholders differ in {lang}: {bad}"


def test_pages_follow_the_users_language(app):
    user = UserFactory(locale="zh_CN")
    client = signed_in_client(app, user)
    assert "退出登录" in client.get("/").get_data(as_text=True)


def test_browser_language_is_the_default(client):
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "登录" in page and 'lang="zh-CN"' in page
    assert "Sign in" in client.get("/login", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
