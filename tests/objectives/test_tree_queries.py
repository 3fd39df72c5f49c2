"""The alignment tree reads in a constant number of SQL statements, however many objectives,
key results and aligned KPI items it holds (issue 14: it used to ask once per key result)."""
import pytest

from kpiapp.extensions import db
from kpiapp.models import Scorecard
from kpiapp.objectives import services as okr
from tests.objectives.okr_world import QUARTER, company_objective, make_world
from tests.web.test_page_queries import QueryCounter

pytestmark = pytest.mark.rollback


@pytest.fixture
def w(app):
    return make_world()


def grow(w, top, count, start):
    """`count` more department objectives under `top`, each with two key results and a person
    objective below it with one key result; the first ones take the sellers' GMV items."""
    for n in range(start, start + count):
        dept = okr.create_objective({"title": f"Dept {n}", "level": "department", "owner_id": w.head.id,
                                     "period": QUARTER, "parent_id": top.id}, w.hr)
        for k in range(2):
            okr.create_key_result(dept, {"title": f"D{n} KR{k}", "kind": "manual", "target": "10"}, w.hr)
        person = w.people[n % len(w.people)]
        mine = okr.create_objective({"title": f"Person {n}", "level": "person", "owner_id": person.id,
                                     "period": QUARTER, "parent_id": dept.id}, w.hr)
        kr = okr.create_key_result(mine, {"title": f"P{n} KR", "kind": "manual", "target": "10"}, w.hr)
        if n < len(w.people):
            card = db.session.query(Scorecard).filter_by(cycle_id=w.cycle.id, person_id=person.id).one()
            okr.link_item(card.items[0], kr, w.hr)
    db.session.commit()


def statements(call):
    db.session.expire_all()
    with QueryCounter(db.engine) as counter:
        result = call()
    return counter.count, result


def size(tree):
    return 1 + sum(size(child) for child in tree.children)


def test_the_tree_reads_in_the_same_number_of_statements_at_two_sizes(w):
    top = company_objective(w)
    grow(w, top, 2, 0)
    small, tree = statements(lambda: okr.alignment_tree(db.session.get(type(top), top.id), w.head))
    assert size(tree) == 5 and sum(len(k.items) for c in tree.children for g in c.children
                                   for k in g.key_results) == 2
    grow(w, top, 6, 2)
    large, tree = statements(lambda: okr.alignment_tree(db.session.get(type(top), top.id), w.head))
    assert size(tree) == 17 and sum(len(k.items) for c in tree.children for g in c.children
                                    for k in g.key_results) == 3
    print("statements", small, large)
    assert large == small, (small, large)


def test_the_tree_page_reads_in_the_same_number_of_statements_at_two_sizes(w, login):
    top = company_objective(w)
    grow(w, top, 2, 0)
    client = login(w.head)
    page = f"/objectives/{top.id}/tree"
    client.get(page)  # the first request warms what every page reads once
    small, response = statements(lambda: client.get(page))
    assert response.status_code == 200 and "P1 KR" in response.get_data(as_text=True)
    grow(w, top, 6, 2)
    client.get(page)  # and the first after a write (the menu's answers are kept per data token)
    large, response = statements(lambda: client.get(page))
    html = response.get_data(as_text=True)
    assert "P7 KR" in html and "Seller 2" in html
    print("statements", small, large)
    assert large == small, (small, large)
