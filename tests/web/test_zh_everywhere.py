"""A Chinese user sees no English sentence: every GET page and htmx fragment, each role, in zh_CN.

The demo organisation is loaded once; every user reads Chinese. Each GET route of the url map is
requested with ids taken from the demo data as a page (and, for the first id, as an htmx fragment), and its visible
text (tags, scripts, styles and code stripped; titles, placeholders and labels kept) is searched
for English: two or more English words in a row, or one common interface word. What users typed
(names, departments, stores, cycles, comments) is theirs and allowed; so are proper nouns and
metric abbreviations.
"""
import re
from functools import lru_cache
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from kpiapp import demo
from kpiapp.extensions import db
from kpiapp.models import User
from tests.demo_db import demo_app
from tests.helpers import signed_in_client

ROLES = {"admin": "admin", "hr": "hr", "manager": "na.lead", "head": "ops.head", "employee": "li.lei",
         "client": "client"}

# not pages: files, JSON, health checks (the API keeps machine-readable codes)
NOT_PAGES = {"static", "main.healthz", "imports.raw_file", "imports.rejected_rows", "imports.generic_template",
             "org.export_people", "org.people_template", "reports.batch_zip", "reports.download",
             "cycles.results_export", "cycles.bonus_export", "contracts.document", "contracts.fee_xlsx",
             "portal.document",
             "main.favicon", "objectives.review_export",
             "connections.authorize", "connections.callback"}  # files and redirects, not pages

PROPER_NOUNS = {
    "GMV", "ACoS", "TACoS", "ROAS", "CVR", "CTR", "CPC", "AOV", "SKU", "SKUs", "ASIN", "FBA", "FBM", "MSKU",
    "Amazon", "Shopee", "TikTok", "Shop", "Lazada", "Temu", "Walmart", "eBay", "Shopify", "Seller", "Central",
    "KPI", "KPIs", "OKR", "PDF", "CSV", "XLSX", "XLS", "API", "HR", "ERP", "UTC", "USD", "EUR", "GBP", "JPY",
    "CNY", "SGD", "ID", "URL", "TOTP", "HTMX", "JSON", "OpenAPI", "Bearer", "kpiapp", "English", "Vega",
    "Q1", "Q2", "Q3", "Q4", "H1", "H2", "NA", "EU", "JP", "UK", "US", "DE", "SG", "SEA", "IM", "WeCom",
    "DingTalk", "Feishu", "Lark", "Slack", "PPC", "SP", "SB", "SD", "OTP", "QR", "MySQL", "PostgreSQL",
    "Google", "Microsoft", "Authenticator",
}
# names of platform reports and fields, quoted as the platform spells them
PROPER_PHRASES = ("Marketplace Facilitator Tax",)

# one of these alone is an untranslated label
UI_WORDS = {
    "save", "cancel", "edit", "delete", "submit", "back", "next", "open", "draft", "approved", "returned",
    "submitted", "locked", "status", "name", "actions", "action", "search", "filter", "download", "upload",
    "total", "score", "weight", "target", "actual", "yes", "no", "none", "unknown", "fraction", "money",
    "percent", "count", "ratio", "error", "warning", "loading", "close", "new", "add", "remove", "login",
    "logout", "password", "email", "date", "time", "page", "the", "and", "of", "to", "is", "are", "for",
    "reason", "approve", "return", "reject", "pending", "done", "failed", "running", "queued", "committed",
    "rows", "row", "file", "import", "imports", "people", "cycle", "cycles", "inbox", "reports", "report",
    "scorecard", "scorecards", "template", "templates", "metric", "metrics", "grade", "points", "threshold",
    "stretch", "unit", "notes", "comment", "version", "current", "details", "summary", "true", "false",
}

WORD_RUN = re.compile(r"(?<![\w.@/-])[A-Za-z][\w'’-]*(?:[ \t]+[A-Za-z][\w'’-]*)*")
# not read as interface text: code, and the values of a form being edited (what users typed)
SKIPPED_TAGS = {"script", "style", "code", "kbd", "samp", "pre", "svg", "template", "textarea"}
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}


class VisibleText(HTMLParser):
    """The text a user reads: text nodes outside script/style/code, plus labelling attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_TAGS:
            self.depth += 1
        self.parts.extend(value for key, value in attrs if key in SHOWN_ATTRIBUTES and value)

    def handle_endtag(self, tag):
        if tag in SKIPPED_TAGS and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def visible_text(html):
    parser = VisibleText()
    parser.feed(html)
    return parser.parts


def english_in(parts, allowed_phrases):
    """The English runs in `parts`: 2+ words in a row, or one interface word, once proper nouns and
    the users' own data (`allowed_phrases`, a compiled pattern) are taken out."""
    return [run for part in parts for run in english_runs(part, allowed_phrases.pattern)]


