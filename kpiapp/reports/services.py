"""Signed PDF reports: issue, store, download, verify, bulk-issue (docs/reports.md).

Conventions as in the appraisal services: the actor is passed in (None = the system:
CLI, demo seeding), services flush but never commit (the batch runner, a job body,
commits per report so progress is visible), refusals raise ReportError with a stable
`code`. Nothing here writes a scorecard row: locked scorecards are frozen by triggers.
"""

import hashlib
import io
import json
import secrets
import threading
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload, undefer
from werkzeug.utils import secure_filename

from kpiapp import audit, audit_anchor, charts, jobs, policy, presentation
from kpiapp.appraisal import scoring
from kpiapp.appraisal.services import cycle_distribution, grade_bands
from kpiapp.chart_labels import chart_labels
from kpiapp.extensions import db
from kpiapp.i18n import N_
from kpiapp.metrics.services import item_definition
from kpiapp.models import Acknowledgement, ContractDocument, Cycle, Role, Scorecard, ScorecardEvent, User
from kpiapp.models.base import utcnow
from kpiapp.models.reports import BatchStatus, IssuedReport, ReportBatch, ReportKind
from kpiapp.pdf.render import font_family, read_document_id, render_pdf
from kpiapp.pdf.signing import (
    SigningConfigError,
    SigningError,
    ensure_demo_certificate,
    load_signer,
    sign_pdf,
    trust_roots_from,
    verify_pdf,
)
from kpiapp.reports.pdf_text import css_string

REPORT_LANGS = ("en", "zh_CN")
# The signature's /Reason, written in the report's language (signature_reason)
ISSUE_REASON = N_("Appraisal locked")
SUMMARY_REASON = N_("Cycle summary")
MAX_VERIFY_BYTES = 20 * 1024 * 1024
BATCH_TIMEOUT = 3600  # seconds
_signing_lock = threading.Lock()


class ReportError(Exception):
    """A refused report operation; `code` is stable for the UI, CLI and tests."""

    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


# ---- signing material -------------------------------------------------------------------


@dataclass(frozen=True)
class SigningMaterial:
    signer: object
    trust_roots: list
    subject: str
    org_name: str
    timestamp_url: str | None


def signing_material(app=None):
    """The signer and trust roots, loaded once per process (first use; in production a
    configured key is loaded at start-up by kpiapp/startup.py, the demo CA never is).

    From SIGNING_P12_PATH or SIGNING_KEY_PATH + SIGNING_CERT_PATH (passphrase in
    SIGNING_P12_PASSPHRASE_FILE, roots in SIGNING_CA_PATHS); with none set, a demo
    organisation CA and signing certificate are generated into instance/signing/.
    """
    app = app or current_app._get_current_object()
    cached = app.extensions.get("kpiapp.signing")
    if cached is not None:
        return cached
    with _signing_lock:
        cached = app.extensions.get("kpiapp.signing") or _load_material(app.config, Path(app.instance_path))
        app.extensions["kpiapp.signing"] = cached
    return cached


def signing_configured(config):
    return any(config.get(k) for k in ("SIGNING_P12_PATH", "SIGNING_KEY_PATH", "SIGNING_CERT_PATH"))


def signing_health(app=None):
    """For /healthz: 'ok', 'demo' (no key configured: demo CA on first use), 'expired' or 'broken'."""
    app = app or current_app._get_current_object()
    if not signing_configured(app.config):
        return "demo"
    try:
        cert = signing_material(app).signer.signing_cert
    except (SigningError, OSError, ValueError) as error:
        app.logger.warning("healthz signing: %s", error)
        return "broken"
    return "ok" if cert.not_valid_before <= utcnow() <= cert.not_valid_after else "expired"


