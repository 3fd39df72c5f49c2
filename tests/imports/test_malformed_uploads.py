"""Every file of the malformed corpus, uploaded through the web form: no 5xx, nothing imported."""
import io
import json
from pathlib import Path

from sqlalchemy import func, select

from kpiapp.extensions import db
from kpiapp.models import FxRate, ImportRecord, MetricFact
from tests.helpers import post_form
from tests.imports.files import hr_user, store

CORPUS = Path(__file__).resolve().parents[1] / "unit/parsers/fixtures/malformed"


def test_malformed_corpus_through_the_upload_form(app, login, figures):
    client = login(hr_user())
    shop = store()
    manifest = json.loads((CORPUS / "MANIFEST.json").read_text(encoding="utf-8"))
    statuses = {}
    for name, spec in sorted(manifest.items()):
        form = {"kind": "fx" if spec["options"].get("fx") else "facts", "store_id": str(shop.id),
                "parser": "", "date_from": "2025-03-02",
                "file": (io.BytesIO((CORPUS / name).read_bytes()), name)}
        response = post_form(client, "/imports/", form, page="/imports/", content_type="multipart/form-data")
        statuses[name] = response.status_code
    assert {code for code in statuses.values()} <= {200, 302}, statuses
    records = db.session.execute(select(ImportRecord)).scalars().all()
    assert len(records) == len(manifest)
    assert {r.status for r in records} == {"failed"}
    assert sum(r.facts_written for r in records) == 0
    assert db.session.execute(select(func.count()).select_from(MetricFact)).scalar() == 0
    assert db.session.execute(select(func.count()).select_from(FxRate)).scalar() == 0
    figures.tally("Malformed uploads through the form", files=len(manifest),
                  server_errors=sum(code >= 500 for code in statuses.values()),
                  partial_imports=sum(r.status != "failed" for r in records))
