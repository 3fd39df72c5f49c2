"""`kpi sync` and the stand-in's failure switch."""
from kpiapp.connectors.fake import create_app as fake_app
from kpiapp.extensions import db
from kpiapp.models import ConnectionPull, MetricFact
from tests.connectors import testshop
from tests.connectors.conftest import BASE, connect_testshop


def sync(app, *args):
    return app.test_cli_runner().invoke(args=["kpi", "sync", *args])


def test_sync_pulls_the_range_given(app, shop, wire):
    connect_testshop(shop)
    result = sync(app, "AMZ-US", "--from", "2026-11-20", "--to", "2026-11-21", "--what", "sales", "--endpoint", BASE)
    assert result.exit_code == 0, result.output
    assert "AMZ-US sales 2026-11-20..2026-11-21: done, 2 import(s)" in result.output
    assert db.session.query(MetricFact).count() > 0


def test_sync_failure_is_one_line_and_exit_1(app, shop, wire, stand_in):
    connect_testshop(shop)
    stand_in.test_client().post("/_fake/fail", json={"platform": "testshop", "failure": "expired_token"})
    result = sync(app, "AMZ-US", "--from", "2026-11-20", "--to", "2026-11-20")
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("sync failed: AMZ-US sales 2026-11-20..2026-11-20: failed (auth_expired): The authorisation")
    assert db.session.query(ConnectionPull).one().failure == "auth_expired"


def test_sync_refuses_what_it_cannot_do(app, shop):
    assert sync(app, "NOPE").output.strip() == "sync: unknown store NOPE"
    assert sync(app, "AMZ-US").output.strip() == "sync: store AMZ-US has no connection"
    connect_testshop(shop)
    result = sync(app, "AMZ-US", "--what", "ads")
    assert (result.exit_code, result.output.strip()) == (1, "sync: no connection of AMZ-US can pull ads")
    assert sync(app, "AMZ-US", "--what", "bogus").output.strip() == "sync: unknown data kind bogus"


def test_stand_in_failure_switch():
    client = fake_app().test_client()
    assert client.post("/_fake/fail", json={"platform": "shopee", "failure": "fatal"}).json == \
        {"failures": {"shopee": "fatal"}}
    assert client.post("/_fake/fail", json={"platform": "shopee", "failure": "nope"}).status_code == 400
    assert client.post("/_fake/fail", json={"platform": "shopee", "failure": None}).json == {"failures": {}}
    assert "platforms" in client.get("/_fake/health").json


def test_stand_in_report_states_and_token_rotation(stand_in):
    client = stand_in.test_client()
    first = client.post("/testshop/token", data={**testshop.CLIENT, "refresh_token": testshop.REFRESH}).json
    answer = client.post("/testshop/token", data={**testshop.CLIENT, "refresh_token": first["refresh_token"]}).json
    again = client.post("/testshop/token", data={**testshop.CLIENT, "refresh_token": first["refresh_token"]})
    assert again.status_code == 400  # the refresh token rotated: the old one is dead
    headers = {"x-access-token": answer["access_token"]}
    report = client.post("/testshop/reports", json={"store": "AMZ-US", "day": "2026-11-20"}, headers=headers).json
    states = [client.get(f"/testshop/reports/{report['reportId']}", headers=headers).json["processingStatus"]
              for _ in range(3)]
    assert states == ["IN_PROGRESS", "DONE", "DONE"]
    assert client.get(f"/testshop/reports/{report['reportId']}").status_code == 401