def _load_material(config, instance_dir):
    org = config.get("ORG_NAME") or "kpiapp"
    p12, key, cert = (config.get(k) for k in ("SIGNING_P12_PATH", "SIGNING_KEY_PATH", "SIGNING_CERT_PATH"))
    ca_paths = [p for p in (config.get("SIGNING_CA_PATHS") or ()) if p]
    if p12 or key or cert:
        if not ca_paths:
            raise SigningConfigError("SIGNING_CA_PATHS must name the CA certificate(s) that verify reports")
        pass_file = config.get("SIGNING_P12_PASSPHRASE_FILE")
        passphrase = Path(pass_file).read_bytes().strip() if pass_file else None
        signer = load_signer(
            p12_path=p12 or None,
            key_path=key or None,
            cert_path=cert or None,
            passphrase=passphrase,
            ca_chain=ca_paths,
        )
    else:
        pki = ensure_demo_certificate(instance_dir / "signing", org)
        ca_paths = [pki.ca_cert]
        signer = load_signer(p12_path=pki.p12, passphrase=pki.passphrase())
    subject = signer.signing_cert.subject.human_friendly
    return SigningMaterial(
        signer, trust_roots_from(ca_paths), subject, org, config.get("TIMESTAMP_URL") or None
    )


# ---- reading ----------------------------------------------------------------------------


def check_lang(lang):
    lang = "zh_CN" if str(lang or "").replace("-", "_").lower() in ("zh", "zh_cn", "zh_hans_cn") else lang
    if lang not in REPORT_LANGS:
        raise ReportError("bad_lang", f"Language must be one of {', '.join(REPORT_LANGS)}.", 422)
    return lang


def get_report(document_id):
    return db.session.execute(
        select(IssuedReport).where(IssuedReport.document_id == str(document_id))
    ).scalar_one_or_none()


def visible_reports(user, kind=None, before=None):
    """A query of the reports `user` may see, newest first (the filter comes from policy);
    `before` (a report id) starts after that report, for keyset paging."""
    query = select(IssuedReport).where(policy.visible_reports_filter(user)).options(
        selectinload(IssuedReport.person), selectinload(IssuedReport.cycle))
    if kind is not None:
        query = query.where(IssuedReport.kind == kind)
    if before is not None:
        query = query.where(_older_than(before))
    return query.order_by(IssuedReport.issued_at.desc(), IssuedReport.id.desc())


def _older_than(report_id):
    """Rows after `report_id` in (issued_at desc, id desc) order; none for an unknown id."""
    issued = select(IssuedReport.issued_at).where(IssuedReport.id == report_id).scalar_subquery()
    return or_(IssuedReport.issued_at < issued,
               and_(IssuedReport.issued_at == issued, IssuedReport.id < report_id))


def reports_of_scorecard(scorecard):
    query = select(IssuedReport).where(IssuedReport.scorecard_id == scorecard.id).order_by(IssuedReport.id)
    return db.session.execute(query).scalars().all()


def superseded_by(report):
    """The newer scorecard (or summary report) that replaced this document, else None."""
    if report.kind == ReportKind.cycle_summary:
        query = select(IssuedReport).where(
            IssuedReport.kind == ReportKind.cycle_summary,
            IssuedReport.cycle_id == report.cycle_id,
            IssuedReport.lang == report.lang,
            IssuedReport.id > report.id,
        )
        return db.session.execute(query.order_by(IssuedReport.id.desc()).limit(1)).scalar_one_or_none()
    query = select(Scorecard).where(
        Scorecard.cycle_id == report.cycle_id,
        Scorecard.person_id == report.person_id,
        Scorecard.version > report.scorecard_version,
    )
    return db.session.execute(query.order_by(Scorecard.version.desc()).limit(1)).scalar_one_or_none()


def is_superseded(report):
    return superseded_by(report) is not None


