"""The connections page, the connect form (admins only, write-only credentials), the HTMX
test button and the authorisation link's state (signed, single-use, bound to the session)."""
from urllib.parse import parse_qs, urlsplit

from kpiapp.extensions import db
from kpiapp.models import Role, StoreConnection
from kpiapp.models.connectors import ConnectionStatus
from tests.connectors import testshop
from tests.connectors.conftest import BASE, connect_testshop
from tests.factories import UserFactory
from tests.helpers import csrf_from, post_form


def edit_path(shop):
    return f"/org/stores/{shop.id}/connections/testshop"


def test_only_admins_reach_connections(login, shop):
    hr = login(UserFactory(role=Role.hr))
    assert hr.get("/connections").status_code in (403, 404)
    assert hr.get(edit_path(shop)).status_code in (403, 404)
    assert "store-connections" not in hr.get(f"/org/stores/{shop.id}").get_data(as_text=True)


def test_connect_form_saves_and_never_shows_credentials(login, admin, shop):
    browser = login(admin)
    page = browser.get(edit_path(shop)).get_data(as_text=True)
    form = {"c_client_id": testshop.CLIENT["client_id"], "c_client_secret": testshop.CLIENT["client_secret"],
            "c_refresh_token": testshop.REFRESH, "s_stand_in_store": "AMZ-US", "kinds": ["sales"],
            "every_minutes": "60", "freshness_hours": "24", "csrf_token": csrf_from(page)}
    response = browser.post(edit_path(shop), data=form)
    assert response.status_code == 302
    connection = db.session.query(StoreConnection).one()
    assert connection.credentials["client_secret"] == testshop.CLIENT["client_secret"]
    assert (connection.every_minutes, connection.kinds, connection.settings) == (60, ["sales"], {"stand_in_store": "AMZ-US"})
    again = browser.get(edit_path(shop)).get_data(as_text=True)
    assert testshop.CLIENT["client_secret"] not in again and testshop.REFRESH not in again
    assert again.count(">set<") == 3 or again.count("set</small>") == 3
    store_page = browser.get(f"/org/stores/{shop.id}").get_data(as_text=True)
    assert "store-connections" in store_page and edit_path(shop) in store_page


def test_test_button_answers_in_place_with_htmx(login, admin, shop, wire, stand_in):
    connection = connect_testshop(shop)
    browser = login(admin)
    path = f"/connections/{connection.id}/test"
    answer = post_form(browser, path, page=edit_path(shop), headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "The connection works." in answer.get_data(as_text=True)
    assert "<html" not in answer.get_data(as_text=True)
    stand_in.test_client().post("/_fake/fail", json={"platform": "testshop", "failure": "expired_token"})
    without_js = post_form(browser, path, page=edit_path(shop))
    assert without_js.status_code == 302
    db.session.refresh(connection)
    assert connection.status == ConnectionStatus.needs_reconnect
    page = browser.get("/connections").get_data(as_text=True)
    assert "Reconnect" in page


def test_connections_page_shows_each_kind(login, admin, shop, wire):
    connect_testshop(shop)
    from kpiapp.connectors import services

    services.sync("AMZ-US", *[__import__("datetime").date(2026, 11, 20)] * 2)
    page = login(admin).get("/connections").get_data(as_text=True)
    assert 'data-kind="sales"' in page and "Sales and traffic" in page and "AMZ-US" in page


def refused(browser, path):
    answer = browser.get(path)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/connections")
    return "The authorisation link was not valid" in browser.get("/connections").get_data(as_text=True)


def tampered_signature(state):
    """Change the signature's first character: all six of its bits count, unlike the
    last one, whose low bits are base64 padding that decodes to the same bytes."""
    payload, signature = state.rsplit(".", 1)
    first = "B" if signature[0] == "A" else "A"
    return f"{payload}.{first}{signature[1:]}"


def authorise(browser, connection):
    answer = browser.get(f"/connections/{connection.id}/authorize")
    assert answer.status_code == 302 and answer.headers["Location"].startswith(f"{BASE}/testshop/authorize")
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["redirect_uri"] == ["http://localhost/connections/callback"]
    return query["state"][0]


def test_authorisation_state_is_checked_and_single_use(login, admin, shop, wire):
    connection = connect_testshop(shop)
    browser = login(admin)
    state = authorise(browser, connection)
    done = browser.get(f"/connections/callback?state={state}&code={testshop.AUTH_CODE}")
    assert done.status_code == 302 and edit_path(shop) in done.headers["Location"]
    db.session.refresh(connection)
    assert connection.tokens["access_token"] and connection.status == ConnectionStatus.connected
    assert refused(browser, f"/connections/callback?state={state}&code={testshop.AUTH_CODE}")


def test_authorisation_state_from_another_session_or_forged_is_refused(login, admin, shop, wire):
    connection = connect_testshop(shop)
    state = authorise(login(admin), connection)
    other = login(admin)
    assert refused(other, f"/connections/callback?state={state}&code={testshop.AUTH_CODE}")
    mine = login(admin)
    good = authorise(mine, connection)
    forged = tampered_signature(good)
    assert refused(mine, f"/connections/callback?state={forged}&code={testshop.AUTH_CODE}")
    db.session.refresh(connection)
    assert "access_token" not in connection.tokens


def test_pages_in_chinese(login, shop, wire):
    chinese_admin = UserFactory(role=Role.admin, email="zh-admin@example.com", locale="zh_CN")
    connection = connect_testshop(shop)
    from kpiapp.connectors import services

    services.note_failure(connection, "auth_expired")
    db.session.commit()
    browser = login(chinese_admin)
    index = browser.get("/connections").get_data(as_text=True)
    assert "平台连接" in index and "授权已过期或已被撤销" in index and "重新连接" in index
    form = browser.get(edit_path(shop)).get_data(as_text=True)
    assert "加密存储，不会再次显示" in form and "已设置" in form and "测试连接" in form
    for english in ("Credentials", "Test the connection", "Data to pull", "Last successful pull", "Reconnect"):
        assert english not in index + form


def test_the_callback_takes_sp_apis_name_for_the_code(login, admin, shop, wire):
    connection = connect_testshop(shop)
    browser = login(admin)
    state = authorise(browser, connection)
    done = browser.get(f"/connections/callback?state={state}&spapi_oauth_code={testshop.AUTH_CODE}"
                       "&selling_partner_id=A3SELLER")
    assert done.status_code == 302 and edit_path(shop) in done.headers["Location"]
    db.session.refresh(connection)
    assert connection.tokens["access_token"] and connection.status == ConnectionStatus.connected
