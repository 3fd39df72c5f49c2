"""The objective pages (docs/objectives.md): list, create with field errors kept, the objective
and key-result pages, check-ins, milestones, aligning a KPI item, the alignment tree, the
decomposition preview and save; object checks (404 for what one may not see); zh and en."""
import pytest

from kpiapp.extensions import db
from kpiapp.models import AuditEvent, CheckIn, KeyResult, Objective, Scorecard
from kpiapp.objectives import services as okr
from tests.objectives.okr_world import QUARTER, company_objective, gmv_kr, make_world

pytestmark = pytest.mark.rollback


@pytest.fixture
def w(app):
    return make_world()


def dept(w, owner, parent, title="Sales Europe"):
    objective = okr.create_objective({"title": title, "level": "department", "owner_id": owner.id,
                                      "period": QUARTER, "parent_id": parent.id}, w.hr)
    db.session.commit()
    return objective


def test_list_and_filters_show_visible_objectives(w, browser):
    top = company_objective(w)
    private = okr.create_objective({"title": "Private plan", "level": "person", "owner_id": w.people[0].id,
                                    "period": QUARTER, "shared": ""}, w.head)
    db.session.commit()
    page = browser(w.people[1]).page("/objectives/")
    assert top.title in page and private.title not in page
    assert private.title in browser(w.head).page("/objectives/")
    fragment = browser(w.people[0]).get(f"/objectives/?period={QUARTER}&mine=1", htmx=True)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and 'id="objective-list"' in html and "<html" not in html
    assert private.title in html and top.title not in html


