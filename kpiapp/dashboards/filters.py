"""The filters every dashboard shares: cycle, period, department, platform, store.

They live in the query string, so a filtered view is a link that can be bookmarked and
shared; `Filters.query()` builds every such link. A value that cannot be read is dropped
and named in `ignored` (the page says so) rather than guessed.
"""
import re
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import select

from kpiapp import policy
from kpiapp.extensions import db
from kpiapp.i18n import N_
from kpiapp.models import Cycle, Department, Platform, Store

NAMES = ("cycle", "period", "department", "platform", "store")
LABELS = {"cycle": N_("Cycle"), "period": N_("Period"), "department": N_("Department"),
          "platform": N_("Platform"), "store": N_("Store")}
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
PLATFORMS = tuple(p.value for p in Platform)
RECENT_CYCLES = 24


@dataclass(frozen=True)
class Filters:
    cycle: int | None = None
    period: str | None = None  # "YYYY-MM"; None: the cycle's whole period
    department: int | None = None
    platform: str | None = None
    store: int | None = None
    ignored: tuple = field(default=(), compare=False)

    @classmethod
    def from_args(cls, args):
        values, ignored = {}, []
        for name in NAMES:
            text = (args.get(name) or "").strip()
            if not text:
                continue
            value = read(name, text)
            if value is None:
                ignored.append(name)
            else:
                values[name] = value
        return cls(**values, ignored=tuple(ignored))

    def query(self, **changes):
        """The filters as query-string arguments (for url_for), with `changes` applied."""
        changed = replace(self, **changes)
        return {name: getattr(changed, name) for name in NAMES if getattr(changed, name) is not None}

    def within(self, offered):
        """These filters with any department or store this user was not offered dropped
        (and named in `ignored`): a shared link never widens what the reader may see."""
        drops = {name: None for name, key in (("department", "departments"), ("store", "stores"))
                 if getattr(self, name) is not None
                 and getattr(self, name) not in {value for value, _label in offered[key]}}
        if self.platform is not None and self.platform not in offered["platforms"]:
            drops["platform"] = None
        return replace(self, **drops, ignored=self.ignored + tuple(drops)) if drops else self

    def date_range(self, cycle):
        """(first, last) day the panels cover: the month asked for within the cycle, else the cycle."""
        if self.period is None:
            return cycle.period_start, cycle.period_end
        first = date(int(self.period[:4]), int(self.period[5:]), 1)
        last = date(first.year + first.month // 12, first.month % 12 + 1, 1).toordinal() - 1
        return max(first, cycle.period_start), min(date.fromordinal(last), cycle.period_end)


def read(name, text):
    if name == "period":
        return text if MONTH.match(text) else None
    if name == "platform":
        return text if text in PLATFORMS else None
    return int(text) if text.isdigit() and len(text) < 10 else None


def choices(user):
    """What the filter bar offers this user, each list narrowed by the policy module:
    {"cycles": [(id, name)], "departments": [(id, name)], "platforms": [str], "stores": [(id, code)]}.
    Four queries whatever the org size (plus the policy's own)."""
    cycles = db.session.execute(
        select(Cycle.id, Cycle.name).where(policy.visible_cycles_filter(user))
        .order_by(Cycle.period_start.desc(), Cycle.id.desc()).limit(RECENT_CYCLES)).all()
    departments = db.session.execute(
        select(Department.id, Department.name).where(policy.visible_departments_filter(user))
        .order_by(Department.name, Department.id)).all()
    stores = db.session.execute(
        select(Store.id, Store.code, Store.platform).where(policy.visible_stores_filter(user))
        .order_by(Store.code)).all()
    return {"cycles": cycles, "departments": departments,
            "platforms": sorted({platform for _id, _code, platform in stores}),
            "stores": [(store_id, code) for store_id, code, _platform in stores]}


def current_cycle(filters, offered):
    """The cycle the panels show: the one asked for if offered, else the newest offered."""
    ids = [cycle_id for cycle_id, _name in offered]
    if filters.cycle in ids:
        return db.session.get(Cycle, filters.cycle)
    return db.session.get(Cycle, ids[0]) if ids else None
