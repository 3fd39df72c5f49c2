"""The weekly review PDF draws each row's weekly values as a sparkline: the page's spec
(charts.trend_lines) rendered to static SVG, the values still written beside it."""
import re

import pytest

from tests.web.test_review_screens import fixed_today, org  # noqa: F401  (fixtures)

pytestmark = pytest.mark.rollback


@pytest.fixture
def rendered(monkeypatch):
    pages = []

    def capture(html):
        pages.append(html)
        return b"%PDF-1.7 captured"

    monkeypatch.setattr("kpiapp.objectives.routes.reviews.render_pdf", capture)
    return pages


def test_the_pdf_has_a_sparkline_per_row(org, browser, rendered):  # noqa: F811
    b = browser(org.boss)
    page = b.page(org.url)
    rows = page.count("data-chart-spec")
    assert b.get(org.act + "/export.pdf").status_code == 200
    html = rendered[-1]
    cells = re.findall(r'<td class="spark">(.*?)</td>', html, re.S)
    assert len(cells) == rows == 4
    drawn = [c for c in cells if '<div class="sparkline"><svg' in c]
    assert drawn and all("<path" in c for c in drawn)
    assert all('class="small muted"' in c for c in cells)  # the numbers stay readable beside the line
    assert "$1,000.00" in html  # Zed's GMV now, as on the page


def test_the_chinese_pdf_draws_them_too(org, browser, rendered):  # noqa: F811
    org.boss.locale = "zh_CN"
    from kpiapp.extensions import db
    db.session.commit()
    assert browser(org.boss).get(org.act + "/export.pdf").status_code == 200
    html = rendered[-1]
    assert "周会复盘" in html and html.count('<div class="sparkline"><svg') >= 1