def test_create_objective_keeps_typed_input_on_refusal(w, browser):
    b = browser(w.people[0])
    response = b.post("/objectives/new", {"title": "Launch bottles in DE", "level": "person",
                                          "owner_id": str(w.people[0].id), "period": "2026-Q9", "weight": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Launch bottles in DE" in html and 'value="2026-Q9"' in html
    assert "Enter a period such as 2026, 2026-Q4 or 2026-11." in html and 'aria-invalid="true"' in html
    response = b.post("/objectives/new", {"title": "Launch bottles in DE", "level": "person",
                                          "owner_id": str(w.people[0].id), "period": QUARTER, "weight": "1",
                                          "shared": "y"})
    assert response.status_code == 302
    created = db.session.query(Objective).filter_by(title="Launch bottles in DE").one()
    assert created.owner_id == w.people[0].id and response.headers["Location"].endswith(f"/objectives/{created.id}")


def test_objective_page_and_key_result_form(w, browser):
    top = company_objective(w)
    b = browser(w.hr)
    response = b.post(f"/objectives/{top.id}/key-results/new", {
        "kind": "metric", "title": "GMV Europe", "owner_id": str(w.gm.id), "metric_key": "gmv",
        "start_value": "0", "target": "3000000", "weight": "2", f"scope_{w.de.id}": "100"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    kr = db.session.query(KeyResult).filter_by(title="GMV Europe").one()
    assert kr.scope == [{"store_id": w.de.id, "share_pct": "100.00"}]
    page = b.page(f"/objectives/{top.id}")
    assert "GMV Europe" in page and "Add a key result" in page
    # a store missing: refused on the whole form, what was typed is kept
    response = b.post(f"/objectives/{top.id}/key-results/new", {
        "kind": "metric", "title": "Ad sales", "owner_id": str(w.gm.id), "metric_key": "gmv", "target": "10"})
    html = response.get_data(as_text=True)
    assert "Choose at least one store." in html and 'value="Ad sales"' in html
    # someone who may not manage it: refused
    assert browser(w.people[0]).get(f"/objectives/{top.id}/key-results/new").status_code == 403


def test_check_in_and_history(w, browser):
    mine = okr.create_objective({"title": "Reviews", "level": "person", "period": QUARTER}, w.people[0])
    kr = okr.create_key_result(mine, {"title": "Reviews collected", "kind": "manual", "target": "200"}, w.people[0])
    db.session.commit()
    b = browser(w.people[0])
    response = b.post(f"/key-results/{kr.id}/check-ins", {"confidence": "at_risk", "value": "",
                                                          "note": "slow start"})
    assert response.status_code == 422 and "This field is required." in response.get_data(as_text=True)
    assert b.post(f"/key-results/{kr.id}/check-ins", {"confidence": "at_risk", "value": "50", "note": "slow start",
                                                      "private_note": "supplier late"}).status_code == 302
    assert db.session.query(CheckIn).filter_by(key_result_id=kr.id).count() == 1
    page = b.page(f"/key-results/{kr.id}")
    assert "slow start" in page and "supplier late" in page and "At risk" in page and "25%" in page
    teammate = browser(w.people[1])
    other = teammate.page(f"/key-results/{kr.id}")  # a shared person objective: teammates see it
    assert "slow start" in other and "supplier late" not in other
    assert teammate.post(f"/key-results/{kr.id}/check-ins", {"confidence": "on_track", "value": "9"}).status_code == 422
    denied = db.session.query(AuditEvent).filter_by(action="access.denied", actor=w.people[1].email).count()
    assert denied == 1 and db.session.query(CheckIn).filter_by(key_result_id=kr.id).count() == 1
    assert browser(w.outsider).get(f"/key-results/{kr.id}").status_code == 404


def test_milestones_tick(w, browser):
    mine = okr.create_objective({"title": "Launch", "level": "person", "period": QUARTER}, w.people[0])
    kr = okr.create_key_result(mine, {"title": "Launch steps", "kind": "milestone",
                                      "milestones": "Listing\nAds"}, w.people[0])
    db.session.commit()
    b = browser(w.people[0])
    assert b.post(f"/milestones/{kr.milestones[0].id}", {"done": "1"}).status_code == 302
    db.session.refresh(kr)
    assert str(kr.progress) == "50.00"


def test_alignment_tree_page_marks_the_branch_at_risk(w, browser):
    top = company_objective(w, rollup=True)
    sales = dept(w, w.head, top)
    kr = okr.create_key_result(sales, {"title": "New listings", "kind": "manual", "target": "40"}, w.head)
    okr.check_in(kr, {"value": "4", "confidence": "off_track"}, w.head)
    db.session.commit()
    card = db.session.query(Scorecard).filter_by(cycle_id=w.cycle.id, person_id=w.people[0].id).one()
    okr.link_item(card.items[0], kr, w.head)
    db.session.commit()
    page = browser(w.head).page(f"/objectives/{sales.id}/tree")
    assert f'id="tree-objective-{top.id}"' in page  # starts from the top the user may see
    assert 'class="branch-at-risk focus"' in page and "New listings" in page and card.items[0].name in page
    zh = w.head
    zh.locale = "zh_CN"
    db.session.commit()
    page = browser(zh).page(f"/objectives/{sales.id}/tree")
    assert "对齐树" in page and "有风险" in page


def test_decompose_preview_then_save(w, browser):
    top = company_objective(w)
    sales = dept(w, w.head, top)
    kr = gmv_kr(sales, w.head, [{"store_id": w.de.id, "share_pct": "100"}], target="100")
    b = browser(w.head)
    page = b.page(f"/key-results/{kr.id}/decompose")
    assert all(p.name in page for p in w.people)
    rows = {"method": "equal", "child": [str(p.id) for p in w.people]}
    preview = b.post(f"/key-results/{kr.id}/decompose", {**rows, "preview": "1"}, htmx=True)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<html" not in html and "33.34" in html and "33.33" in html
    assert db.session.query(KeyResult).filter_by(parent_kr_id=kr.id).count() == 0
    typed = {"method": "typed", "child": [str(w.people[0].id)], f"amount_{w.people[0].id}": "60", "preview": "1"}
    assert "short by 40" in b.post(f"/key-results/{kr.id}/decompose", typed).get_data(as_text=True)
    assert b.post(f"/key-results/{kr.id}/decompose", {**rows, "save": "1"}).status_code == 302
    children = db.session.query(KeyResult).filter_by(parent_kr_id=kr.id).all()
    assert sorted(str(c.target) for c in children) == ["33.330000", "33.330000", "33.340000"]
    assert "Sums to the target exactly." in b.page(f"/key-results/{kr.id}")
    assert browser(w.people[0]).get(f"/key-results/{kr.id}/decompose").status_code == 403


def test_menu_entry_and_chinese_labels(w, browser):
    w.people[0].locale = "zh_CN"
    db.session.commit()
    page = browser(w.people[0]).page("/objectives/")
    assert "目标" in page and "Objectives" not in page


def test_a_chinese_user_reads_no_english_on_the_objective_pages(w, browser):
    """The zh walk of test_zh_everywhere needs the whole demo; this reads every objective page with
    this file's data, as HR in zh_CN, with the same English detector."""
    import re

    from tests.web.test_zh_everywhere import english_in, visible_text

    top = company_objective(w, rollup=True)
    sales = dept(w, w.head, top)
    gmv = gmv_kr(sales, w.head, [{"store_id": w.de.id, "share_pct": "100"}], target="100")
    okr.decompose(gmv, "equal", [{"owner_id": p.id} for p in w.people], w.head)
    manual = okr.create_key_result(sales, {"title": "Listings", "kind": "manual", "target": "40", "unit": "count"},
                                   w.head)
    okr.check_in(manual, {"value": "4", "confidence": "off_track", "note": "late"}, w.head)
    steps = okr.create_key_result(sales, {"title": "Launch", "kind": "milestone", "milestones": "One\nTwo"}, w.head)
    db.session.commit()
    w.hr.locale = "zh_CN"
    db.session.commit()
    typed = [top.title, sales.title, "GMV", "Listings", "Launch", "One", "Two", "late", "Sales Europe",
             *(p.name for p in (w.gm, w.head, w.ops_head, w.hr, *w.people)), w.us.name, w.de.name, "Grow",
             "European", "sales", "profitably", w.cycle.name]
    allowed = re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in sorted(typed, key=len, reverse=True)))
    b = browser(w.hr)
    paths = ["/objectives/", "/objectives/new", f"/objectives/{top.id}", f"/objectives/{sales.id}/edit",
             f"/objectives/{top.id}/tree", f"/objectives/{sales.id}/key-results/new", f"/key-results/{gmv.id}",
             f"/key-results/{gmv.id}/edit", f"/key-results/{gmv.id}/decompose", f"/key-results/{manual.id}",
             f"/key-results/{steps.id}"]
    found = {path: english_in(visible_text(b.page(path)), allowed) for path in paths}
    preview = b.post(f"/key-results/{gmv.id}/decompose", {"method": "typed", "child": [str(w.people[0].id)],
                                                          f"amount_{w.people[0].id}": "60", "preview": "1"})
    found["preview"] = english_in(visible_text(preview.get_data(as_text=True)), allowed)
    refused = b.post("/objectives/new", {"title": "x", "level": "person", "owner_id": str(w.hr.id), "period": "q"})
    found["refused"] = english_in(visible_text(refused.get_data(as_text=True)), allowed)
    assert {path: runs for path, runs in found.items() if runs} == {}


def test_edit_objective_page(w, browser):
    top = company_objective(w)
    sales = dept(w, w.head, top)
    b = browser(w.head)
    page = b.page(f"/objectives/{sales.id}/edit")
    assert 'value="Sales Europe"' in page and f'<option selected value="{top.id}">' in page
    response = b.post(f"/objectives/{sales.id}/edit", {"title": "Sales EU", "parent_id": str(top.id), "weight": "3",
                                                        "status": "active", "rollup": "y", "owner_id": str(w.head.id),
                                                        "level": "department", "period": QUARTER})
    assert response.status_code == 302
    db.session.refresh(sales)
    assert (sales.title, str(sales.weight), sales.rollup, sales.shared) == ("Sales EU", "3.00", True, False)
    seller = browser(w.people[0])
    assert seller.get(f"/objectives/{sales.id}/edit").status_code == 404  # now private: not even seen
    assert seller.get(f"/objectives/{top.id}/edit").status_code == 403  # seen, not theirs to change