def superseded_checker(reports):
    """is_superseded for a whole list: two grouped queries instead of one per report."""
    summary = ReportKind.cycle_summary
    cards = {(r.cycle_id, r.person_id) for r in reports if r.kind != summary}
    sums = {(r.cycle_id, r.lang) for r in reports if r.kind == summary}
    newest_version = dict(_newest(select(Scorecard.cycle_id, Scorecard.person_id, func.max(Scorecard.version))
                                  .where(Scorecard.cycle_id.in_({c for c, _ in cards}),
                                         Scorecard.person_id.in_({p for _, p in cards}))
                                  .group_by(Scorecard.cycle_id, Scorecard.person_id), cards))
    newest_summary = dict(_newest(select(IssuedReport.cycle_id, IssuedReport.lang, func.max(IssuedReport.id))
                                  .where(IssuedReport.kind == summary,
                                         IssuedReport.cycle_id.in_({c for c, _ in sums}))
                                  .group_by(IssuedReport.cycle_id, IssuedReport.lang), sums))

    def check(report):
        if report.kind == summary:
            return newest_summary.get((report.cycle_id, report.lang), report.id) > report.id
        newest = newest_version.get((report.cycle_id, report.person_id), report.scorecard_version)
        return newest > report.scorecard_version

    return check


def _newest(query, keys):
    if not keys:
        return []
    return [((a, b), newest) for a, b, newest in db.session.execute(query)]


def report_bytes(report):
    """The stored signed PDF, after checking it still hashes to the stored SHA-256."""
    data = bytes(
        db.session.execute(select(IssuedReport.pdf).where(IssuedReport.id == report.id)).scalar_one()
    )
    if hashlib.sha256(data).hexdigest() != report.sha256:
        current_app.logger.error("stored report %s does not match its sha256", report.document_id)
        raise ReportError("corrupt", "The stored copy of this report is damaged; it was not sent.", 500)
    return data


def report_filename(report):
    if report.kind == ReportKind.cycle_summary:
        stem = f"cycle-summary-{report.cycle.name}-{report.lang}-{report.document_id[:8]}"
    else:
        person = secure_filename(report.person.name) or f"person-{report.person_id}"
        version = f"v{report.scorecard_version}"
        stem = f"report-{person}-{report.cycle.name}-{version}-{report.lang}-{report.document_id[:8]}"
    return (secure_filename(stem) or f"report-{report.document_id}") + ".pdf"


# ---- issuing ----------------------------------------------------------------------------


def _require_issuer(actor):
    if actor is not None and not policy.has_permission(actor, "reports.issue"):
        raise ReportError("forbidden", "Only HR and admins issue reports.", 403)


def _by_key(key):
    return db.session.execute(select(IssuedReport).where(IssuedReport.issue_key == key)).scalar_one_or_none()


def issue_report(scorecard_id, actor=None, lang="en", *, batch_id=None):
    """Issue (render, sign, store) the report of a LOCKED scorecard version in `lang`.

    Idempotent: the same scorecard version and language return the existing document.
    `actor=None` is the system (CLI, demo); a user needs the `reports.issue` permission.
    """
    lang = check_lang(lang)
    card = db.session.get(Scorecard, scorecard_id)
    if card is None:
        raise ReportError("not_found", f"Scorecard {scorecard_id} not found.", 404)
    _require_issuer(actor)
    if not card.is_locked:
        raise ReportError("not_locked", f"Scorecard {card.id} is not locked (state: {card.state}).", 409)
    key = f"scorecard:{card.id}:{lang}"
    existing = _by_key(key)
    if existing is not None:
        return existing
    document_id = new_document_id()
    html = render_scorecard_html(card, lang, document_id)
    return _store(
        html,
        document_id,
        key,
        actor,
        kind=ReportKind.scorecard,
        lang=lang,
        cycle_id=card.cycle_id,
        scorecard_id=card.id,
        scorecard_version=card.version,
        person_id=card.person_id,
        reason=ISSUE_REASON,
        batch_id=batch_id,
    )


