"""The upload page, detail/progress fragment, downloads and the metric dictionary."""
import io

import pytest
from sqlalchemy import select

from kpiapp.extensions import db
from kpiapp.models import ImportFile, ImportRecord, MetricDefinition, Role
from tests.factories import UserFactory
from tests.helpers import post_form
from tests.imports.files import ads_report, hr_user, store

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)

ADS = ads_report([("2025-03-01", "Camp A", 1000, 50, "25.50", "100.00")])


@pytest.fixture
def hr(app, login):
    return login(hr_user())


def upload(client, data=ADS, name="ads.csv", shop=None, **fields):
    shop = shop or store()
    form = {"kind": "facts", "store": shop.code, "parser": "", "file": (io.BytesIO(data), name), **fields}
    return post_form(client, "/imports/", form, page="/imports/", content_type="multipart/form-data")


def test_hr_uploads_and_sees_the_committed_import(hr):
    response = upload(hr)
    assert response.status_code == 302
    record = db.session.execute(select(ImportRecord)).scalar_one()
    assert response.headers["Location"].endswith(f"/imports/{record.id}")
    page = hr.get(f"/imports/{record.id}").get_data(as_text=True)
    assert "imported" in page and "every 1s" not in page and ">4<" in page


def test_the_store_is_chosen_by_its_code_whatever_its_case(hr):
    shop = store(code="Shop-DE-01")
    assert upload(hr, shop=shop, store=" shop-de-01 ").status_code == 302
    assert db.session.execute(select(ImportRecord.store_id)).scalar_one() == shop.id


def test_an_unknown_or_inactive_store_code_is_refused(hr):
    retired = store(active=False)
    for code in ("NO-SUCH-STORE", retired.code):
        response = upload(hr, store=code)
        assert response.status_code == 200
        assert "Unknown store." in response.get_data(as_text=True)
    assert db.session.execute(select(ImportRecord)).first() is None


def test_the_store_field_suggests_the_stores_of_recent_imports_not_every_store(hr):
    """The page does not list every store (it would grow with the org): the suggestions are the
    stores of the imports listed, and the field takes any active store's code."""
    used, unused = store(), store()
    upload(hr, shop=used)
    page = hr.get("/imports/").get_data(as_text=True)
    suggestions = page.split('<datalist id="import-stores">')[1].split("</datalist>")[0]
    assert f'value="{used.code}"' in suggestions
    assert f'value="{unused.code}"' not in page and unused.name not in page
    assert upload(hr, shop=unused).status_code == 302


def test_rejected_upload_shows_the_reason(hr):
    response = upload(hr, data=b"a,b\n", name="x.exe")
    assert response.status_code == 200
    assert "This kind of file is not accepted." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/imports/", "/imports/template.csv", "/metrics/new"])
def test_employee_gets_403(app, login, path):
    assert login(UserFactory(role=Role.employee)).get(path).status_code == 403


def test_employee_cannot_upload(app, login):
    employee = login(UserFactory(role=Role.employee))
    assert upload(employee).status_code == 403
    assert db.session.execute(select(ImportRecord)).first() is None


def pending_record():
    record = ImportRecord(filename="r.csv", sha256="0" * 64, size=1, dedupe_key="k", status="running",
                          job_id="import-x", errors=[{"line": 2, "column": "value", "code": "bad_number",
                                                      "message": "=HYPERLINK(\"http://x\")"}])
    db.session.add(record)
    db.session.flush()
    db.session.add(ImportFile(import_id=record.id, data=b"=1+1,\xff"))
    db.session.commit()
    return record


