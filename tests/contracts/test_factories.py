from datetime import date
from decimal import Decimal
from kpiapp.metrics.services import compute_metric
from tests.contracts.factories import make_contract, month_of_facts

def test_factory_contract_and_facts():
    setup = make_contract()
    for s in setup.stores:
        month_of_facts(s, 2026, 8, sales=60000, ad_spend=7000, ad_sales=30000)
    gmv = compute_metric("gmv", [(s.id, 1) for s in setup.stores], date(2026, 8, 1), date(2026, 8, 31))
    acos = compute_metric("acos", [(s.id, 1) for s in setup.stores], date(2026, 8, 1), date(2026, 8, 31))
    assert gmv.value == Decimal(120000)
    assert round(acos.value, 4) == Decimal("0.2333")
    assert len(setup.clauses) == 2 and setup.contract.team_ids == {setup.lead.id, setup.member.id}
