"""kpiapp/policy.py decides; it neither imports a face (a view, a redirect helper) nor commits.

Read from the source, imports inside functions included, so a lazy import cannot hide.
"""

import ast
from pathlib import Path

POLICY = Path(__file__).resolve().parents[2] / "kpiapp" / "policy.py"

# what a permission module may lean on: the framework, the ORM, the models and the workflow table
ALLOWED_IMPORTS = {
    "functools", "flask", "flask_login", "sqlalchemy", "werkzeug.exceptions",
    "kpiapp.extensions", "kpiapp.models", "kpiapp.models.appraisal", "kpiapp.models.reports",
    "kpiapp.appraisal.workflow", "kpiapp.appraisal.dispute_flow",
    "kpiapp.contracts.flow", "kpiapp.contracts.report_flow", "kpiapp.flow_table", "kpiapp.objectives.task_flow",
}


def tree():
    return ast.parse(POLICY.read_text(encoding="utf-8"))


def test_policy_imports_no_view_and_no_service():
    imported = set()
    for node in ast.walk(tree()):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported - ALLOWED_IMPORTS == set()


def test_policy_never_commits():
    calls = [node.func.attr for node in ast.walk(tree())
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)]
    assert "commit" not in calls and "rollback" not in calls
