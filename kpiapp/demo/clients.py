"""Demo agency contracts (docs/contracts.md): two client companies, their stores, a KPI
contract each and three monthly reports in different states, all through the services.

* Nordic Home Goods AB (client login `client`, English): stores NHG-US and NHG-DE; August
  accepted and signed, September disputed (ACoS), October sent; an amendment for November
  (a higher GMV target) waits for the client.
* 杭州青禾家居 Qinghe Home (client login `client2`, Chinese): store QH-US; August disputed,
  corrected with a manual value and accepted on its second revision (signed), September
  disputed, October sent; the agency is drafting a December amendment (a tighter ACoS).

The stores' sales and advertising reports (2026-08-01 .. 2026-10-31) are generated like the
rest of the demo's files and imported with `start_import`. Deterministic: a fixed seed.
"""
import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from kpiapp.extensions import db
from kpiapp.models import ClientCompany, Role, Store, User

FIRST_DAY = date(2026, 8, 1)
LAST_DAY = date(2026, 10, 31)
SEED = 2026_08
MONTHS = (date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1))

# code, name, platform, marketplace, currency, timezone, client company
STORES = [
    ("NHG-US", "Nordic Home Goods US", "amazon", "US", "USD", "America/New_York", "Nordic Home Goods AB"),
    ("NHG-DE", "Nordic Home Goods DE", "amazon", "DE", "EUR", "Europe/Berlin", "Nordic Home Goods AB"),
    ("QH-US", "青禾家居 Qinghe Home US", "amazon", "US", "USD", "America/Los_Angeles",
     "杭州青禾家居有限公司 Qinghe Home Co., Ltd."),
]
# the second client company and its login (the first, `client`, is made with the organisation)
CLIENT2 = ("client2", "杭州青禾家居有限公司 Qinghe Home Co., Ltd.", "张伟 Zhang Wei", "zh_CN")

CLAUSES = {
    "NHG": [
        {"kind": "metric", "metric_key": "gmv", "name": "GMV", "weight": "50", "threshold": "120000",
         "target": "140000", "stretch": "160000", "rule": {"kind": "linear", "cap": "120"}},
        {"kind": "metric", "metric_key": "acos", "name": "ACoS", "weight": "30", "threshold": "0.32",
         "target": "0.26", "stretch": "0.22", "rule": {"kind": "linear", "direction": "lower_better", "cap": "120"}},
        {"kind": "metric", "metric_key": "cvr", "name": "Conversion rate", "weight": "20", "threshold": "0.09",
         "target": "0.11", "stretch": "0.13", "rule": {"kind": "linear", "cap": "120"}},
    ],
    "QH": [
        {"kind": "metric", "metric_key": "gmv", "name": "GMV 销售额", "weight": "60", "threshold": "60000",
         "target": "75000", "stretch": "90000", "rule": {"kind": "linear", "cap": "120"}},
        {"kind": "metric", "metric_key": "acos", "name": "ACoS 广告成本销售比", "weight": "40", "threshold": "0.33",
         "target": "0.27", "stretch": "0.23",
         "rule": {"kind": "linear", "direction": "lower_better", "cap": "120"}},
    ],
}
FEES = {
    "NHG": {"base_fee": "8000", "commission_pct": "3", "commission_metric": "gmv",
            "fee_bands": [{"lower": "110", "upper": None, "adjust_pct": "10"},
                          {"lower": "60", "upper": "80", "adjust_pct": "-10"},
                          {"lower": None, "upper": "60", "adjust_pct": "-20"}],
            "bonus_threshold": None, "bonus_amount": None},
    "QH": {"base_fee": "30000", "commission_pct": "2.5", "commission_metric": "gmv",
           "fee_bands": [{"lower": None, "upper": "80", "adjust_pct": "-10"}],
           "bonus_threshold": "105", "bonus_amount": "5000"},
}


def person(login):
    return db.session.execute(select(User).where(User.email.like(f"{login}@%"))).scalar_one()


