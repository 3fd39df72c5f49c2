"""The signed PDF of an accepted contract report (docs/contracts.md, "The report flow").

Issued once the client accepts a revision, in the client's language, signed with the
organisation's key (reports.services.render_and_sign), stored in contract_document
(append-only) and announced by a 'contract_report.sign' audit event. `/verify` finds it by
its document id (reports.services.verify_document). Also home of the words for a revision's
lines and fee steps, shared by the PDF, the XLSX export and the pages.
"""
from __future__ import annotations

import hashlib
from types import SimpleNamespace

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select
from werkzeug.utils import secure_filename

from kpiapp import audit, audit_anchor, presentation
from kpiapp.extensions import db
from kpiapp.i18n import N_
from kpiapp.models import ContractDocument, ContractReport
from kpiapp.models.base import utcnow
from kpiapp.reports.services import (ReportError, _render, new_document_id, render_and_sign,
                                     signature_reason)

SIGN_REASON = N_("Contract report accepted by the client")
FEE_LABELS = {
    "base": N_("Base service fee"),
    "commission": N_("Commission"),
    "subtotal": N_("Subtotal"),
    "adjustment": N_("Adjustment by score band"),
    "bonus": N_("Bonus"),
    "total": N_("Fee for the period"),
}
PROVENANCE_REASONS = {
    "no_scope": N_("No stores are in this clause's scope."),
    "no_data": N_("No imported data for these stores in this period."),
    "missing_rates": N_("An exchange rate is missing, so the value cannot be computed."),
    "unknown_metric": N_("This metric is not in the metric dictionary."),
}


def report_lang(lang):
    """The document's language: zh_CN for any Chinese, else en."""
    text = str(lang or "").replace("-", "_").lower()
    return "zh_CN" if text.startswith("zh") else "en"


# ---- words for lines and fee steps -------------------------------------------------------

def fee_step_label(step):
    return gettext(FEE_LABELS.get(step["code"], step["code"]))


def fee_step_detail(step, lang="en"):
    """The inputs of a fee step in words (the page, the PDF and the XLSX)."""
    p = step.get("params") or {}
    number = lambda v: presentation.number(v, lang)  # noqa: E731
    if step["code"] == "commission":
        return gettext("%(pct)s%% of %(base)s", pct=number(p.get("pct")), base=number(p.get("base")))
    if step["code"] == "adjustment":
        return gettext("%(pct)s%% of the subtotal (score %(score)s)", pct=number(p.get("pct")),
                       score=number(p.get("score")))
    if step["code"] == "bonus":
        return gettext("score %(score)s is at least %(threshold)s", score=number(p.get("score")),
                       threshold=number(p.get("threshold")))
    return ""


def fee_rows(fee, lang):
    return [{"code": s["code"], "label": fee_step_label(s),
             "amount": presentation.number(s["amount"], lang, 2, 2), "detail": fee_step_detail(s, lang)}
            for s in (fee or {}).get("steps") or ()]


def line_explanation(line, lang, currency):
    item = SimpleNamespace(explanation=line.get("explanation"), is_manual=line.get("kind") == "manual",
                           manager_score=line.get("value"), final_points=line.get("points"), rule={},
                           name=line.get("name"))
    return presentation.explain(item, lang, line.get("unit"), currency)


def line_rows(revision, lang):
    currency = current_app.config["BASE_CURRENCY"]
    rows = []
    for line in revision.lines or ():
        unit = line.get("unit")
        provenance = line.get("provenance") or {}
        rows.append({
            **line,
            **{name: presentation.in_unit(line.get(name), unit, lang, currency)
               for name in ("target", "threshold", "stretch", "value", "data_value")},
            "points_text": presentation.number(line.get("points"), lang),
            "explanation_text": line_explanation(line, lang, currency),
            "override_value": presentation.in_unit((line.get("override") or {}).get("value"), unit, lang,
                                                   currency),
            "inputs": sorted((provenance.get("inputs") or {}).items()),
            "reason_text": gettext(PROVENANCE_REASONS[provenance["reason"]])
            if provenance.get("reason") in PROVENANCE_REASONS else "",
        })
    return rows


# ---- issuing ------------------------------------------------------------------------------