@lru_cache(maxsize=100_000)
def english_runs(part, allowed_phrases):
    """english_in for one text part (`allowed_phrases`: the pattern's source, cheap to hash).
    Remembered: the walk reads about 58,000 parts per role but only about 3,300 different ones
    (menus, labels, headings repeat), and taking out the users' phrases (one alternation of every
    name in the demo) costs as much CPU as rendering the pages."""
    found = []
    for run in WORD_RUN.findall(re.compile(allowed_phrases).sub(" · ", part)):
        words = [w for w in run.split() if w not in PROPER_NOUNS and not is_code(w)]
        if len(words) >= 2 or (words and words[0].lower() in UI_WORDS):
            found.append(" ".join(words))
    return tuple(found)


def is_code(word):
    """Store codes, keys and versions such as AMZ-US, new_listings, v2, Q4 or 'x' in '3 x 4'."""
    return word.isupper() or len(word) == 1 or "_" in word or bool(re.fullmatch(r"[A-Za-z]+\d+", word))


# ---- the demo database --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def zh_app(demo_template, tmp_path_factory):
    """A copy of the demo (tests/demo_db.py); every user reads Chinese."""
    with demo_app(demo_template, tmp_path_factory.mktemp("zh")) as app:
        yield app


def users_data():
    """What people typed: it is shown as typed, in whatever language they typed it."""
    from kpiapp.models import (Acknowledgement, ChangeRequest, CheckIn, ClientCompany, Cycle, Department, Dispute,
                               ImportRecord, KeyResult, KpiTemplate, KpiTemplateItem, Milestone, Objective, Position,
                               Scorecard, ScorecardEvent, ScorecardItem, Store)
    from kpiapp.models import (ClientInvite, Comment, Contract, ContractClause, ContractOverride,
                               ContractReportEvent, ContractReportRevision, ContractVersion, Task, TaskCheckItem)

    columns = [User.name, Department.name, Position.title, Store.name, Store.code, ClientCompany.name,
               Cycle.name, KpiTemplate.name, KpiTemplate.description, KpiTemplateItem.name,
               KpiTemplateItem.description, ScorecardItem.name, ScorecardItem.description,
               ScorecardItem.self_comment, ScorecardItem.manager_comment, ScorecardItem.override_reason,
               Scorecard.self_comment, Scorecard.manager_comment, Scorecard.calibration_reason,
               ChangeRequest.reason, ChangeRequest.decision_reason, ScorecardEvent.reason, Acknowledgement.comment,
               ImportRecord.filename, Dispute.comment, Dispute.resolution_note, Dispute.close_note,
               Dispute.lock_override_reason, Objective.title, Objective.description, KeyResult.title,
               Milestone.title, CheckIn.note, CheckIn.private_note, Task.title, Task.description, Task.drop_reason,
               TaskCheckItem.text, Comment.body, Contract.code, Contract.title, ContractVersion.summary,
               ContractClause.name, ContractClause.description, ContractReportEvent.comment, ContractOverride.reason,
               ContractReportRevision.internal_note, ClientInvite.name]
    phrases = set(PROPER_PHRASES)
    for column in columns:
        phrases.update(v for v in db.session.execute(select(column).distinct()).scalars() if v)
    phrases.update(part for name in list(phrases) for part in name.split(" ") if len(part) > 2 and len(name) < 40)
    return re.compile("|".join(rf"(?<!\w){re.escape(p)}(?!\w)" for p in sorted(phrases, key=len, reverse=True)))


def sample_ids():
    """A few ids of each kind: every scorecard state, every cycle, every import, and so on."""
    from kpiapp.models import (ClientCompany, ClientInvite, Contract, ContractClause, ContractReport, ContractVersion,
                               Cycle, Department, Dispute, ImportRecord, KeyResult, KpiTemplate, MetricDefinition,
                               Objective, ReportBatch, Scorecard, ScorecardItem, Store, StoreConnection, Task)
    from kpiapp.models.reports import IssuedReport, ReportKind

    one_per_state = {}
    for card in db.session.execute(select(Scorecard).order_by(Scorecard.version.desc())).scalars():
        one_per_state.setdefault((card.state, card.version > 1), card.id)
    everything = lambda model, column=None: list(  # noqa: E731
        db.session.execute(select(column if column is not None else model.id)).scalars())
    return {
        "scorecard_id": sorted(one_per_state.values()),
        "cycle_id": everything(Cycle),
        "import_id": everything(ImportRecord)[:8],
        "template_id": everything(KpiTemplate),
        "department_id": everything(Department)[:3],
        "person_id": [u.id for u in db.session.execute(select(User).limit(5)).scalars()],
        # team reviews: the demo's reviewed team (eu.lead) and the manager role's own (na.lead)
        "manager_id": [u.id for u in db.session.execute(select(User).where(User.email.in_(
            [demo.email_of("eu.lead"), demo.email_of("na.lead")])).order_by(User.id)).scalars()],
        "store_id": everything(Store)[:3],
        "batch_id": everything(ReportBatch),
        "dispute_id": everything(Dispute),
        "task_id": everything(Task)[:3],
        "key": sorted({d.key for d in db.session.execute(select(MetricDefinition)).scalars()}),
        # items with data (the provenance page), and the disputed ones (their dispute form)
        "item_id": everything(Dispute, Dispute.scorecard_item_id) + list(db.session.execute(
            select(ScorecardItem.id).where(ScorecardItem.actual.is_not(None), ScorecardItem.metric_key.is_not(None))
            .order_by(ScorecardItem.id).limit(3)).scalars()),
        # contracts (docs/contracts.md): present once the demo has them
        "contract_id": everything(Contract)[:2],
        "version_id": everything(ContractVersion)[:3],
        "report_id": everything(ContractReport)[:4],
        "clause_id": everything(ContractClause)[:2],
        # a clause of a draft version (the editable ones), with its version and contract
        "clause_id,contract_id,version_id": [(c.id, v.contract_id, v.id) for c, v in db.session.execute(
            select(ContractClause, ContractVersion).join(ContractVersion, ContractClause.version_id == ContractVersion.id)
            .where(ContractVersion.status == "draft").limit(2)).all()],
        "company_id": everything(ClientCompany)[:2],
        "invite_id": everything(ClientInvite)[:2],
        "token": ["no-such-invitation"],  # a token is never stored (only its hash): the dead-link page
        "objective_id": everything(Objective)[:4],
        "kr_id": everything(KeyResult)[:4],
        "platform,store_id": [(c.platform, c.store_id) for c in db.session.execute(
            select(StoreConnection).order_by(StoreConnection.id).limit(3)).scalars()],
        "document_id": list(db.session.execute(select(IssuedReport.document_id).where(
            IssuedReport.kind == ReportKind.scorecard).order_by(IssuedReport.id).limit(2)).scalars()),
    }


