"""Read-only queries over the org tree that answer in one statement whatever its size."""

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from kpiapp.extensions import db
from kpiapp.models import Department


def subtree_ids(department_id):
    """A SELECT of the ids of a department and everything below it (one recursive query;
    UNION drops rows already found, so a loop in the tree ends)."""
    tree = select(Department.id).where(Department.id == department_id).cte("subtree", recursive=True)
    tree = tree.union(select(Department.id).where(Department.parent_id == tree.c.id))
    return select(tree.c.id)


def load_department_lines(departments):
    """Load every department above `departments` in one recursive query and link each
    `parent`, so Department.path() costs no query per level or per department."""
    departments = [d for d in departments if d is not None]
    ids = {d.parent_id for d in departments if d.parent_id is not None}
    if not ids:
        return
    step = select(Department.id, Department.parent_id)
    line = step.where(Department.id.in_(ids)).cte("dline", recursive=True)
    line = line.union(step.where(Department.id == line.c.parent_id))
    found = db.session.execute(select(Department).where(Department.id.in_(select(line.c.id)))).scalars()
    above = {d.id: d for d in found}
    for department in departments + list(above.values()):
        if department.parent_id in above:
            set_committed_value(department, "parent", above[department.parent_id])
