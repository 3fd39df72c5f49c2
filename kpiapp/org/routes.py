from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.exc import IntegrityError

from kpiapp import policy
from kpiapp.extensions import db
from kpiapp.forms import focus_first_error
from kpiapp.models import ClientCompany, Department, Position, Role, Store, User
from kpiapp.navigation import role_label
from kpiapp.org import queries as org_queries
from kpiapp.org import services
from kpiapp.org.forms import (ConfirmForm, DepartmentForm, PersonForm, PositionForm, StoreForm,
                              StoreOwnerForm, UploadForm, id_choices)
from kpiapp.policy import STAFF, allow, authorize
from kpiapp.tabular import TableError, write_csv, write_xlsx
from kpiapp.web.kept_pages import kept_page
from kpiapp.web.pages import attachment, render_page_or_fragment

bp = Blueprint("org", __name__)

PAGE_SIZE = 50
PERSON_FIELDS = ("name", "email", "role", "department_id", "position_id", "manager_id", "locale", "active",
                 "new_password", "dingtalk_id", "feishu_id", "wecom_id")


def all_of(model, order):
    return db.session.execute(select(model).order_by(order)).scalars().all()


# ---- people -----------------------------------------------------------------------------

@bp.route("/people")
@allow("people.manage")
@kept_page()
def people():
    query = request.args.get("q", "").strip()
    page = max(request.args.get("page", 1, type=int), 1)
    stmt = (select(User).where(policy.visible_people_filter(current_user)).order_by(User.name)
            .options(selectinload(User.department), selectinload(User.position), selectinload(User.manager)))
    if query:
        like = f"%{query}%"
        stmt = stmt.where(or_(User.name.ilike(like), User.email.ilike(like)))
    rows = db.session.execute(stmt.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).scalars().all()
    org_queries.load_department_lines({p.department for p in rows})  # each row shows its department's path
    return render_page_or_fragment("org/people.html", "org/_people_table.html", people=rows[:PAGE_SIZE],
                                   q=query, page=page, has_next=len(rows) > PAGE_SIZE)


@bp.route("/people/<int:person_id>")
@allow(STAFF)
def person(person_id):
    person = authorize("person.view", db.session.get(User, person_id))
    return render_template("org/person.html", person=person)


def person_form(obj=None):
    form = PersonForm(obj=obj)
    form.department_id.choices = id_choices(all_of(Department, Department.name), lambda d: d.path())
    form.position_id.choices = id_choices(all_of(Position, Position.title), lambda p: p.title)
    people = [p for p in all_of(User, User.name) if p.role != Role.client and (obj is None or p.id != obj.id)]
    form.manager_id.choices = id_choices(people, lambda p: f"{p.name} <{p.email}>")
    roles = list(Role) if current_user.role == Role.admin else [Role.employee, Role.client]
    form.role.choices = [(r.value, role_label(r)) for r in roles]
    return form


@bp.route("/people/new", methods=["GET", "POST"])
@allow("people.manage")
def new_person():
    form = person_form()
    if form.validate_on_submit() and save_person(form, User()):
        flash(_("Saved."), "success")
        return redirect(url_for("org.people"))
    return render_template("org/person_form.html", form=focus_first_error(form), person=None)


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@allow("people.manage")
def edit_person(person_id):
    person = authorize("person.manage", db.session.get(User, person_id))
    form = person_form(person)
    if request.method == "GET":
        form.department_id.data = person.department_id or 0
        form.position_id.data = person.position_id or 0
        form.manager_id.data = person.manager_id or 0
    if form.validate_on_submit() and save_person(form, person):
        flash(_("Saved."), "success")
        return redirect(url_for("org.person", person_id=person.id))
    return render_template("org/person_form.html", form=focus_first_error(form), person=person)


# service refusals shown next to the field they concern, in the user's language
PERSON_ERRORS = {
    "invalid_email": _l("Not a valid e-mail address."),
    "email_taken": _l("Another person already uses this e-mail."),
    "manager_loop": _l("A person cannot report to someone who reports to them."),
    "admin_protected": _l("Only an admin can change an admin."),
    "role_forbidden": _l("You may not give this role."),
}