def urls(app, ids):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES or rule.endpoint.startswith("api."):
            continue
        names = ",".join(sorted(rule.arguments))
        if len(rule.arguments) > 1 and names in ids:  # arguments that must belong together: sample tuples
            for values in ids[names]:
                yield rule.endpoint, build_many(rule, dict(zip(sorted(rule.arguments), values)))
            continue
        argument = next(iter(rule.arguments), None)
        values = ids.get(argument, []) if argument else [None]  # a kind without sample rows: not walked
        for value in values:
            yield rule.endpoint, build(rule, argument, value)


def build(rule, argument, value):
    return re.sub(r"<[^>]+>", str(value), rule.rule) if argument else rule.rule


def build_many(rule, values):
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


@pytest.fixture(scope="module")
def walked(zh_app):
    """Every role's walk: {role: (English found, endpoints shown with a 200)}."""
    with zh_app.app_context():
        allowed = users_data()
        targets = list(urls(zh_app, sample_ids()))
        return {role: walk_as(zh_app, login, targets, allowed) for role, login in ROLES.items()}


def walk_as(app, login, targets, allowed):
    """Each target as a page; as an htmx fragment too for the first target of each endpoint
    (a fragment is a part of its page, so other ids add words only through the page)."""
    user = db.session.execute(select(User).where(User.email == demo.email_of(login))).scalar_one()
    client = signed_in_client(app, user, demo.DEMO_PASSWORD)
    problems, shown, fragments_read = [], set(), set()
    for endpoint, path in targets:
        ways = (False,) if endpoint in fragments_read else (False, True)
        fragments_read.add(endpoint)
        for htmx in ways:
            response = client.get(path, headers={"HX-Request": "true"} if htmx else {})
            if response.mimetype != "text/html" or response.status_code in (301, 302, 303):
                continue  # error pages (403, 404) are read too
            if response.status_code == 200:
                shown.add(endpoint)
            for run in english_in(visible_text(response.get_data(as_text=True)), allowed):
                problems.append(f"{path}{' (htmx)' if htmx else ''}: {run!r}")
    return sorted(set(problems)), shown


@pytest.mark.parametrize("role", list(ROLES))
def test_no_english_for_a_chinese_user(walked, role):
    problems, shown = walked[role]
    assert shown, "no page rendered"
    assert problems == []


def test_every_page_was_read(zh_app, walked):
    """Each page of the url map rendered for at least one role (the sign-in code page needs a
    sign-in in progress with two-factor on; it shares the sign-in page's words)."""
    pages = {rule.endpoint for rule in zh_app.url_map.iter_rules() if "GET" in rule.methods
             and rule.endpoint not in NOT_PAGES and not rule.endpoint.startswith("api.")}
    shown = set().union(*(endpoints for _problems, endpoints in walked.values()))
    # an invitation's page needs its link's token, never stored (tests/web/test_client_invites.py)
    assert pages - shown == {"auth.verify", "clients.accept"}


def test_the_sign_in_page_is_chinese(client):
    """Before signing in, the browser's language decides (the walk above reads signed-in pages)."""
    response = client.get("/login", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200
    assert english_in(visible_text(response.get_data(as_text=True)), users_data()) == []


def test_the_check_finds_english():
    allowed = re.compile(r"(?<!\w)Emma Wilson(?!\w)")
    html = ('<p title="Save">销售额 GMV · ACoS 12%</p><p>权重合计 110（Weights must total 100）</p>'
            '<td>fraction</td><code>gmv / sessions</code><script>var x = "some code";</script>'
            '<td>Emma Wilson · AMZ-US · new_listings v2</td>')
    assert english_in(visible_text(html), allowed) == ["Save", "Weights must total", "fraction"]
