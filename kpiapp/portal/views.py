"""What the portal's pages show of a contract and a report: only what the client may see
(sent revisions, client events, never internal_note). The reports helper's services
(kpiapp.contracts.reports) define which revisions and events those are."""
from flask_babel import gettext as _

from kpiapp import charts, policy, presentation
from kpiapp.contracts import documents, reports
from kpiapp.contracts.amendment_flow import TermsState
from kpiapp.contracts.report_flow import REPORT_FLOW, ReportStep
from kpiapp.portal.forms import DisputeForm
from kpiapp.web.pages import ui_lang

CLIENT_STEPS = (ReportStep.ACCEPT, ReportStep.DISPUTE)


def version_in_force(versions):
    """The newest in-force version (the one that governs the coming periods)."""
    in_force = [v for v in versions if v.status == TermsState.IN_FORCE]
    return max(in_force, key=lambda v: (v.effective_from, v.number), default=None)


def client_revisions(report):
    return reports.sent_revisions(report)


def chosen_revision(report, number):
    """The sent revision `number`, else the newest sent one."""
    revisions = client_revisions(report)
    chosen = next((r for r in revisions if r.number == number), None)
    return chosen or (revisions[-1] if revisions else None)


def lines_of(report, revision):
    """The revision's clause lines as the signed PDF shows them (documents.line_rows): values in
    their units, points, the scoring in words, overrides with their reasons, provenance."""
    return documents.line_rows(revision, ui_lang()) if revision is not None else []


def fee_steps(revision):
    """The fee step by step ({label, detail, amount}), the total last."""
    return documents.fee_rows(revision.fee, ui_lang()) if revision is not None else []


def events_of(report):
    return reports.client_events(report)


def document_of(report):
    return documents.document_for(report)


def client_steps(user, report):
    """The buttons the client has now: accept and dispute, on the newest sent revision."""
    parties = policy.contract_parties(user, report.contract)
    return tuple(s for s in REPORT_FLOW.permitted(report.state, parties) if s in CLIENT_STEPS)


def dispute_form(report, revision):
    form = DisputeForm()
    form.clause_id.choices = [(line["clause_id"], line["name"]) for line in lines_of(report, revision)]
    return form


def client_history(contract):
    return reports.clause_history(contract, client=True)


def trend_specs(history):
    """One line chart per clause: its value per period against its target (Vega-Lite); None
    for a clause without any value yet."""
    return [clause_spec(history["periods"], clause) for clause in history["clauses"]]


def clause_spec(periods, clause):
    rows = list(zip(periods, clause["values"], clause.get("targets") or [None] * len(periods)))
    if all(value is None for _period, value, _target in rows):
        return None
    labels = {"week": _("Period"), "actual": clause["name"], "target": _("Target")}
    return charts.trend_lines(rows, labels, percent=is_fraction(clause.get("unit")))


def is_fraction(unit):
    return unit in ("percent", "ratio", "fraction")


def score_spec(history):
    rows = [(period, score, None) for period, score in zip(history["periods"], history["scores"])]
    if all(score is None for _period, score, _target in rows):
        return None
    return charts.trend_lines(rows, {"week": _("Period"), "actual": _("Score"), "target": _("Target")})


def score_rows(history):
    """The score table under the chart: [(period, score)]."""
    return [(period, presentation.number(score, ui_lang())) for period, score in zip(history["periods"], history["scores"])]


def clause_rows(history):
    """Each clause's table under its chart: [(period, value, target, points)]."""
    lang = ui_lang()
    return [[(period, presentation.in_unit(value, clause.get("unit"), lang),
              presentation.in_unit(target, clause.get("unit"), lang), presentation.number(points, lang))
             for period, value, target, points in zip(history["periods"], clause["values"],
                                                      clause.get("targets") or [None] * len(history["periods"]),
                                                      clause["points"])]
            for clause in history["clauses"]]