def issue_cycle_summary(cycle_id, actor=None, lang="en"):
    """Issue HR's summary of a cycle; idempotent while its scorecards are unchanged."""
    lang = check_lang(lang)
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise ReportError("not_found", f"Cycle {cycle_id} not found.", 404)
    _require_issuer(actor)
    cards = latest_scorecards(cycle.id)
    fingerprint = hashlib.sha256(
        json.dumps(sorted((c.id, c.version, str(c.state)) for c in cards)).encode()
    ).hexdigest()[:24]
    key = f"cycle:{cycle.id}:{lang}:{fingerprint}"
    existing = _by_key(key)
    if existing is not None:
        return existing
    document_id = new_document_id()
    html = render_summary_html(cycle, cards, lang, document_id)
    return _store(
        html,
        document_id,
        key,
        actor,
        kind=ReportKind.cycle_summary,
        lang=lang,
        cycle_id=cycle.id,
        reason=SUMMARY_REASON,
    )


def new_document_id():
    return secrets.token_urlsafe(16)


def render_and_sign(html, document_id, reason):
    """PDF bytes signed with the organisation's key (bench/report_bench.py times this)."""
    material = signing_material()
    pdf = render_pdf(html, document_id=document_id)
    return sign_pdf(
        pdf,
        material.signer,
        reason=reason,
        location=material.org_name,
        org_name=material.org_name,
        timestamp_url=material.timestamp_url,
    ), material


def signature_reason(reason, lang):
    """The signature's reason in the report's language; the verify page reads it back."""
    with force_locale(lang):
        return gettext(reason)


def _store(html, document_id, key, actor, *, reason, **columns):
    signed, material = render_and_sign(html, document_id, signature_reason(reason, columns["lang"]))
    digest = hashlib.sha256(signed).hexdigest()
    report = IssuedReport(
        document_id=document_id,
        issue_key=key,
        pdf=signed,
        size=len(signed),
        sha256=digest,
        signer_subject=material.subject[:255],
        issued_at=utcnow(),
        issued_by_id=actor.id if actor is not None else None,
        **columns,
    )
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:  # a concurrent request issued the same version first: use theirs
        return _by_key(key)
    audit.record(
        db.session,
        "report.issue",
        "issued_report",
        report.id,
        after={
            "document_id": document_id,
            "kind": report.kind,
            "scorecard_id": report.scorecard_id,
            "version": report.scorecard_version,
            "lang": report.lang,
            "sha256": digest,
        },
        actor=audit.actor_for(actor) if actor is not None else None,
    )
    audit_anchor.anchor_after_commit(db.session, "issue")
    return report


# ---- the scorecard report's content -------------------------------------------------------

def metric_definition(item, lang):
    """(name, formula, includes, unit, version) of the metric definition the item used."""
    spec = item_definition(item)
    if spec is None:
        return None
    zh = lang == "zh_CN"
    return {
        "name": spec.name_zh if zh else spec.name_en,
        "formula": spec.formula,
        "includes": spec.includes_zh if zh else spec.includes_en,
        "unit": spec.unit if spec.unit in presentation.UNITS else None,
        "version": getattr(spec, "version", None),
    }


def provenance_lines(provenance, limit=8):
    lines = []
    for key, value in (provenance or {}).items():
        text = (
            value
            if isinstance(value, str)
            else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        )
        lines.append((str(key), text[:300]))
    return lines[:limit]


def okr_lines(item, lang):
    """The key results behind an OKR attainment item: objective, title, progress and weight."""
    return [{"objective": kr.get("objective"), "title": kr.get("title"),
             "progress": presentation.number(presentation.to_decimal(kr.get("progress")), lang) + " %"
             if kr.get("progress") is not None else "—",
             "weight": presentation.number(presentation.to_decimal(kr.get("weight")), lang)}
            for kr in (item.provenance or {}).get("key_results", [])]


