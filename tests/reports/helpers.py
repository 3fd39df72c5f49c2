"""Shared helpers for the report tests."""

import subprocess

from kpiapp.appraisal import services as appraisal
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from kpiapp.reports import services
from tests.appraisal.factories import walk_to


def pdf_text(data, tmp_path, name="report.pdf"):
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def flip_byte(data, at=None):
    at = len(data) // 3 if at is None else at
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def issue(card, actor, lang="en"):
    report = services.issue_report(card.id, actor, lang)
    db.session.commit()
    return report


def reopen_and_relock(team, card):
    """Admin reopens a locked scorecard (version N+1) and it is locked again."""
    appraisal.reopen(card, team.admin, "Late B2B orders were missing from the GMV import.")
    db.session.commit()
    return walk_to(team, card.person, S.LOCKED)
