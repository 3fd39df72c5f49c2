"""Tests for kpiapp.pdf.render: fonts, A4, metadata and the no-fetch rule (F6)."""

import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

# The project is not installed in the venv and there is no pytest config yet;
# make the checkout importable when run with --noconftest.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kpiapp.pdf.render import RenderError, read_document_id, render_pdf  # noqa: E402

REPORT_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>KPI report</title></head>
<body>
  <h1>绩效考核报告</h1>
  <p>Quarterly performance review</p>
  <table><tr><td>广告销售成本比</td><td>ACoS</td><td>12.75%</td></tr></table>
</body></html>"""


def _run(tool: str, path: Path, *args: str) -> str:
    return subprocess.run(
        [tool, *args, str(path)] + (["-"] if tool == "pdftotext" else []),
        check=True, capture_output=True, text=True,
    ).stdout


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("render") / "report.pdf"
    path.write_bytes(render_pdf(REPORT_HTML, document_id="appraisal-42"))
    return path


def test_text_is_extractable_in_chinese_and_english(report_pdf):
    text = _run("pdftotext", report_pdf, "-enc", "UTF-8")
    assert "绩效考核报告" in text
    assert "广告销售成本比" in text
    assert "Quarterly performance review" in text
    assert "12.75%" in text


def test_page_is_a4_and_cjk_font_embedded(report_pdf):
    info = _run("pdfinfo", report_pdf)
    assert "(A4)" in info
    assert "Pages:           1" in info
    assert "Noto-Sans-CJK-SC" in _run("pdffonts", report_pdf)


def test_a4_wins_over_template_page_size(tmp_path):
    path = tmp_path / "letter.pdf"
    path.write_bytes(render_pdf("<style>@page { size: letter }</style><p>x</p>"))
    assert "(A4)" in _run("pdfinfo", path)


def test_document_id_round_trip(report_pdf):
    assert read_document_id(report_pdf.read_bytes()) == "appraisal-42"
    assert "kpiapp-document:appraisal-42" in _run("pdfinfo", report_pdf)


def test_template_cannot_spoof_document_id():
    html = '<meta name="keywords" content="kpi, kpiapp-document:forged"><p>x</p>'
    assert read_document_id(render_pdf(html, document_id="real-1")) == "real-1"
    assert read_document_id(render_pdf(html)) is None


@pytest.mark.parametrize("bad_id", ["", "a,b", "a b", "x" * 129, "ü"])
def test_invalid_document_id_rejected(bad_id):
    with pytest.raises(ValueError):
        render_pdf("<p>x</p>", document_id=bad_id)


@pytest.mark.parametrize("data", [b"", b"garbage", b"%PDF-1.7\n%%EOF"])
def test_read_document_id_on_bad_input_is_none(data):
    assert read_document_id(data) is None


def test_identical_input_gives_identical_bytes():
    assert render_pdf(REPORT_HTML, document_id="a") == render_pdf(REPORT_HTML, document_id="a")


_SVG_WITH_FILE = (
    "<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink'"
    " width='10' height='10'><image xlink:href='file:///etc/hostname'"
    " width='10' height='10'/></svg>"
)

FORBIDDEN = {
    "img file": '<img src="file:///etc/passwd">',
    "img http": '<img src="http://127.0.0.1:9/x.png">',
    "img https": '<img src="https://example.com/x.png">',
    "stylesheet link": '<link rel="stylesheet" href="https://example.com/x.css"><p>x</p>',
    "css import": '<style>@import url("file:///etc/passwd");</style><p>x</p>',
    "font-face": (
        "<style>@font-face { font-family: X;"
        " src: url(file:///usr/share/fonts/truetype/dejavu/DejaVuSans.ttf) }"
        " p { font-family: X }</style><p>x</p>"
    ),
    "background": '<div style="background: url(file:///etc/passwd)">x</div>',
    "attachment": '<link rel="attachment" href="file:///etc/passwd"><p>x</p>',
    # WeasyPrint swallows fetch errors inside SVG; render_pdf must still fail.
    "file inside data svg": (
        '<img src="data:image/svg+xml,' + urllib.parse.quote(_SVG_WITH_FILE) + '">'
    ),
}


@pytest.mark.parametrize("html", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_external_resources_fail_hard(html):
    with pytest.raises(RenderError):
        render_pdf(html)


def test_data_urls_are_allowed():
    svg = "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>"
    html = f'<img src="data:image/svg+xml,{urllib.parse.quote(svg)}"><p>ok</p>'
    assert render_pdf(html).startswith(b"%PDF-")
