"""HTML to PDF rendering with WeasyPrint, with no network or file access.

Security (SECURITY.md F6): the only URLs WeasyPrint may resolve are ``data:``
URLs. Any other reference (``file://``, ``http(s)://``, ...) makes
:func:`render_pdf` raise :class:`RenderError`; nothing is rendered silently.

Determinism: WeasyPrint 70 writes no CreationDate/ModDate and no /ID unless
asked to, and names font subsets from their content, so identical HTML gives
byte-identical PDFs with the same fonts installed. Signing adds a time and a
random ECDSA nonce, so signed files always differ.

Fonts: one WeasyPrint ``FontConfiguration`` per thread is reused for every
report (building one loads every system font: most of a small report's CPU).
It is not thread-safe, so threads never share one; a forked RQ work-horse
builds its own on first use. A document with an ``@font-face`` rule gets a
fresh one, so its fonts never leak into the next report. English documents
(``<html lang="en">``) list Latin fonts first: they embed no CJK font unless
a CJK character (a Chinese name) needs the fallback.

WeasyPrint is imported on first render, not with this module: the app imports this
module at start-up (kpiapp/startup.py, the report services) and WeasyPrint takes about
half a second to import, which a worker or CLI process that renders nothing need not pay.
"""

from __future__ import annotations

import io
import re
import threading
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only; the functions import what they use
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

DOCUMENT_ID_PREFIX = "kpiapp-document:"
DOCUMENT_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# User-origin stylesheet: templates may override the fonts, but "!important"
# in the user origin beats author styles, so every report is A4.
# Chinese documents (and any without a lang) put the CJK font first; English ones the
# Latin fonts, with the CJK font after them for a Chinese name.
CJK_FIRST = ("Noto Sans CJK SC", "Noto Sans", "sans-serif")
LATIN_FIRST = ("Noto Sans", "DejaVu Sans", "Liberation Sans", "Noto Sans CJK SC", "sans-serif")


def font_family(lang: str) -> str:
    """The font stack for a report in ``lang`` (for CSS and for chart SVG alike)."""
    return ", ".join(CJK_FIRST if str(lang).startswith("zh") else LATIN_FIRST)


BASE_CSS = f"""
@page {{ size: A4 !important; }}
html {{ font-family: {font_family("zh")}; }}
html:lang(en) {{ font-family: {font_family("en")}; }}
"""
_per_thread = threading.local()
_FONT_FACE = re.compile(r"@font-face", re.IGNORECASE)


class RenderError(Exception):
    """The HTML could not be rendered, or it referenced a forbidden resource."""


@cache
def _data_only_fetcher_class():
    """The class of :func:`_data_only_fetcher` (made on first use: it subclasses WeasyPrint's)."""
    from weasyprint.urls import URLFetcher

    class _DataOnlyFetcher(URLFetcher):
        """URL fetcher that allows only ``data:`` URLs and remembers refusals.

        WeasyPrint swallows even fatal fetch errors in a few places (e.g. inside
        SVG images), so refusals are also recorded and checked after rendering.
        """

        def __init__(self):
            super().__init__(
                allowed_protocols={"data"}, allow_redirects=False, fail_on_errors=True
            )
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            try:
                return super().fetch(url, headers)
            except Exception:
                self.refused.append(url)
                raise

    return _DataOnlyFetcher


def _data_only_fetcher():
    return _data_only_fetcher_class()()


def render_pdf(html: str, *, document_id: str | None = None) -> bytes:
    """Render ``html`` to A4 PDF bytes.

    ``document_id`` (letters, digits and ``._:-``, at most 128 characters) is
    stored in the PDF Info /Keywords as ``kpiapp-document:<id>``; read it back
    with :func:`read_document_id`. Raises :class:`RenderError` if the HTML
    references anything other than a ``data:`` URL or cannot be rendered.
    """
    if document_id is not None and not DOCUMENT_ID_PATTERN.fullmatch(document_id):
        raise ValueError(f"invalid document id: {document_id!r}")
    from weasyprint.urls import FatalURLFetchingError

    fetcher = _data_only_fetcher()
    try:
        pdf = _write(html, document_id, fetcher)
    except FatalURLFetchingError as exc:
        raise RenderError(f"forbidden resource in report HTML: {exc}") from exc
    except Exception as exc:
        raise RenderError(f"could not render report: {exc}") from exc
    if fetcher.refused:
        raise RenderError(f"forbidden resource in report HTML: {fetcher.refused[0]}")
    return pdf


def font_configuration(html: str = "") -> FontConfiguration:
    """This thread's reusable FontConfiguration (a fresh one for ``@font-face``)."""
    from weasyprint.text.fonts import FontConfiguration

    if _FONT_FACE.search(html):
        return FontConfiguration()
    if getattr(_per_thread, "font_config", None) is None:
        _per_thread.font_config = FontConfiguration()
    return _per_thread.font_config


def _write(html: str, document_id: str | None, fetcher: URLFetcher) -> bytes:
    from weasyprint import CSS, HTML

    font_config = font_configuration(html)
    base_css = CSS(string=BASE_CSS, url_fetcher=fetcher, font_config=font_config)
    document = HTML(string=html, base_url=None, url_fetcher=fetcher).render(
        font_config=font_config, stylesheets=[base_css]
    )
    # Drop any id the template itself claims, so only ours can be read back.
    keywords = [
        k for k in document.metadata.keywords if not k.startswith(DOCUMENT_ID_PREFIX)
    ]
    if document_id is not None:
        keywords.append(DOCUMENT_ID_PREFIX + document_id)
    document.metadata.keywords = keywords
    return document.write_pdf()


def read_document_id(pdf_bytes: bytes) -> str | None:
    """Return the kpiapp document id stored in a PDF (signed or not), or None.

    Reads the newest revision; :func:`kpiapp.pdf.signing.verify_pdf` reads the
    signed revision instead. Never raises on bad input.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        return document_id_from(PdfFileReader(io.BytesIO(pdf_bytes), strict=True))
    except Exception:
        return None


def document_id_from(resolver) -> str | None:
    """Read the id from /Info /Keywords of a pyHanko reader or historical resolver.

    The Info dictionary is read directly: when signing, pyHanko adds an XMP
    stream without the keywords, and its metadata view prefers XMP.
    """
    from pyhanko.pdf_utils import generic

    try:
        info = resolver.trailer_view.raw_get("/Info")
    except KeyError:
        return None
    if isinstance(info, generic.IndirectObject):
        # A historical revision's trailer holds references bound to the newest
        # revision; resolve in the given one so later updates cannot show through.
        info = resolver.get_object(generic.Reference(info.idnum, info.generation, resolver))
    keywords = info.get("/Keywords")
    for keyword in str(keywords or "").split(","):
        keyword = keyword.strip()
        if keyword.startswith(DOCUMENT_ID_PREFIX):
            candidate = keyword[len(DOCUMENT_ID_PREFIX):]
            if DOCUMENT_ID_PATTERN.fullmatch(candidate):
                return candidate
    return None
