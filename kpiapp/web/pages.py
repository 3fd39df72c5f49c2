"""Responses every blueprint builds: an HTMX fragment or the whole page, downloads, the language."""
from flask import current_app, render_template, request


def is_fragment_request():
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page_or_fragment(page_template, fragment_template, status=200, **context):
    """The fragment for an HTMX request, else the whole page; both vary on HX-Request."""
    template = fragment_template if is_fragment_request() else page_template
    response = current_app.make_response((render_template(template, **context), status))
    response.vary.add("HX-Request")
    return response


def attachment(body, filename, mimetype):
    """A download: always an attachment (security_headers adds no-store)."""
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def ui_lang():
    """'zh_CN' or 'en': the language services and PDFs take (babel says zh_Hans_CN)."""
    from flask_babel import get_locale

    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"
