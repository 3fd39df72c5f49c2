"""Which fonts a report embeds (pdffonts): English lists Latin fonts first, CJK only as fallback."""

import subprocess
import threading

from kpiapp.extensions import db
from kpiapp.pdf import render
from kpiapp.reports import services
from tests.reports.helpers import issue


def embedded_fonts(data, tmp_path):
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    listing = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    return [line.split()[0].split("+")[-1] for line in listing.splitlines()[2:]]


def has_cjk(fonts):
    return any("CJK" in name for name in fonts)


def test_an_english_report_of_a_latin_name_embeds_no_cjk_font(locked, tmp_path):
    team, (card, _other) = locked
    card.person.name = "Emma Brown"
    db.session.commit()
    fonts = embedded_fonts(services.report_bytes(issue(card, team.hr, "en")), tmp_path)
    assert fonts and not has_cjk(fonts), fonts
    assert any("DejaVu-Sans" in name for name in fonts), fonts


def test_an_english_report_falls_back_to_cjk_for_a_chinese_name(locked, tmp_path):
    team, (card, _other) = locked  # the person is "李雷 Li Lei"
    fonts = embedded_fonts(services.report_bytes(issue(card, team.hr, "en")), tmp_path)
    assert has_cjk(fonts) and any("DejaVu-Sans" in name for name in fonts), fonts


def test_a_chinese_report_embeds_the_cjk_font(locked, tmp_path):
    team, (card, _other) = locked
    card.person.name = "Emma Brown"
    db.session.commit()
    fonts = embedded_fonts(services.report_bytes(issue(card, team.hr, "zh_CN")), tmp_path)
    assert any(name.startswith("Noto-Sans-CJK") for name in fonts), fonts


def test_one_font_configuration_per_thread_and_a_fresh_one_for_font_face():
    mine = render.font_configuration("<p>x</p>")
    assert render.font_configuration("<p>y</p>") is mine
    assert render.font_configuration("<style>@FONT-FACE {}</style>") is not mine
    other = []
    thread = threading.Thread(target=lambda: other.append(render.font_configuration("<p>z</p>")))
    thread.start()
    thread.join()
    assert other[0] is not mine