def save_person(form, person):
    """Validated form in, one service call, commit; refusals land on the form's fields."""
    fields = services.PersonFields(**{name: form[name].data for name in PERSON_FIELDS})
    try:
        services.save_person(person, current_user, fields)
        db.session.commit()
    except services.OrgError as error:
        db.session.rollback()
        if error.code == "role_forbidden":
            abort(403)
        messages = error.params.get("problems") or [PERSON_ERRORS[error.code]]
        form[error.params["field"]].errors.extend(str(m) for m in messages)
        return False
    return True


@bp.route("/people/import", methods=["GET", "POST"])
@allow("people.manage")
def import_people():
    form = UploadForm()
    problems, summary = [], None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            plan = services.plan_people_import(upload.read(), upload.filename, current_user)
        except TableError as error:
            problems = [services.RowProblem(1, "", error.args[0])]
        else:
            problems = plan.problems
            if not problems:
                summary = commit_people_import(plan)
    return render_template("org/import_people.html", form=form, problems=problems, summary=summary,
                           columns=services.PEOPLE_COLUMNS)


def commit_people_import(plan):
    try:
        created, updated = services.apply_people_import(plan, current_user)
        db.session.commit()
        return {"created": created, "updated": updated}
    except services.OrgError as error:
        db.session.rollback()
        current_app.logger.info("people import refused %s: %s", error.code, error)
        flash(str(PERSON_ERRORS.get(error.code, _("This could not be done."))), "error")
        return None


@bp.route("/people/export.<fmt>")
@allow("people.manage")
def export_people(fmt):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    people = db.session.execute(select(User).where(policy.visible_people_filter(current_user))
                                .order_by(User.email)).scalars().all()
    rows = list(services.people_rows(people))
    body = write_csv(services.PEOPLE_COLUMNS, rows) if fmt == "csv" else write_xlsx(services.PEOPLE_COLUMNS, rows)
    mimetype = "text/csv" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return attachment(body, f"people.{fmt}", mimetype)


@bp.route("/people/template.csv")
@allow("people.manage")
def people_template():
    rows = [["li.lei@example.com", "李雷", "Operations / Amazon EU", "Amazon operations specialist",
             "wang.fang@example.com", "employee", "true", "zh_CN"]]
    return attachment(write_csv(services.PEOPLE_COLUMNS, rows), "people-template.csv", "text/csv")


# ---- departments and positions ------------------------------------------------------------

@bp.route("/departments", methods=["GET", "POST"])
@allow("org.manage")
def departments():
    departments = all_of(Department, Department.name)
    form = DepartmentForm()
    form.parent_id.choices = id_choices(departments, lambda d: d.path())
    if form.validate_on_submit():
        db.session.add(Department(name=form.name.data.strip(), parent_id=form.parent_id.data or None))
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("org.departments"))
    roots = [d for d in departments if d.parent_id is None]
    return render_template("org/departments.html", roots=roots, form=form)


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@allow("org.manage")
def edit_department(department_id):
    department = db.get_or_404(Department, department_id)
    form = DepartmentForm(obj=department)
    others = [d for d in all_of(Department, Department.name) if d.id not in department.descendant_ids()]
    form.parent_id.choices = id_choices(others, lambda d: d.path())
    if request.method == "GET":
        form.parent_id.data = department.parent_id or 0
    if form.validate_on_submit():
        department.name = form.name.data.strip()
        services.set_department_parent(department, db.session.get(Department, form.parent_id.data or 0))
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("org.departments"))
    return render_template("org/department_form.html", form=form, department=department)


@bp.route("/positions", methods=["GET", "POST"])
@allow("org.manage")
def positions():
    form = PositionForm()
    if form.validate_on_submit():
        try:
            db.session.add(Position(title=form.title.data.strip()))
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("org.positions"))
        except IntegrityError:
            db.session.rollback()
            form.title.errors.append(_("This position exists already."))
    return render_template("org/positions.html", positions=all_of(Position, Position.title), form=form)


