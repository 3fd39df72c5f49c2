"""The demo's objectives (docs/objectives.md): the company's 2026 Q4 objective "grow European
sales profitably" with two department objectives and their people's key results, one at risk;
AMZ-DE's Q4 GMV target split between the three people of the EU team; check-ins for last
week and this week; a KPI item aligned to a key result. Everything goes through the services,
as the pages do (audited). Call after the marketplace demo (the metric key results read its facts)."""
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from kpiapp.extensions import db
from kpiapp.models import Store, User
from kpiapp.objectives import services as okr

QUARTER = "2026-Q4"
DEMO_TODAY_WEEK = okr.monday(date(2026, 11, 26))  # the marketplace demo's last day with data
LAST_WEEK = DEMO_TODAY_WEEK - timedelta(days=7)


def person(login):
    return db.session.execute(select(User).where(User.email.like(f"{login}@%"))).scalar_one()


def store_id(code):
    return db.session.execute(select(Store.id).where(Store.code == code)).scalar_one()


def gmv_target(kr, share=Decimal("1.6")):
    """A target the quarter can still reach: the GMV so far times `share`, to the thousand."""
    current = Decimal(kr.current or 0)
    return max(Decimal(1000), (current * share / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 1000)


def seed_objectives_demo():
    """Create the demo objectives; commits. Returns the company and the EU team objective."""
    hr = person("hr")
    company = okr.create_objective({
        "title": "Grow European sales profitably", "level": "company", "owner_id": person("gm").id,
        "period": QUARTER, "rollup": True,
        "description": "Q4 2026: more GMV on AMZ-DE and AMZ-UK without letting ad costs run away."}, hr)
    eu_team = seed_sales_objective(company, hr)
    seed_ads_objective(company, hr)
    seed_company_key_result(company, hr)
    db.session.commit()
    return company, eu_team


def seed_company_key_result(company, hr):
    kr = okr.create_key_result(company, {
        "title": "EU GMV this quarter (AMZ-DE + AMZ-UK)", "kind": "metric", "metric_key": "gmv",
        "scope": [{"store_id": store_id("AMZ-DE"), "share_pct": "100"},
                  {"store_id": store_id("AMZ-UK"), "share_pct": "100"}], "start_value": "0", "target": "1"}, hr)
    okr.update_key_result(kr, {**okr.kr_values(kr), "target": gmv_target(kr)}, hr)


def seed_sales_objective(company, hr):
    lead = person("eu.lead")
    team = okr.create_objective({
        "title": "Amazon EU: grow AMZ-DE and AMZ-UK", "level": "department", "owner_id": lead.id,
        "period": QUARTER, "parent_id": company.id, "weight": "2"}, hr)
    de = okr.create_key_result(team, {
        "title": "AMZ-DE GMV this quarter", "kind": "metric", "metric_key": "gmv",
        "scope": [{"store_id": store_id("AMZ-DE"), "share_pct": "100"}], "start_value": "0", "target": "1"}, lead)
    okr.update_key_result(de, {**okr.kr_values(de), "target": gmv_target(de)}, lead)
    _split, children = okr.decompose(de, "shares", [
        {"owner_id": person("zhao.lei").id, "share": "50"}, {"owner_id": person("sun.li").id, "share": "30"},
        {"owner_id": person("sato").id, "share": "20"}], lead)
    for child in children:
        okr.check_in(child, {"confidence": "on_track", "week": LAST_WEEK, "note": "Deals week planned."},
                     child.owner)
    okr.check_in(children[0], {"confidence": "on_track", "week": DEMO_TODAY_WEEK,
                               "note": "Black Friday deals live on the top five ASINs.",
                               "private_note": "Asked for two more lightning deals."}, children[0].owner)
    listings = okr.create_key_result(team, {"title": "New listings live on AMZ-UK", "kind": "manual",
                                            "unit": "count", "start_value": "0", "target": "24"}, lead)
    okr.check_in(listings, {"value": "9", "confidence": "on_track", "week": LAST_WEEK}, lead)
    okr.check_in(listings, {"value": "14", "confidence": "on_track", "week": DEMO_TODAY_WEEK}, lead)
    align_an_item(children[0])
    return team


def seed_ads_objective(company, hr):
    lead = person("ads.lead")
    ads = okr.create_objective({
        "title": "Advertising: profitable ad spend in Europe", "level": "department", "owner_id": lead.id,
        "period": QUARTER, "parent_id": company.id, "weight": "1"}, hr)
    acos = okr.create_key_result(ads, {"title": "EU ACoS down from 24 % to 18 %", "kind": "manual",
                                       "start_value": "24", "target": "18", "weight": "2"}, lead)
    okr.check_in(acos, {"value": "23", "confidence": "at_risk", "week": LAST_WEEK,
                        "note": "CPCs up before Black Friday."}, lead)
    okr.check_in(acos, {"value": "23.5", "confidence": "off_track", "week": DEMO_TODAY_WEEK,
                        "note": "Black Friday bids pushed ACoS up; cutting broad match next week."}, lead)
    video = okr.create_key_result(ads, {"title": "Sponsored Brands video live in DE", "kind": "milestone",
                                        "milestones": ["Storyboard approved", "Video produced", "Campaign live"]},
                                  lead)
    okr.set_milestone(video.milestones[0], True, lead)
    person_objective = okr.create_objective({
        "title": "Cut wasted ad spend on AMZ-DE", "level": "person", "owner_id": person("ads1").id,
        "period": QUARTER, "parent_id": ads.id}, lead)
    okr.create_key_result(person_objective, {"title": "Negative keywords added", "kind": "manual",
                                             "unit": "count", "start_value": "0", "target": "300"}, lead)


def align_an_item(kr):
    """The first KPI item the key result's owner may align (their GMV item), if the cycle runs."""
    items = okr.linkable_items(kr, kr.owner)
    gmv = next((i for i in items if i.metric_key == "gmv"), None)
    if gmv is not None:
        okr.link_item(gmv, kr, kr.owner)
