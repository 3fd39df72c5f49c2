import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from kpiapp.extensions import db
from kpiapp.models import AuditEvent, Role, StoreOwner, User
from tests.factories import DepartmentFactory, PositionFactory, StoreFactory, UserFactory
from tests.helpers import csrf_token

pytestmark = pytest.mark.rollback  # one transaction per test, rolled back (tests/conftest.py)


@pytest.fixture
def hr(app, login):
    return login(UserFactory(role=Role.hr))


def upload(client, name, body):
    token = csrf_token(client, "/org/people/import")
    return client.post("/org/people/import", data={"csrf_token": token, "file": (io.BytesIO(body), name)},
                       content_type="multipart/form-data")


def people_count():
    return db.session.execute(select(func.count()).select_from(User)).scalar()


def test_people_import_creates_and_updates(app, hr):
    dept, pos = DepartmentFactory(name="Amazon NA"), PositionFactory(title="Buyer")
    boss = UserFactory(email="boss@example.com")
    body = ("email,name,department,position,manager_email,role,active,locale\n"
            "a@example.com,Ann,Amazon NA,Buyer,boss@example.com,employee,true,en\n"
            "b@example.com,李雷,Amazon NA,,a@example.com,,yes,zh_CN\n"
            "boss@example.com,Boss Renamed,,,,employee,true,\n").encode()
    response = upload(hr, "people.csv", body)
    assert "2 added, 1 updated" in response.get_data(as_text=True)
    ann = db.session.execute(select(User).filter_by(email="a@example.com")).scalar_one()
    lei = db.session.execute(select(User).filter_by(email="b@example.com")).scalar_one()
    assert (ann.department_id, ann.position_id, ann.manager_id) == (dept.id, pos.id, boss.id)
    assert lei.manager_id == ann.id and lei.name == "李雷" and lei.locale == "zh_CN"
    db.session.refresh(boss)
    assert boss.name == "Boss Renamed"


def test_bad_people_file_changes_nothing_and_lists_every_problem(app, hr):
    before = people_count()
    body = ("email,name,department,role\n"
            "ok@example.com,Fine,,employee\n"
            "not-an-email,X,,employee\n"
            "c@example.com,,Nowhere,employee\n"
            "d@example.com,D,,admin\n").encode()
    page = upload(hr, "people.csv", body).get_data(as_text=True)
    assert "Nothing was imported" in page
    for line, text in [(3, "Not a valid e-mail address."), (4, "A name of 1 to 120"),
                       (4, "Unknown department."), (5, "Only an admin can grant this role.")]:
        assert f"<td>{line}</td>" in page and text in page
    assert people_count() == before


@pytest.mark.parametrize("name, body, message", [
    ("people.csv", b"", "The file is empty."),
    ("people.csv", "email,name\nx@example.com,\xe9\n".encode("latin-1"), "not UTF-8"),
    ("people.xlsx", b"PK\x03\x04garbage", "damaged or truncated"),
    ("people.xlsx", b"email,name\n", "not a real XLSX"),
    ("people.txt", b"email,name\n", "Upload a .csv or .xlsx file."),
])
def test_broken_files_are_explained(app, hr, name, body, message):
    before = people_count()
    assert message in upload(hr, name, body).get_data(as_text=True)
    assert people_count() == before