def item_rows(card, lang):
    currency = current_app.config["BASE_CURRENCY"]
    rows = []
    for item in card.items:
        definition = metric_definition(item, lang)
        unit = definition["unit"] if definition else None
        points = presentation.to_decimal(item.final_points)
        weight = presentation.to_decimal(item.weight) or Decimal(0)
        contribution = scoring.quantize_points(points * weight / 100) if points is not None else None
        rows.append(
            {
                "item": item,
                "definition": definition,
                "name": item.name,
                "manual": item.is_manual,
                **{
                    name: presentation.in_unit(getattr(item, name), unit, lang, currency)
                    for name in ("target", "threshold", "stretch", "actual")
                },
                "points": presentation.number(points, lang),
                "points_value": points,
                "weight": presentation.number(weight, lang),
                "weight_value": weight,
                "contribution": presentation.number(contribution, lang),
                "explanation": presentation.explain(item, lang, unit, currency),
                "provenance": provenance_lines(item.provenance),
                "okr": okr_lines(item, lang) if item.is_okr else None,
                "data_as_of": item.data_as_of,
                "scale_max": (item.rule or {}).get("scale_max"),
            }
        )
    return rows


def scorecard_context(card, lang):
    rows = item_rows(card, lang)
    events = (
        db.session.execute(
            select(ScorecardEvent)
            .where(ScorecardEvent.scorecard_id == card.id)
            .order_by(ScorecardEvent.at, ScorecardEvent.id)
        )
        .scalars()
        .all()
    )
    ack = db.session.execute(
        select(Acknowledgement).where(Acknowledgement.scorecard_id == card.id)
    ).scalar_one_or_none()
    return {
        "card": card,
        "person": card.person,
        "cycle": card.cycle,
        "rows": rows,
        "events": events,
        "ack": ack,
        "total": presentation.number(card.total, lang),
        "chart": charts.svg(charts.points_bars(
            [(r["name"], r["points_value"], r["weight_value"]) for r in rows], chart_labels()
        ), font_family(lang)),
    }


def _render(template, lang, document_id, **context):
    with force_locale(lang):
        return render_template(
            template,
            lang=lang,
            document_id=document_id,
            org_name=current_app.config.get("ORG_NAME") or "kpiapp",
            css_string=css_string,
            **context,
        )


def render_scorecard_html(card, lang, document_id):
    with force_locale(lang):  # the chart's labels are translated too
        return _render("pdf/scorecard.html", lang, document_id, **scorecard_context(card, lang))


# ---- cycle summary ------------------------------------------------------------------------


def latest_scorecards(cycle_id):
    """Each participant's newest scorecard version in the cycle, by person name."""
    cards = db.session.execute(select(Scorecard).where(Scorecard.cycle_id == cycle_id)).scalars().all()
    latest = {}
    for card in cards:
        if card.person_id not in latest or card.version > latest[card.person_id].version:
            latest[card.person_id] = card
    return sorted(
        latest.values(),
        key=lambda c: (c.person.department.name if c.person.department else "", c.person.name),
    )


def summary_context(cycle, cards, lang):
    distribution = cycle_distribution(cycle.id)
    graded = distribution["graded"] or 0
    grades = [
        {
            "grade": b.grade,
            "min_score": presentation.number(b.min_score, lang),
            "count": distribution["counts"].get(b.grade, 0),
            "share": presentation.percent(
                Decimal(distribution["counts"].get(b.grade, 0)) * 100 / graded if graded else None, lang
            ),
            "quota": presentation.percent(b.max_share * 100 if b.max_share is not None else None, lang),
            "max_share": b.max_share,
            "over": any(v.grade == b.grade for v in distribution["violations"]),
        }
        for b in grade_bands(cycle.grade_table)
    ]
    departments = {}
    for card in cards:
        name = card.person.department.name if card.person.department else "—"
        entry = departments.setdefault(name, {"name": name, "count": 0, "locked": 0, "totals": []})
        entry["count"] += 1
        if card.is_locked:
            entry["locked"] += 1
            entry["totals"].append(Decimal(card.total or 0))
    for entry in departments.values():
        totals = entry["totals"]
        entry["average"] = presentation.number(sum(totals) / len(totals) if totals else None, lang)
    return {
        "cycle": cycle,
        "cards": cards,
        "grades": grades,
        "departments": list(departments.values()),
        "locked_count": sum(1 for c in cards if c.is_locked),
        "chart": charts.svg(charts.grade_bars(grades, chart_labels()), font_family(lang)),
    }