# ---- stores ---------------------------------------------------------------------------------

@bp.route("/stores")
@allow("stores.manage")
def stores():
    return render_template("org/stores.html", stores=all_of(Store, Store.code))


@bp.route("/stores/new", methods=["GET", "POST"])
@bp.route("/stores/<int:store_id>/edit", methods=["GET", "POST"])
@allow("stores.manage")
def edit_store(store_id=None):
    store = db.get_or_404(Store, store_id) if store_id else Store()
    form = StoreForm(obj=store if store_id else None)
    form.client_company_id.choices = id_choices(all_of(ClientCompany, ClientCompany.name), lambda c: c.name)
    if not form.is_submitted():
        form.client_company_id.data = store.client_company_id or 0
    if form.validate_on_submit() and save_store(form, store):
        flash(_("Saved."), "success")
        return redirect(url_for("org.store", store_id=store.id))
    return render_template("org/store_form.html", form=form, store=store if store_id else None)


def save_store(form, store):
    try:
        ZoneInfo(form.timezone.data.strip())
    except (ZoneInfoNotFoundError, ValueError):
        form.timezone.errors.append(_("Unknown time zone, e.g. America/Los_Angeles."))
        return False
    store.code, store.name = form.code.data.strip().upper(), form.name.data.strip()
    store.platform, store.marketplace = form.platform.data, form.marketplace.data.strip().upper()
    store.currency, store.timezone = form.currency.data.strip().upper(), form.timezone.data.strip()
    store.active = form.active.data
    store.client_company_id = form.client_company_id.data or None
    try:
        db.session.add(store)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        form.code.errors.append(_("Another store already uses this code."))
        return False
    return True


def owner_form():
    form = StoreOwnerForm()
    staff = db.session.execute(select(User).where(User.role != Role.client, User.active)
                               .order_by(User.name)).scalars().all()
    form.person_id.choices = id_choices(staff, lambda p: p.name, blank=False)
    return form


@bp.route("/stores/<int:store_id>")
@allow("stores.manage")
def store(store_id):
    store = db.get_or_404(Store, store_id)
    client = db.session.get(ClientCompany, store.client_company_id) if store.client_company_id else None
    return render_template("org/store.html", store=store, form=owner_form(), confirm=ConfirmForm(), client=client,
                           connections=store_connections(store))


def store_connections(store):
    """(platform key, its connection or None) for the connect section; admins only, else None."""
    if not policy.has_permission(current_user, "connections.manage"):
        return None
    from kpiapp.connectors import services as connectors

    return connectors.store_platforms(store)


@bp.route("/stores/<int:store_id>/owners", methods=["POST"])
@allow("stores.manage")
def add_store_owner(store_id):
    store = db.get_or_404(Store, store_id)
    form = owner_form()
    error = None
    if form.validate_on_submit():
        try:
            services.add_store_owner(store, db.get_or_404(User, form.person_id.data), form.share_pct.data)
            db.session.commit()
        except services.OrgError:
            db.session.rollback()
            error = _("Shares of one store cannot exceed 100%.")
    else:
        error = _("Pick a person and a share between 0.01 and 100.")
    return render_page_or_fragment("org/store.html", "org/_store_owners.html", status=200, store=store,
                                   form=form, confirm=ConfirmForm(), error=error)


@bp.route("/stores/<int:store_id>/owners/<int:owner_id>/delete", methods=["POST"])
@allow("stores.manage")
def remove_store_owner(store_id, owner_id):
    store = db.get_or_404(Store, store_id)
    owner = next((o for o in store.owners if o.id == owner_id), None)
    if owner is None or not ConfirmForm().validate_on_submit():
        abort(404 if owner is None else 400)
    store.owners.remove(owner)
    db.session.commit()
    return render_page_or_fragment("org/store.html", "org/_store_owners.html", store=store,
                                   form=owner_form(), confirm=ConfirmForm(), error=None)
