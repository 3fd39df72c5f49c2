"""kpiapp: KPI and performance appraisal for cross-border e-commerce teams.

The app factory lives in kpiapp.app; importing this package loads nothing else,
so pure modules (parsers, workflow, scoring) import without Flask.
"""