def test_manager_loop_in_file_is_refused(app, hr):
    before = people_count()
    body = b"email,name,manager_email\nx@example.com,X,y@example.com\ny@example.com,Y,x@example.com\n"
    upload(hr, "loop.csv", body)
    assert people_count() == before


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_neutralises_formulas(app, hr, fmt):
    evil = ["=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "\tx", "\ry"]  # NUL: see test below
    for n, name in enumerate(evil):
        UserFactory(name=name, email=f"evil{n}@example.com")
    response = hr.get(f"/org/people/export.{fmt}")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    if fmt == "csv":
        cells = response.get_data(as_text=True)
        names = [line.split(",")[1] for line in cells.splitlines()[1:] if line.startswith("evil")]
    else:
        sheet = load_workbook(io.BytesIO(response.data)).active
        names = [row[1] for row in sheet.iter_rows(values_only=True) if str(row[0]).startswith("evil")]
    assert len(names) == 6 and all(str(n).lstrip('"').startswith("'") for n in names)


def test_store_shares_cannot_exceed_100(app, hr):
    store = StoreFactory()
    a, b = UserFactory(), UserFactory()
    path = f"/org/stores/{store.id}/owners"
    token = csrf_token(hr, f"/org/stores/{store.id}")
    hr.post(path, data={"csrf_token": token, "person_id": a.id, "share_pct": "60"})
    response = hr.post(path, data={"csrf_token": token, "person_id": b.id, "share_pct": "50"},
                       headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert "cannot exceed 100%" in body and "<html" not in body and "HX-Request" in response.headers["Vary"]
    shares = db.session.execute(select(StoreOwner.share_pct).filter_by(store_id=store.id)).scalars().all()
    assert [float(s) for s in shares] == [60.0]
    hr.post(path, data={"csrf_token": token, "person_id": b.id, "share_pct": "40"})
    assert db.session.execute(select(func.sum(StoreOwner.share_pct)).filter_by(store_id=store.id)).scalar() == 100


def test_people_search_fragment_and_page(app, hr):
    UserFactory(name="Findable Person")
    fragment = hr.get("/org/people?q=Findable", headers={"HX-Request": "true"}).get_data(as_text=True)
    page = hr.get("/org/people?q=Findable").get_data(as_text=True)
    assert "Findable Person" in fragment and "<html" not in fragment
    assert "Findable Person" in page and "<html" in page


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_people_list_puts_the_address_under_the_name(app, hr, locale):
    """Seven columns were wider than the window from 768 to 1024 px (tests/e2e/test_screen_fit_browser.py):
    the e-mail is no column of its own, it is under the name, breakable before its "@" (a <wbr>,
    so a copied address has no extra character), in a box that scrolls rather than the page."""
    UserFactory(name="Findable Person", email="findable.person@demo.kpiapp.org")
    hr.post("/language", data={"csrf_token": csrf_token(hr, "/org/people"), "locale": locale})
    for page in (hr.get("/org/people").get_data(as_text=True),
                 hr.get("/org/people", headers={"HX-Request": "true"}).get_data(as_text=True)):
        table = page[page.index('<div id="people-table">'):]
        row = next(r for r in table.split("<tr>") if "Findable Person" in r)
        assert '<small class="email">findable.person<wbr>@demo.kpiapp.org</small>' in row
        assert row.count("<td>") == 6  # name, department, position, manager, role, active: no e-mail column
        assert table.count("<th>") == 6 and ('<th>E-mail</th>' not in table) and ("<th>邮箱</th>" not in table)
        assert '<div class="table-scroll">' in table


def test_hr_cannot_make_an_admin_but_admin_can(app, login):
    target = UserFactory()
    for role, allowed in ((Role.hr, False), (Role.admin, True)):
        client = login(UserFactory(role=role))
        page = client.get(f"/org/people/{target.id}/edit").get_data(as_text=True)
        assert ('value="admin"' in page) == allowed


def test_edits_are_audited(app, hr):
    target = UserFactory(name="Old")
    token = csrf_token(hr, f"/org/people/{target.id}/edit")
    response = hr.post(f"/org/people/{target.id}/edit", data={
        "csrf_token": token, "name": "New", "email": target.email, "department_id": 0, "position_id": 0,
        "manager_id": 0, "role": "employee", "locale": "", "active": "y"})
    assert response.status_code == 302
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "user.update")
                               .order_by(AuditEvent.seq.desc())).scalars().first()
    assert '"name":"New"' in event.after_json and event.actor.startswith("person")


def test_disabling_a_person_ends_their_sessions(app, hr, login):
    target = UserFactory()
    victim = login(target)
    token = csrf_token(hr, f"/org/people/{target.id}/edit")
    hr.post(f"/org/people/{target.id}/edit", data={
        "csrf_token": token, "name": target.name, "email": target.email, "department_id": 0,
        "position_id": 0, "manager_id": 0, "role": "employee", "locale": ""})
    assert victim.get("/").status_code == 302


@pytest.mark.parametrize("writer", ["csv", "xlsx"])
def test_every_dangerous_prefix_is_neutralised(writer, figures):
    """=, +, -, @, tab and NUL (PostgreSQL cannot even store NUL, so tested without a database)."""
    from kpiapp.tabular import write_csv, write_xlsx

    values = ["=1+1", "+1", "-1", "@A1", "\tx", "\x00y"]
    if writer == "csv":
        lines = write_csv(["v"], [[v] for v in values]).decode("utf-8-sig").split("\r\n")[1:-1]
        cells = [line.strip('"') for line in lines]
    else:
        sheet = load_workbook(io.BytesIO(write_xlsx(["v"], [[v] for v in values]))).active
        cells = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(cells) == 6 and all(cell.startswith("'") for cell in cells), cells
    figures.tally("Export injection (=, +, -, @, tab, NUL in CSV and XLSX)", cells=len(values),
                  neutralised=sum(cell.startswith("'") for cell in cells))


