"""Demo stores connected to the marketplace stand-in (issue 15, docs/connectors.md).

`connect_demo_stores()` connects AMZ-US (Amazon SP-API + Ads), SHP-SG (Shopee) and TTS-UK
(TikTok Shop) with the stand-in's demo credentials (kpiapp/connectors/fake/common.py) and
`base_url` http://127.0.0.1:5999, the port scripts/run.sh serves the stand-in on; a platform
whose connector is not in this checkout is skipped, so platforms merged later are connected
by the same call (add their store to DEMO_CONNECTIONS). `pull_demo_days()` then fills the last
days of the demo by real pulls from the stand-in mounted in this process (no server needed):
the same numbers as the uploaded files, now with a pull as their provenance.
"""
import os
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from kpiapp.connectors import services
from kpiapp.connectors.fake import common
from kpiapp.extensions import db
from kpiapp.models import Store
from kpiapp.models.connectors import PullStatus

DEMO_BASE_URL = os.environ.get("KPIAPP_FAKE_MARKETPLACE_URL") or common.DEMO_BASE_URL
# (store code, platform key): the hook list
DEMO_CONNECTIONS = [("AMZ-US", "amazon_sp"), ("AMZ-US", "amazon_ads"), ("SHP-SG", "shopee"), ("TTS-UK", "tiktok"),
                    ("LZD-MY", "lazada")]
PULLED_DAYS = 3  # the demo's last days pulled at seed time
PULLED_FROM_START = {"LZD-MY"}  # stores with no upload: every demo day comes from pulls


def connect_demo_stores(base_url=DEMO_BASE_URL, every_minutes=360):
    """Connect the demo stores whose platform connector exists; the connections (committed)."""
    registry = services.load_platforms()
    stores = {s.code: s for s in db.session.execute(select(Store)).scalars()}
    made = []
    for code, platform in DEMO_CONNECTIONS:
        if platform not in registry or code not in stores:
            continue
        settings = {**common.demo_settings(platform), "base_url": base_url}
        made.append(services.connect(stores[code], platform, settings, common.demo_credentials(platform),
                                     every_minutes=every_minutes))
    db.session.commit()
    return made


def pull_demo_days(connections, last_day, days=PULLED_DAYS, stand_in=None):
    """Pull [last_day - days + 1, last_day] of each connection and kind from an in-process
    stand-in; the pulls (each done or failed, a failure logged, never raised)."""
    from kpiapp.connectors.fake import create_app
    from kpiapp.connectors.fake.transport import session_for
    from kpiapp.demo.marketplace import FIRST_DAY, in_process_jobs
    from kpiapp.tracking import services as tracking

    stand_in = stand_in or create_app(limit=100_000)  # one process, no burst to throttle
    first = last_day - timedelta(days=days - 1)
    pulls = []
    # the pulled days equal the uploaded ones, so the seed's one recompute stays true
    with in_process_jobs(), tracking.suspended(), services.http_session(
            session_for(stand_in, DEMO_BASE_URL), sleep=no_wait):
        for connection in connections:
            start = FIRST_DAY if connection.store.code in PULLED_FROM_START else first
            for kind in connection.kinds or []:
                pull = services.new_pull(connection, kind, start, last_day)
                db.session.commit()
                pulls.append(services.run_pull(pull.id))
    forget_tokens(connections)
    failed = [p for p in pulls if p.status != PullStatus.done]
    if failed:
        current_app.logger.warning("demo pulls failed: %s", [(p.kind, p.failure, p.detail) for p in failed][:5])
    return pulls


def forget_tokens(connections):
    """The stand-in the app talks to later (`kpi fake-marketplace`, another process) knows none
    of the tokens this in-process one issued: start from the demo credentials again."""
    for connection in connections:
        connection.tokens = {}
    db.session.commit()


def no_wait(_seconds):
    """The in-process stand-in moves a report on with each poll, not with time: no waiting."""


def seed_connections_demo(last_day=None):
    """Connect the demo stores and fill their last days by pulls (called by seed_demo)."""
    from kpiapp.demo.marketplace import DEMO_TODAY

    connections = connect_demo_stores()
    return pull_demo_days(connections, last_day or DEMO_TODAY) if connections else []