def seed_client_org():
    """The second client company and its login (the demo password and domain of the first
    client's), and the clients' stores; returns the stores."""
    login, company, name, locale = CLIENT2
    first = person("client")
    second = ClientCompany(name=company)
    db.session.add(User(email=f"{login}@{first.email.split('@')[1]}", name=name, role=Role.client,
                        locale=locale, client_company=second, password_hash=first.password_hash))
    db.session.flush()
    companies = {c.name: c.id for c in db.session.execute(select(ClientCompany)).scalars()}
    stores = {code: Store(code=code, name=store_name, platform=platform, marketplace=mp, currency=cur,
                          timezone=tz, client_company_id=companies[owner])
              for code, store_name, platform, mp, cur, tz, owner in STORES}
    db.session.add_all(stores.values())
    db.session.flush()
    return stores


def month_ranges():
    for first in MONTHS:
        nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        yield first, nxt - timedelta(days=1)


def client_uploads():
    """The clients' sales & traffic and advertising reports per store and month, and EUR rates
    for August and September (the organisation's rate file starts in October)."""
    from kpiapp.demo import marketplace as m

    rng = random.Random(SEED)
    data = m.simulate(rng, m.CLIENT_STORE_MODEL, FIRST_DAY, LAST_DAY)
    uploads = [m.Upload(None, "fx_rates_EUR_2026-08-01_2026-09-30.csv", eur_rates(rng), {"kind": "fx"})]
    for code in m.CLIENT_STORE_MODEL:
        for first, last in month_ranges():
            tag = f"{first:%Y-%m}"
            uploads.append(m.Upload(code, f"sales_traffic_{code}_{tag}.json",
                                    m.sales_traffic_json(code, data[code], first, last)))
            uploads.append(m.Upload(code, f"sp_campaigns_{code}_{tag}.csv",
                                    m.ads_csv(code, data[code], first, last, rng)))
    return uploads


def eur_rates(rng):
    from kpiapp.demo import marketplace as m

    level, lines = 1.095, ["date,currency,rate"]
    for d in m.days(FIRST_DAY, date(2026, 9, 30)):
        level *= rng.uniform(0.997, 1.003)
        lines.append(f"{d.isoformat()},EUR,{level:.8f}")
    return ("\n".join(lines) + "\n").encode()


def import_client_files(hr, stores):
    from kpiapp.demo.marketplace import in_process_jobs
    from kpiapp.imports.services import start_import
    from kpiapp.models import ImportStatus

    db.session.commit()
    failed = []
    with in_process_jobs():
        for upload in client_uploads():
            store = stores.get(upload.store)
            record = start_import(upload.data, upload.filename, store.id if store else None, hr, **upload.options)
            if record.status != ImportStatus.committed:
                failed.append((upload.filename, record.error))
    if failed:
        raise RuntimeError(f"client demo imports failed: {failed[:3]}")


def seed_clients_demo():
    """Stores, files, contracts and reports of the two demo clients. Commits."""
    hr = person("hr")
    stores = seed_client_org()
    import_client_files(hr, stores)
    nordic = make_contract("NHG", "NHG-2026-01", "Nordic Home Goods — Amazon US & DE operations",
                           [stores["NHG-US"], stores["NHG-DE"]], lead="na.lead", members=["emma"], hr=hr)
    qinghe = make_contract("QH", "QH-2026-01", "青禾家居 亚马逊美国站代运营 Qinghe Home Amazon US",
                           [stores["QH-US"]], lead="ops.head", members=["han.mei"], hr=hr)
    walk_nordic(nordic)
    walk_qinghe(qinghe)
    propose_nordic_amendment(nordic)
    draft_qinghe_amendment(qinghe)
    db.session.commit()
    return [nordic, qinghe]


def make_contract(prefix, code, title, stores, *, lead, members, hr):
    from kpiapp.contracts import terms

    company_id = stores[0].client_company_id
    contract = terms.create_contract({
        "code": code, "title": title, "client_company_id": company_id, "period": "monthly",
        "start_date": MONTHS[0], "end_date": date(2027, 7, 31),
    }, hr)
    terms.set_team(contract, person(lead).id, [person(m).id for m in members], hr)
    version = contract.versions[0]
    terms.set_stores(version, [s.id for s in stores], hr)
    terms.set_fee_terms(version, FEES[prefix], hr)
    for clause in CLAUSES[prefix]:
        terms.add_clause(version, clause, hr)
    terms.activate(version, hr)
    db.session.commit()
    return contract