@pytest.mark.parametrize("case, field, message", [
    ("email_taken", "email", "Another person already uses this e-mail."),
    ("manager_loop", "manager_id", "A person cannot report to someone who reports to them."),
    ("weak_password", "new_password", "This password is on a list of common passwords."),
])
def test_refused_person_save_keeps_what_was_typed(app, hr, case, field, message):
    UserFactory(email="taken@example.com")
    target = UserFactory(name="Old Name")
    report = UserFactory(manager=target)
    data = {"name": "Typed Name", "email": target.email, "department_id": 0, "position_id": 0, "manager_id": 0,
            "role": "employee", "locale": "", "active": "y",
            **{"email_taken": {"email": "taken@example.com"}, "manager_loop": {"manager_id": report.id},
               "weak_password": {"new_password": "password"}}[case]}
    token = csrf_token(hr, f"/org/people/{target.id}/edit")
    page = hr.post(f"/org/people/{target.id}/edit", data={"csrf_token": token, **data}).get_data(as_text=True)
    assert message in page and 'value="Typed Name"' in page
    invalid = re.search(rf'<[^>]*\bid="{field}"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in invalid and "autofocus" in invalid
    assert page.count("autofocus") == 1
    db.session.refresh(target)
    assert target.name == "Old Name" and target.manager_id is None


def test_the_person_service_refuses_a_role_the_actor_may_not_give(app):
    """The form offers HR no admin role; the service refuses it anyway (a crafted post, a script)."""
    from kpiapp.org import services

    target = UserFactory()
    fields = services.PersonFields(name=target.name, email=target.email, role="admin")
    with pytest.raises(services.OrgError) as refused:
        services.save_person(target, UserFactory(role=Role.hr), fields)
    assert refused.value.code == "role_forbidden" and refused.value.params["field"] == "role"
    services.save_person(target, UserFactory(role=Role.admin), fields)
    assert target.role == Role.admin


def test_people_import_takes_optional_im_ids_and_leaves_them_when_absent(app, hr):
    UserFactory(email="im@example.com", dingtalk_id="old-ding", wecom_id="old-wecom")
    body = ("email,name,dingtalk_id,feishu_id\n"
            "im@example.com,IM Person,ding-123,\n"
            "new@example.com,New,,ou_abc\n").encode()
    assert "1 added, 1 updated" in upload(hr, "people.csv", body).get_data(as_text=True)
    person = db.session.execute(select(User).filter_by(email="im@example.com")).scalar_one()
    db.session.refresh(person)
    assert (person.dingtalk_id, person.feishu_id, person.wecom_id) == ("ding-123", None, "old-wecom")
    new = db.session.execute(select(User).filter_by(email="new@example.com")).scalar_one()
    assert new.feishu_id == "ou_abc"
    page = upload(hr, "people.csv", b"email,name,wecom_id\nx@example.com,X,has space\n").get_data(as_text=True)
    assert "An IM id is at most 64 characters, without spaces." in page


def edit_data(target, **changes):
    return {"name": target.name, "email": target.email, "department_id": 0, "position_id": 0, "manager_id": 0,
            "role": "employee", "locale": "", "active": "y", **changes}


def test_the_person_form_sets_and_clears_im_ids(app, hr):
    target = UserFactory(wecom_id="old-wecom")
    token = csrf_token(hr, f"/org/people/{target.id}/edit")
    response = hr.post(f"/org/people/{target.id}/edit", data={
        "csrf_token": token, **edit_data(target, dingtalk_id=" ding-9 ", feishu_id="ou_x", wecom_id="")})
    assert response.status_code == 302
    db.session.refresh(target)
    assert (target.dingtalk_id, target.feishu_id, target.wecom_id) == ("ding-9", "ou_x", None)
    page = hr.get(f"/org/people/{target.id}").get_data(as_text=True)
    assert "ding-9" in page and "ou_x" in page


def test_a_bad_im_id_is_refused_next_to_its_field_and_kept(app, hr):
    target = UserFactory(dingtalk_id="kept")
    token = csrf_token(hr, f"/org/people/{target.id}/edit")
    page = hr.post(f"/org/people/{target.id}/edit", data={
        "csrf_token": token, **edit_data(target, dingtalk_id="has space")}).get_data(as_text=True)
    assert "An IM id is at most 64 characters, without spaces." in page and 'value="has space"' in page
    assert 'aria-invalid="true"' in re.search(r'<[^>]*\bid="dingtalk_id"[^>]*>', page).group(0)
    db.session.refresh(target)
    assert target.dingtalk_id == "kept"


def test_a_manager_sees_the_report_but_not_their_im_ids(app, login):
    manager = UserFactory()
    target = UserFactory(dingtalk_id="secret-ding", manager=manager)
    page = login(manager).get(f"/org/people/{target.id}")
    assert page.status_code == 200 and target.name in page.get_data(as_text=True)
    assert "secret-ding" not in page.get_data(as_text=True)


def test_xlsx_keeps_numbers_as_numbers_and_text_as_neutral_text():
    from decimal import Decimal

    from kpiapp.tabular import write_xlsx

    sheet = load_workbook(io.BytesIO(write_xlsx(["v"], [[Decimal("-1.50")], [7], ["-1"], [True]]))).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [(c.value, c.data_type) for c in cells] == [(-1.5, "n"), (7, "n"), ("'-1", "s"), ("True", "s")]