def render_summary_html(cycle, cards, lang, document_id):
    with force_locale(lang):
        context = summary_context(cycle, cards, lang)
        # the chain head as this transaction sees it: the signed PDF anchors the log too
        context["audit_head"] = audit.chain_head(db.session.connection())
        return _render("pdf/cycle_summary.html", lang, document_id, **context)


# Hook for the client-portal issue: the agency contract monthly report becomes a third kind
# here (template + context builder + its own object rule for clients); not built yet.
REPORT_KINDS = {
    ReportKind.scorecard: "pdf/scorecard.html",
    ReportKind.cycle_summary: "pdf/cycle_summary.html",
}


# ---- verification -----------------------------------------------------------------------


@dataclass
class VerifyResult:
    verification: object
    sha256: str
    size: int
    report: IssuedReport | None = None
    contract_document: object = None  # a ContractDocument (docs/contracts.md) when the id is one
    matches_stored: bool = False
    superseded_by: object = None
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems

    @property
    def superseded(self):
        return self.superseded_by is not None


def verify_document(data):
    """Check an uploaded copy: signature, the stored copy (byte for byte) and supersession."""
    data = bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    if not data.startswith(b"%PDF"):
        return VerifyResult(None, digest, len(data), problems=["not_a_pdf"])
    verification = verify_pdf(data, signing_material().trust_roots)
    result = VerifyResult(verification, digest, len(data))
    document_id = verification.document_id or read_document_id(data)
    result.report = get_report(document_id) if document_id else None
    if result.report is None and document_id:
        result.contract_document = get_contract_document(document_id)
    if not verification.ok:
        result.problems.append(verification.error or "signature_invalid")
    stored = result.report or result.contract_document
    if stored is None:
        result.problems.append("unknown_document")
    else:
        result.matches_stored = stored.sha256 == digest
        if not result.matches_stored:
            result.problems.append("differs_from_stored")
        result.superseded_by = (superseded_by(result.report) if result.report is not None
                                else contract_document_superseded_by(stored))
    return result


def get_contract_document(document_id):
    """The signed contract report (contract_document) with this document id, else None."""
    return db.session.execute(
        select(ContractDocument).where(ContractDocument.document_id == str(document_id))
    ).scalar_one_or_none()


def contract_document_superseded_by(document):
    """The document of a later revision of the same contract report, else None."""
    return db.session.execute(
        select(ContractDocument)
        .where(ContractDocument.report_id == document.report_id,
               ContractDocument.revision > document.revision)
        .order_by(ContractDocument.id.desc()).limit(1)
    ).scalar_one_or_none()


# ---- bulk issue -------------------------------------------------------------------------