def walk_nordic(contract):
    """August accepted and signed; September disputed (ACoS); October sent."""
    from kpiapp.contracts import reports

    lead, client = person("na.lead"), person("client")
    august, september, october = (reports.generate_report(contract, month, lead) for month in MONTHS)
    for report in (august, september, october):
        reports.send_report(report, lead)
    db.session.commit()
    reports.accept_report(august, client, "en")
    acos = clause_named(september, "ACoS")
    reports.dispute_clause(september, acos.id, "Our advertising console shows lower spend for the "
                           "Lunchbox brand-defense campaign in September. Please check the DE figures.", client)
    reports.answer_dispute(september, acos.id, "Checking: the DE campaign report was imported on 2 Oct; "
                           "we are comparing it with your console export.", lead)
    db.session.commit()


def walk_qinghe(contract):
    """August disputed, corrected with a manual value, accepted on revision 2; September
    disputed; October sent."""
    from kpiapp.contracts import reports

    lead, client = person("ops.head"), person("client2")
    august, september, october = (reports.generate_report(contract, month, lead) for month in MONTHS)
    for report in (august, september, october):
        reports.send_report(report, lead)
    db.session.commit()
    gmv = clause_named(august, "GMV 销售额")
    reports.dispute_clause(august, gmv.id, "8月有一笔 B2B 大单（订单 114-2210937）未计入销售额。", client)
    reports.answer_dispute(august, gmv.id, "已核实：该 B2B 订单在企业购报表中，按 1,850.00 美元补计。", lead)
    reports.revise_report(august, lead)
    value = Decimal(reports.current_revision(august).lines[0]["value"]) + Decimal("1850.00")
    reports.set_override(august, gmv.id, value, "补计企业购 B2B 订单 114-2210937（1,850.00 美元）", lead)
    reports.send_report(august, lead)
    db.session.commit()
    reports.accept_report(august, client, "zh_CN")
    acos = clause_named(september, "ACoS 广告成本销售比")
    reports.dispute_clause(september, acos.id, "9月广告花费与我们后台数据不一致，请提供明细。", client)
    db.session.commit()


def propose_nordic_amendment(contract):
    """From November the GMV target rises to 150,000 (Q4 season); the client has not answered."""
    from kpiapp.contracts import terms

    lead = person("na.lead")
    draft = terms.draft_amendment(contract, lead)
    gmv = next(c for c in draft.clauses if c.metric_key == "gmv")
    terms.update_clause(gmv, {**terms.clause_dict(gmv), "threshold": "130000", "target": "150000",
                              "stretch": "170000", "cap": gmv.rule.get("cap")}, lead)
    terms.set_amendment_details(draft, {"summary": "Q4 season: the GMV target rises from 140,000 to 150,000 USD "
                                        "a month from November.", "effective_from": date(2026, 11, 1)}, lead)
    terms.propose(draft, lead)
    db.session.commit()


def draft_qinghe_amendment(contract):
    """The agency prepares a tighter ACoS target for Qinghe from December (not proposed yet)."""
    from kpiapp.contracts import terms

    lead = person("ops.head")
    draft = terms.draft_amendment(contract, lead)
    acos = next(c for c in draft.clauses if c.metric_key == "acos")
    terms.update_clause(acos, {**terms.clause_dict(acos), "threshold": "0.31", "target": "0.25",
                               "stretch": "0.21", "cap": acos.rule.get("cap")}, lead)
    terms.set_amendment_details(draft, {"summary": "旺季后收紧广告：12 月起 ACoS 目标由 27% 调整为 25%。",
                                        "effective_from": date(2026, 12, 1)}, lead)
    db.session.commit()


def clause_named(report, name):
    return next(c for c in report.version.clauses if c.name == name)