def test_progress_fragment_polls_while_running(hr):
    record = pending_record()
    response = hr.get(f"/imports/{record.id}", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith("<section") and "<html" not in body and 'hx-trigger="every 1s"' in body
    full = hr.get(f"/imports/{record.id}")
    assert "<html" in full.get_data(as_text=True) and "HX-Request" in full.headers["Vary"]


def test_rejected_rows_csv_neutralises_formulas(hr):
    record = pending_record()
    response = hr.get(f"/imports/{record.id}/rejected.csv")
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "'=HYPERLINK" in response.get_data(as_text=True)


def test_raw_file_download_is_an_attachment_with_a_safe_name(hr):
    record = pending_record()
    record.filename = "../../etc/passwd report.csv"
    db.session.commit()
    response = hr.get(f"/imports/{record.id}/file")
    assert response.data == b"=1+1,\xff"
    assert response.headers["Content-Disposition"] == 'attachment; filename="etc_passwd_report.csv"'


def test_generic_template_download(hr):
    response = hr.get("/imports/template.csv")
    assert response.get_data(as_text=True).startswith("date,store,sku,measure,value,currency")


def test_dictionary_lists_builtins_for_any_staff(app, login):
    page = login(UserFactory(role=Role.employee)).get("/metrics/").get_data(as_text=True)
    assert "ad_spend / ad_sales" in page and "metric-acos" in page


def test_formula_validation_fragment(hr):
    ok = post_form(hr, "/metrics/validate", {"formula": "ad_spend/ad_sales"}, page="/metrics/new",
                   headers={"HX-Request": "true"})
    assert ok.status_code == 200 and "ad_spend / ad_sales" in ok.get_data(as_text=True)
    bad = post_form(hr, "/metrics/validate", {"formula": "ad_spend / ad_sale"}, page="/metrics/new")
    body = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "ad_sale" in body and "field-error" in body


def definition_form(**values):
    return {"name_en": "Ad CVR", "name_zh": "广告转化率", "unit": "fraction", "direction": "higher_better",
            "formula": "ad_orders / ad_clicks", "includes_en": "SP only", "includes_zh": "仅SP", **values}


def test_custom_definition_and_new_version(hr):
    created = post_form(hr, "/metrics/new", definition_form(key="ad_cvr"), page="/metrics/new")
    assert created.status_code == 302
    edited = post_form(hr, "/metrics/ad_cvr/edit", definition_form(formula="ad_units/ad_clicks"),
                       page="/metrics/ad_cvr/edit")
    assert edited.status_code == 302
    rows = db.session.execute(select(MetricDefinition).filter_by(key="ad_cvr")
                              .order_by(MetricDefinition.version)).scalars().all()
    assert [(r.version, r.is_current, r.formula) for r in rows] == [
        (1, False, "ad_orders / ad_clicks"), (2, True, "ad_units / ad_clicks")]


def test_invalid_formula_is_refused(hr):
    response = post_form(hr, "/metrics/new", definition_form(key="bad", formula="ad_spend +"),
                         page="/metrics/new")
    assert response.status_code == 200 and "field-error" in response.get_data(as_text=True)
    assert db.session.execute(select(MetricDefinition).filter_by(key="bad")).first() is None


def test_versions_page(hr):
    assert "ad_spend / ad_sales" in hr.get("/metrics/acos").get_data(as_text=True)
    assert hr.get("/metrics/no_such_metric").status_code == 404
    assert hr.get("/imports/999999").status_code == 404


def test_import_summary_shows_warnings_in_both_languages(app, login):
    """Unread columns, a missing measure and skipped total rows reach the user (issue 9)."""
    data = ("Date,Campaign Name,Currency,Impressions,Clicks,Spend,7 Day Total Sales ,Neue Spalte\n"
            "2025-03-01,Camp A,USD,1000,50,25.50,100.00,x\n"
            "Total,,,1000,50,25.50,100.00,\n").encode()
    user = hr_user()
    client = login(user)
    upload(client, data=data)
    record = db.session.execute(select(ImportRecord)).scalar_one()
    assert record.status == "committed"
    page = client.get(f"/imports/{record.id}").get_data(as_text=True)
    assert "Columns not read: Neue Spalte" in page
    assert "No column for ad-attributed orders: KPIs that use it will show no data" in page
    assert "1 total rows skipped." in page
    assert "Rejected rows" not in page
    assert client.get(f"/imports/{record.id}/rejected.csv").get_data(as_text=True).strip() == \
        "\ufeffline,column,code,message"
    user.locale = "zh_CN"
    db.session.commit()
    page = client.get(f"/imports/{record.id}").get_data(as_text=True)
    assert "未读取的列：Neue Spalte" in page
    assert "文件中没有“广告订单数”列" in page and "跳过了 1 行合计行。" in page