def start_batch(cycle_id, actor, lang):
    """(batch, created): a new pending batch for a cycle (HR), or the one already pending/running."""
    lang = check_lang(lang)
    if db.session.get(Cycle, cycle_id) is None:
        raise ReportError("not_found", f"Cycle {cycle_id} not found.", 404)
    _require_issuer(actor)
    running = (
        db.session.execute(
            select(ReportBatch).where(
                ReportBatch.cycle_id == cycle_id,
                ReportBatch.lang == lang,
                ReportBatch.status.in_([BatchStatus.pending, BatchStatus.running]),
            )
        )
        .scalars()
        .first()
    )
    if running is not None:
        return running, False
    batch = ReportBatch(
        cycle_id=cycle_id,
        lang=lang,
        status=BatchStatus.pending,
        total=0,
        done=0,
        skipped=0,
        report_ids=[],
        job_id=secrets.token_hex(16),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(batch)
    db.session.flush()
    audit.record(
        db.session,
        "report.batch_start",
        "report_batch",
        batch.id,
        after={"cycle_id": cycle_id, "lang": lang},
        actor=audit.actor_for(actor) if actor else None,
    )
    return batch, True


def launch_batch(batch):
    """Queue the batch's jobs (after the caller committed the batch row): REPORT_BATCH_JOBS
    jobs with Redis on PostgreSQL, so that many workers share the batch; else one (SQLite has
    one writer at a time, so a second job there only waits for the database lock).

    Redis down: the batch is failed and jobs.QueueUnavailable raised (the face answers 503)."""
    shared = jobs.redis_connection() is not None and db.engine.dialect.name == "postgresql"
    parts = current_app.config["REPORT_BATCH_JOBS"] if shared else 1
    runs = [jobs.create("report_batch", "report_batch", batch.id, batch.created_by_id) for _ in range(parts)]
    try:
        for part, run in enumerate(runs):
            suffix = f"-{part}" if part else ""
            jobs.launch(run, rq_id=f"reports-{batch.job_id}{suffix}", timeout=BATCH_TIMEOUT)
    except jobs.QueueUnavailable:
        mark_batch_failed(batch.id, "The job queue is unreachable.")
        raise
    return runs[0]


def batch_job_lost(batch):
    """A pending/running batch whose job is no longer in Redis: launching it again is safe."""
    return not batch.is_finished and jobs.is_lost(jobs.latest("report_batch", "report_batch", batch.id))


def run_batch(batch_id, progress=None):
    """Issue every locked latest scorecard of the batch's cycle; commits after each report.

    Several jobs may run one batch at once: each claims the next scorecard without a report
    (FOR NO KEY UPDATE SKIP LOCKED on PostgreSQL; SQLite has no row locks, so two jobs there
    may render the same report, and the second keeps the first's). The job that finds every
    report issued marks the batch done. At-least-once safe: issuing is idempotent.
    """
    locked = _begin_batch(batch_id)
    if locked is None:
        return db.session.get(ReportBatch, batch_id)
    batch = db.session.get(ReportBatch, batch_id)
    actor, lang, ids = batch.created_by, batch.lang, [c.id for c in locked]
    while (card_id := _claim_next(ids, lang)) is not None:
        issue_report(card_id, actor, lang, batch_id=batch_id)
        batch.done = _issued_count(ids, lang)
        db.session.commit()
        if progress is not None:
            progress(batch.percent)
    return _finish_batch(batch_id, ids)


def _locked_batch(batch_id):
    query = select(ReportBatch).where(ReportBatch.id == batch_id).with_for_update()
    return db.session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()


def _begin_batch(batch_id):
    """The batch's locked latest scorecards, with the batch marked running; None when done."""
    batch = _locked_batch(batch_id)
    if batch is None or batch.status == BatchStatus.done:
        db.session.commit()
        return None
    cards = latest_scorecards(batch.cycle_id)
    locked = [c for c in cards if c.is_locked]
    batch.status, batch.total, batch.skipped = BatchStatus.running, len(locked), len(cards) - len(locked)
    batch.done = _issued_count([c.id for c in locked], batch.lang)
    db.session.commit()
    return locked


def _issued(ids, lang):
    return and_(IssuedReport.scorecard_id.in_(ids), IssuedReport.lang == lang,
                IssuedReport.kind == ReportKind.scorecard)


def _issued_count(ids, lang):
    return db.session.scalar(select(func.count(IssuedReport.id)).where(_issued(ids, lang))) if ids else 0


def _claim_next(ids, lang):
    """The id of the first scorecard in `ids` with no report in `lang` that no other job holds."""
    if not ids:
        return None
    has_report = select(IssuedReport.id).where(
        IssuedReport.scorecard_id == Scorecard.id, IssuedReport.lang == lang,
        IssuedReport.kind == ReportKind.scorecard)
    query = (select(Scorecard.id).where(Scorecard.id.in_(ids), ~has_report.exists())
             .order_by(Scorecard.id).limit(1).with_for_update(skip_locked=True, key_share=True))
    return db.session.scalar(query)


def _finish_batch(batch_id, ids):
    """Mark the batch done once every report is issued (else another job is still at work)."""
    batch = _locked_batch(batch_id)
    report_ids = db.session.scalars(
        select(IssuedReport.id).where(_issued(ids, batch.lang)).order_by(IssuedReport.id)).all()
    if batch.status != BatchStatus.running or len(report_ids) < len(ids):
        db.session.commit()
        return batch
    batch.status, batch.finished_at = BatchStatus.done, utcnow()
    batch.done, batch.report_ids = len(report_ids), list(report_ids)
    actor = batch.created_by
    audit.record(
        db.session,
        "report.batch_done",
        "report_batch",
        batch.id,
        after={"issued": len(report_ids), "skipped": batch.skipped},
        actor=audit.actor_for(actor) if actor else None,
    )
    db.session.commit()
    return batch


def mark_batch_failed(batch_id, message):
    """Record a failed batch (never one that finished: RQ may report a done job as failed)."""
    db.session.rollback()
    batch = db.session.get(ReportBatch, batch_id)
    if batch is None or batch.status == BatchStatus.done:
        return batch
    batch.status, batch.error, batch.finished_at = BatchStatus.failed, str(message)[:2000], utcnow()
    db.session.commit()
    return batch


def batch_reports(batch):
    if not batch.report_ids:
        return []
    query = select(IssuedReport).where(IssuedReport.id.in_(batch.report_ids)).order_by(IssuedReport.id)
    return db.session.execute(query.options(undefer(IssuedReport.pdf))).scalars().all()


def batch_zip(batch):
    """A ZIP (in memory) of the batch's PDFs, each checked against its stored SHA-256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for report in batch_reports(batch):
            archive.writestr(report_filename(report), report_bytes(report))
    return buffer.getvalue()


def latest_batch(cycle_id):
    return db.session.execute(
        select(ReportBatch).where(ReportBatch.cycle_id == cycle_id).order_by(ReportBatch.id.desc()).limit(1)
    ).scalar_one_or_none()


# ---- demo -------------------------------------------------------------------------------


def seed_reports_demo():
    """Issue the reports of every locked demo scorecard (in the person's language) and an
    English summary of each cycle that has them; a no-op without locked scorecards."""
    cards = (
        db.session.execute(
            select(Scorecard)
            .where(Scorecard.state == "locked")
            .order_by(Scorecard.cycle_id, Scorecard.person_id, Scorecard.version)
        )
        .scalars()
        .all()
    )
    if not cards:
        return 0
    hr = (
        db.session.execute(select(User).where(User.role == Role.hr, User.active).order_by(User.id))
        .scalars()
        .first()
    )
    for card in cards:
        issue_report(card.id, hr, card.person.locale if card.person.locale in REPORT_LANGS else "en")
    for cycle_id in sorted({c.cycle_id for c in cards}):
        issue_cycle_summary(cycle_id, hr, "en")
    db.session.flush()
    return len(cards)


__all__ = [
    "ReportError",
    "issue_report",
    "issue_cycle_summary",
    "verify_document",
    "start_batch",
    "run_batch",
    "batch_zip",
    "visible_reports",
    "get_report",
    "report_bytes",
    "is_superseded",
    "superseded_by",
    "signing_material",
    "seed_reports_demo",
]
