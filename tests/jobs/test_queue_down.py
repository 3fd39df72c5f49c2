"""Redis down: every enqueue fails loudly (503 page in the user's language, CLI exit 1) and the
job's object is marked failed instead of staying pending. A closed port is a real failure."""
import io

import pytest
from sqlalchemy import select

from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.models import ImportRecord, ReportBatch
from tests.appraisal.factories import make_team, walk_to
from tests.helpers import post_form
from tests.imports.files import ads_report, hr_user, store

REDIS_DOWN = "redis://127.0.0.1:1/0"
ADS = ads_report([("2025-03-01", "Camp A", 1000, 50, "25.50", "100.00")])
QUEUE_DOWN_ZH = "任务队列"  # part of the Chinese 503 sentence


@pytest.fixture
def app_config():
    return {"REDIS_URL": REDIS_DOWN}


def upload(client, shop):
    form = {"kind": "facts", "store": shop.code, "parser": "", "file": (io.BytesIO(ADS), "ads.csv")}
    return post_form(client, "/imports/", form, page="/imports/", content_type="multipart/form-data")


def chinese_hr(login):
    user = hr_user()
    user.locale = "zh_CN"
    db.session.commit()
    return login(user)


def records():
    db.session.expire_all()
    return db.session.execute(select(ImportRecord).order_by(ImportRecord.id)).scalars().all()


def test_upload_with_redis_down_is_a_503_in_chinese_and_the_import_fails(app, login):
    client, shop = chinese_hr(login), store()
    response = upload(client, shop)
    assert response.status_code == 503
    assert QUEUE_DOWN_ZH in response.get_data(as_text=True)
    [record] = records()
    assert (record.status, record.error_code) == ("failed", "queue_unavailable")
    again = upload(client, shop)  # the same file again: a new attempt, not the stuck record
    assert again.status_code == 503
    assert [(r.status, r.error_code) for r in records()] == [("failed", "queue_unavailable")] * 2


def test_cli_import_with_redis_down_exits_1_with_one_line(app, tmp_path):
    store(code="US-Q")
    path = tmp_path / "ads.csv"
    path.write_bytes(ADS)
    result = app.test_cli_runner().invoke(args=["kpi", "import", str(path), "--store", "US-Q"])
    assert result.exit_code == 1
    assert "queue" in result.stderr and "unreachable" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert [(r.status, r.error_code) for r in records()] == [("failed", "queue_unavailable")]


def test_cycle_start_with_redis_down_is_a_503(app, login):
    team = make_team(size=1)
    team.hr.locale = "zh_CN"
    db.session.commit()
    client = login(team.hr)
    response = post_form(client, f"/cycles/{team.cycle.id}/start", page=f"/cycles/{team.cycle.id}")
    assert response.status_code == 503 and QUEUE_DOWN_ZH in response.get_data(as_text=True)


def test_report_batch_with_redis_down_is_a_503_and_the_batch_fails(app, login):
    team = make_team(size=1)
    walk_to(team, team.people[0], S.LOCKED)
    client = login(team.hr)
    response = post_form(client, f"/reports/cycles/{team.cycle.id}/batch", {"lang": "en"},
                         page="/reports/cycles")
    assert response.status_code == 503
    assert "job queue is unavailable" in response.get_data(as_text=True)
    db.session.expire_all()
    batch = db.session.execute(select(ReportBatch)).scalar_one()
    assert batch.status == "failed"
