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
STORE_OPTIONS = 200  # more visible stores than this: the bar asks for a store code, not a <select>
STORE_CODE = re.compile(r"^[^\s<>\"'&]{1,64}$")


@dataclass(frozen=True)
class Filters:
    cycle: int | None = None
    period: str | None = None  # "YYYY-MM"; None: the cycle's whole period
    department: int | None = None
    platform: str | None = None
    store: int | None = None
    ignored: tuple = field(default=(), compare=False)
    store_code: str | None = field(default=None, compare=False)  # typed in the bar; `within` resolves it

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
        code = (args.get("store_code") or "").strip()
        if code and "store" not in values:
            if STORE_CODE.match(code):
                values["store_code"] = code
            else:
                ignored.append("store")
        return cls(**values, ignored=tuple(ignored))

    def query(self, **changes):
        """The filters as query-string arguments (for url_for), with `changes` applied."""
        changed = replace(self, **changes)
        return {name: getattr(changed, name) for name in NAMES if getattr(changed, name) is not None}

    def within(self, offered):
        """These filters with any department or store this user was not offered dropped
        (and named in `ignored`): a shared link never widens what the reader may see. A typed
        store code becomes the offered store's id."""
        if self.store_code is not None:
            found = [value for value, code in offered["stores"] if code == self.store_code]
            return replace(self, store=found[0] if found else None, store_code=None,
                           ignored=self.ignored + (() if found else ("store",))).within(offered)
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


def choices(user, wanted=None, shown=NAMES):
    """What the filter bar offers this user, each list narrowed by the policy module:
    {"cycles": [(id, name)], "departments": [(id, name)], "platforms": [str], "stores": [(id, code)],
    "store_field": bool}. With more than STORE_OPTIONS visible stores the bar has a store code
    field instead of a list (its bytes do not grow with the stores), and "stores" holds only
    the store `wanted` (Filters) names, if visible. Four or five queries whatever the org size
    (plus the policy's own); two fewer when the bar `shown` has neither platform nor store and
    `wanted` names neither (`Filters.within` reads those lists only for a filter that is set):
    they stay empty (the team dashboard's bar, whose stores and platforms at 5,000 people were
    two statements over the reader's whole line on the first request after a write)."""
    lists = needed_lists(wanted, shown)
    cycles = db.session.execute(
        select(Cycle.id, Cycle.name).where(policy.visible_cycles_filter(user))
        .order_by(Cycle.period_start.desc(), Cycle.id.desc()).limit(RECENT_CYCLES)).all()
    departments = db.session.execute(
        select(Department.id, Department.name).where(policy.visible_departments_filter(user))
        .order_by(Department.name, Department.id)).all()
    visible = select(Store.id, Store.code).where(policy.visible_stores_filter(user))
    stores = db.session.execute(visible.order_by(Store.code).limit(STORE_OPTIONS + 1)).all() \
        if "store" in lists else []
    platforms = db.session.execute(select(Store.platform).where(policy.visible_stores_filter(user)).distinct()
                                   .order_by(Store.platform)).scalars().all() if "platform" in lists else []
    field = len(stores) > STORE_OPTIONS
    if field:
        stores = wanted_store(visible, wanted)
    return {"cycles": cycles, "departments": departments, "platforms": [str(p) for p in platforms],
            "stores": [(store_id, code) for store_id, code in stores], "store_field": field}


def needed_lists(wanted, shown):
    """Which of the store and platform lists `choices` must read: those the bar shows, and
    those a filter in `wanted` names (checked against them); both without `wanted`."""
    if wanted is None:
        return {"store", "platform"}
    asked = {"store"} if wanted.store is not None or wanted.store_code is not None else set()
    asked |= {"platform"} if wanted.platform is not None else set()
    return asked | ({"store", "platform"} & set(shown))


def wanted_store(visible, wanted):
    """[(id, code)] of the visible store that `wanted` names by id or typed code (one query), else []."""
    if wanted is None or (wanted.store is None and wanted.store_code is None):
        return []
    which = Store.id == wanted.store if wanted.store is not None else Store.code == wanted.store_code
    return db.session.execute(visible.where(which).limit(1)).all()


def current_cycle(filters, offered):
    """The cycle the panels show: the one asked for if offered, else the newest offered."""
    ids = [cycle_id for cycle_id, _name in offered]
    if filters.cycle in ids:
        return db.session.get(Cycle, filters.cycle)
    return db.session.get(Cycle, ids[0]) if ids else None
