"""The demo organisation, seeded once per session into a database that tests copy.

`seed_demo()` is the slowest set-up in the suite; the modules that read the demo
(tests/web/test_zh_everywhere.py, tests/e2e/test_dashboards_browser.py) each get a
fresh copy of one seeded database (`cloned`, as every test copies the migrated
template) together with the instance directory it was seeded with (signing keys,
audit anchors).  Under pytest-xdist each worker that runs one of them seeds the
demo once (each worker has its own template databases); tests/scheduling.py sends
them all to one worker.

`marketplace_template` is seed_demo's first three steps alone (organisation, appraisal cycles,
marketplace imports), for the tests of those steps (tests/tracking/test_demo_data.py,
tests/objectives/test_okr_demo.py): seeded once, each test gets a fresh copy
(`marketplace_app`) instead of importing the demo's marketplace files again.
`demo_template` is a copy of it on which seed_demo carries on from its fourth step
(`seed_after_marketplace`), so a run imports the marketplace files once, not twice.
"""
import shutil
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import select, update

from kpiapp import demo
from kpiapp.app import create_app
from kpiapp.audit import SYSTEM, set_actor
from kpiapp.extensions import db
from kpiapp.models import User
from tests.conftest import IsolatedClient, as_template, cloned, make_config, without_fsync


@contextmanager
def seeded_template(template_db, tmp_path_factory, prefix, seed, instance_from=None):
    """((template, instance directory), what `seed()` returned): a copy of `template_db`
    seeded by `seed` as the system actor, committed and closed so it can serve as a template.
    `instance_from`: the instance directory `template_db` was seeded with (copied), if any."""
    directory = tmp_path_factory.mktemp(prefix)
    instance = directory / "instance"
    if instance_from is None:
        instance.mkdir()
    else:
        shutil.copytree(instance_from, instance)
    name = f"kpi_{prefix}_{uuid.uuid4().hex[:8]}"
    with cloned(template_db, directory, name) as uri:
        app = create_app(make_config(uri, instance))
        with app.app_context():
            without_fsync(db.engine)
            set_actor(SYSTEM)
            made = seed()
            db.session.commit()
            db.session.remove()
            db.engine.dispose()  # PostgreSQL copies a template only while nobody is connected
        yield (as_template(template_db, directory, name), instance), made


def seed_after_marketplace():
    """seed_demo() on a copy of `marketplace_template`, which holds its first three steps already:
    those three stand in as no-ops (the rest run for real, in seed_demo's order); then a batch."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo, "seed_organisation", dict)  # seed_demo returns len(people)
        patch.setattr("kpiapp.demo.appraisal.seed_appraisal_demo", lambda: None)
        patch.setattr("kpiapp.demo.marketplace.seed_marketplace_demo", lambda: None)
        demo.seed_demo()
    start_a_report_batch()


@pytest.fixture(scope="session")
def demo_template(marketplace_template, tmp_path_factory):
    """(template, instance directory): a database holding the demo and one pending report batch,
    seeded on a copy of `marketplace_template`."""
    (market, market_instance), _report = marketplace_template
    with seeded_template(market, tmp_path_factory, "demo", seed_after_marketplace,
                         instance_from=market_instance) as (seeded, _):
        yield seeded


def start_a_report_batch():
    """The demo issues reports one by one; a batch page needs a batch (left pending)."""
    from kpiapp.models import Role, Scorecard
    from kpiapp.reports.services import start_batch

    hr = db.session.execute(select(User).where(User.role == Role.hr).order_by(User.id)).scalars().first()
    locked = db.session.execute(select(Scorecard.cycle_id).where(Scorecard.state == "locked")).scalars().first()
    start_batch(locked, hr, "zh_CN")


@contextmanager
def demo_app(demo_template, directory, locale="zh_CN"):
    """An app on a fresh copy of the demo; every user reads `locale` (None: the browser's language)."""
    with seeded_copy(demo_template, directory) as app:
        with app.app_context():
            set_actor(SYSTEM)
            db.session.execute(update(User).values(locale=locale))
            db.session.commit()
        yield app


@contextmanager
def seeded_copy(seeded, directory):
    """An app on a fresh copy of a seeded (template, instance directory)."""
    template, seeded_instance = seeded
    instance = directory / "instance"
    shutil.copytree(seeded_instance, instance)
    with cloned(template, directory, f"kpi_democ_{uuid.uuid4().hex[:8]}", ahead=True) as uri:
        app = create_app(make_config(uri, instance))
        app.test_client_class = IsolatedClient
        with app.app_context():
            without_fsync(db.engine)
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture(scope="session")
def marketplace_template(template_db, tmp_path_factory):
    """((template, instance directory), what seed_marketplace_demo returned): the demo's
    organisation, appraisal cycles and marketplace imports, as seed_demo makes them first."""
    with seeded_template(template_db, tmp_path_factory, "market", seed_marketplace_base) as made:
        yield made


def seed_marketplace_base():
    from kpiapp.demo.appraisal import seed_appraisal_demo
    from kpiapp.demo.marketplace import seed_marketplace_demo

    demo.seed_organisation()
    seed_appraisal_demo()
    return seed_marketplace_demo()


@pytest.fixture
def marketplace_app(marketplace_template, tmp_path):
    """(app, seed report): an app, in its context, on a fresh copy of `marketplace_template`."""
    seeded, report = marketplace_template
    with seeded_copy(seeded, tmp_path) as app:
        with app.app_context():
            yield app, report
            db.session.remove()