def revision_of(report, number=None):
    number = report.revision if number is None else number
    return next(r for r in report.revisions if r.number == number)


def acceptance_of(report, number):
    """The client's acceptance event of revision `number`, else None."""
    return next((e for e in reversed(report.events) if e.step == "accept" and e.revision == number), None)


def document_context(report, lang, revision):
    return {
        "report": report, "contract": report.contract, "company": report.contract.client_company,
        "version": report.version, "revision": revision, "rows": line_rows(revision, lang),
        "fee": revision.fee or {}, "fee_rows": fee_rows(revision.fee, lang),
        "fee_total": presentation.number((revision.fee or {}).get("total"), lang, 2, 2),
        "commission_base": presentation.number(((revision.fee or {}).get("commission") or {}).get("value"),
                                               lang),
        "score": presentation.number(revision.score, lang), "events": list(report.events),
        "acceptance": acceptance_of(report, revision.number),
        "stores": [s.store for s in report.version.stores],
    }


def render_html(report, lang, document_id, revision=None):
    revision = revision or revision_of(report)
    with force_locale(lang):
        context = document_context(report, lang, revision)
        return _render("pdf/contract_report.html", lang, document_id, **context)


def issue_document(report, actor, lang) -> ContractDocument:
    """Sign and store the PDF of the report's current (accepted) revision in `lang`."""
    lang = report_lang(lang)
    document_id = new_document_id()
    html = render_html(report, lang, document_id)
    signed, material = render_and_sign(html, document_id, signature_reason(SIGN_REASON, lang))
    digest = hashlib.sha256(signed).hexdigest()
    document = ContractDocument(document_id=document_id, report_id=report.id, revision=report.revision,
                                lang=lang, pdf=signed, size=len(signed), sha256=digest,
                                signer_subject=material.subject[:255], issued_at=utcnow(),
                                accepted_by_id=actor.id if actor is not None else None)
    db.session.add(document)
    db.session.flush()
    audit.record(db.session, "contract_report.sign", "contract_report", report.id,
                 after={"document_id": document_id, "revision": report.revision, "lang": lang,
                        "sha256": digest, "accepted_by_id": document.accepted_by_id},
                 actor=audit.actor_for(actor) if actor is not None else None)
    audit_anchor.anchor_after_commit(db.session, "issue")
    return document


# ---- reading ------------------------------------------------------------------------------

def document_for(report) -> ContractDocument | None:
    """The newest signed document of the report (None before acceptance)."""
    return db.session.execute(select(ContractDocument).where(ContractDocument.report_id == report.id)
                              .order_by(ContractDocument.id.desc()).limit(1)).scalar_one_or_none()


def documents_of(report) -> list:
    return db.session.execute(select(ContractDocument).where(ContractDocument.report_id == report.id)
                              .order_by(ContractDocument.id)).scalars().all()


def get_document(document_id) -> ContractDocument | None:
    return db.session.execute(select(ContractDocument).where(ContractDocument.document_id == str(document_id))
                              ).scalar_one_or_none()


def document_bytes(doc) -> bytes:
    """The stored signed PDF, after checking it still hashes to the stored SHA-256."""
    query = select(ContractDocument.pdf).where(ContractDocument.id == doc.id)
    data = bytes(db.session.execute(query).scalar_one())
    if hashlib.sha256(data).hexdigest() != doc.sha256:
        current_app.logger.error("stored contract document %s does not match its sha256", doc.document_id)
        raise ReportError("corrupt", "The stored copy of this report is damaged; it was not sent.", 500)
    return data


def document_filename(doc) -> str:
    report = db.session.get(ContractReport, doc.report_id)
    stem = f"contract-{report.contract.code}-{report.period_start.isoformat()[:7]}-r{doc.revision}-{doc.lang}"
    return (secure_filename(stem) or f"contract-report-{doc.document_id}") + ".pdf"


def superseded_by(doc):
    """The document of a later revision of the same report, else None."""
    return db.session.execute(select(ContractDocument).where(
        ContractDocument.report_id == doc.report_id, ContractDocument.revision > doc.revision)
        .order_by(ContractDocument.id.desc()).limit(1)).scalar_one_or_none()

