"""Objectives and key results (OKR + KPI), tasks, comments and the weekly review (docs/objectives.md)."""
