"""`flask kpi import`: the same service, one line out, non-zero exit on any rejection."""
from tests.imports.files import ads_report, business_report, store


def run(app, *args):
    return app.test_cli_runner().invoke(args=["kpi", "import", *args])


def test_cli_imports_and_prints_one_line(app, tmp_path):
    shop = store(code="US-CLI")
    path = tmp_path / "BusinessReport.csv"
    path.write_bytes(business_report([("B0CHILD001", 510, 41, "$1,066.59")]))
    result = run(app, str(path), "--store", "US-CLI", "--from", "2025-03-01", "--to", "2025-03-01")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().count("\n") == 0
    assert "committed: 1 rows read, 5 written, 0 replaced, 0 rejected" in result.stdout
    assert shop.id


def test_cli_fails_with_one_line_reason(app, tmp_path):
    store(code="US-CLI")
    path = tmp_path / "ads.csv"
    path.write_bytes(ads_report([("2025-03-01", "A", "lots", 5, "1", "2")]))
    result = run(app, str(path), "--store", "US-CLI")
    assert result.exit_code == 1 and "failed" in result.stderr and "nothing was imported" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert run(app, str(path), "--store", "NOPE").exit_code == 1
    bad = tmp_path / "x.exe"
    bad.write_bytes(b"a")
    assert "rejected" in run(app, str(bad), "--store", "US-CLI").stderr
