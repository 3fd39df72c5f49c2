"""Agency KPI contracts (代运营KPI合同) and their monthly reports (docs/contracts.md)."""
