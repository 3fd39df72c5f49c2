"""The demo's connected stores: connected with the stand-in's demo credentials, filled by real
pulls from the stand-in mounted in-process (here with the test connector in the hook list)."""
from datetime import date

from kpiapp.demo import connections as demo_connections
from kpiapp.connectors.fake import common
from kpiapp.extensions import db
from kpiapp.models import ImportRecord
from kpiapp.models.connectors import PullStatus
from tests.connectors import testshop


def test_demo_stores_are_connected_and_filled_by_pulls(app, shop, stand_in, monkeypatch):
    monkeypatch.setattr(demo_connections, "DEMO_CONNECTIONS",
                        [("AMZ-US", "testshop"), ("AMZ-US", "not_merged_yet"), ("NO-STORE", "testshop")])
    monkeypatch.setitem(common.DEMO_CREDENTIALS, "testshop", {**testshop.CLIENT, "refresh_token": testshop.REFRESH})
    [connection] = demo_connections.connect_demo_stores()
    assert connection.settings["base_url"] == "http://127.0.0.1:5999"
    pulls = demo_connections.pull_demo_days([connection], date(2026, 11, 26), stand_in=stand_in)
    assert [(p.status, p.date_from, p.date_to) for p in pulls] == [
        (PullStatus.done, date(2026, 11, 24), date(2026, 11, 26))]
    records = db.session.query(ImportRecord).all()
    assert len(records) == 3 and all(r.status == "committed" and r.uploaded_by_id is None for r in records)
