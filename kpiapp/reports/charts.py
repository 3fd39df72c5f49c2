"""Server-side SVG charts, for PDFs and web pages alike.

Plain SVG with presentation attributes only (no <style>, no style="", no script), so it
passes the page CSP and WeasyPrint renders it without fetching anything. Every text
is escaped. Widths are in SVG user units; the element scales to its container.
"""

from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from kpiapp import presentation
from kpiapp.web import ui_lang

FONT = "Noto Sans CJK SC, Noto Sans, sans-serif"
BAR = "#2f6f9f"
OVER = "#3a8a4f"
MISSING = "#b0b0b0"
GRID = "#9aa5b1"


def _num(value, places=1):
    return presentation.number(value, ui_lang(), places)


def _clip(text, width):
    """Cut `text` to about `width` Latin characters (a CJK character counts as two)."""
    out, used = "", 0
    for char in str(text):
        used += 2 if ord(char) > 0x2E7F else 1
        if used > width:
            return out + "…"
        out += char
    return out


def points_bars(rows, lang=None, width=680, title=None):
    """Horizontal bars of points per KPI item against 100, with each item's weight.

    rows: [(label, points or None, weight)]. Points above 100 (stretch) extend past the
    100 line in another colour; a missing score shows as an empty, labelled row. `lang`
    ('en', 'zh_CN') forces the labels' language; None uses the request's.
    """
    if lang is not None:
        with force_locale(lang):
            return points_bars(rows, None, width, title)
    rows = list(rows)
    label_w, value_w, row_h, top = 220, 120, 24, 22
    scale_max = max([Decimal(120)] + [Decimal(p) for _l, p, _w in rows if p is not None])
    bar_w = width - label_w - value_w
    height = top + row_h * len(rows) + 8
    x_of = lambda points: label_w + float(Decimal(points) / scale_max) * bar_w  # noqa: E731
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" font-family="{FONT}" font-size="11">'
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for mark in (0, 50, 100):
        x = x_of(mark)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 4}" stroke="{GRID}" '
            f'stroke-width="{1 if mark == 100 else 0.5}" '
            f'stroke-dasharray="{"none" if mark == 100 else "3 3"}"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{top - 9}" text-anchor="middle" fill="#555" font-size="9">{mark}</text>'
        )
    for n, (label, points, weight) in enumerate(rows):
        y = top + n * row_h
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" fill="#222">'
            f"{escape(_clip(label, 32))}</text>"
        )
        if points is None:
            parts.append(
                f'<rect x="{label_w}" y="{y + 4}" width="{bar_w * 0.02:.1f}" height="{row_h - 8}" '
                f'fill="{MISSING}"/>'
            )
            value = "—"
        else:
            points = Decimal(points)
            base = min(points, Decimal(100))
            parts.append(
                f'<rect x="{label_w}" y="{y + 4}" width="{x_of(base) - label_w:.1f}" height="{row_h - 8}" '
                f'fill="{BAR}"/>'
            )
            if points > 100:
                parts.append(
                    f'<rect x="{x_of(100):.1f}" y="{y + 4}" width="{x_of(points) - x_of(100):.1f}" '
                    f'height="{row_h - 8}" fill="{OVER}"/>'
                )
            value = _num(points, 2)
        weight_text = _("weight %(weight)s%%", weight=_num(weight, 2))
        parts.append(
            f'<text x="{width - value_w + 8}" y="{y + 15}" fill="#222">'
            f'<tspan font-weight="bold">{escape(value)}</tspan>'
            f'<tspan fill="#555" dx="6">{escape(weight_text)}</tspan></text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def grade_bars(grades, width=680):
    """Bars of how many people got each grade, with the grade's quota as a tick (if any).

    grades: [{"grade", "count", "max_share" (a fraction or None), "over" (bool)}]; the
    share is measured against the graded total.
    """
    label_w, value_w, row_h, top = 60, 150, 22, 6
    total = sum(g["count"] for g in grades) or 1
    bar_w = width - label_w - value_w
    height = top + row_h * len(grades) + 6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" font-family="{FONT}" font-size="11">'
    ]
    for n, grade in enumerate(grades):
        y = top + n * row_h
        share = grade["count"] / total
        parts.append(
            f'<text x="{label_w - 10}" y="{y + 14}" text-anchor="end" font-weight="bold">'
            f"{escape(grade['grade'])}</text>"
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{max(share * bar_w, 1):.1f}" height="{row_h - 6}" '
            f'fill="{"#b5462f" if grade.get("over") else BAR}"/>'
        )
        if grade.get("max_share") is not None:
            x = label_w + float(grade["max_share"]) * bar_w
            parts.append(
                f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + row_h}" stroke="#222" '
                f'stroke-width="1.5"/>'
            )
        parts.append(
            f'<text x="{width - value_w + 8}" y="{y + 14}">{grade["count"]} · {_num(share * 100, 1)}%</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def css_string(text):
    """A quoted CSS string for `content:` (margin boxes); everything unusual is hex-escaped."""
    out = []
    for char in str(text):
        if char.isascii() and (char.isalnum() or char in " .,:;/()#-_·"):
            out.append(char)
        else:
            out.append(f"\\{ord(char):x} ")
    return Markup('"' + "".join(out) + '"')
