"""Issue 11, "done means": every role's walk through one cycle, in Chromium, at 1366x900 and 390x844,
in English and Chinese.

Each view: the page is no wider than the window, and no two visible labels, hints or controls of a
form overlap. Each review form: one refused submission keeps every typed value. A full-page
screenshot per (role, page, width, language) goes to artifacts/walk/ (ignored by git).
"""
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kpiapp.appraisal import services
from kpiapp.appraisal.workflow import Action
from kpiapp.appraisal.workflow import ScorecardState as S
from kpiapp.extensions import db
from tests.appraisal.factories import make_team, manual_items, metric_item, walk_to
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, ClientUserFactory

pytestmark = pytest.mark.browser

WALK = Path(__file__).resolve().parents[2] / "artifacts" / "walk"
SIZES = {"1366": (1366, 900), "390": (390, 844)}
STAGES = [S.SUBMITTED, S.APPROVED, S.SELF_REVIEW, S.MANAGER_REVIEW, S.CALIBRATION, S.LOCKED]

FITS = "document.documentElement.scrollWidth <= window.innerWidth"
# pairs of visible labels, hints and controls of one form whose boxes cross (an element
# and what it contains, such as a label and its input, are not a pair)
OVERLAPS = """() => {
  const parts = 'label, small, .field-error, .draft-status, input:not([type=hidden]), select, textarea, button';
  const found = [];
  for (const form of document.querySelectorAll('main form')) {
    const shown = [...form.querySelectorAll(parts)].filter(e => e.getClientRects().length)
      .map(e => [e, e.getBoundingClientRect()]).filter(([e, r]) => r.width > 0 && r.height > 0);
    for (let i = 0; i < shown.length; i++) for (let j = i + 1; j < shown.length; j++) {
      const [a, ra] = shown[i], [b, rb] = shown[j];
      if (a.contains(b) || b.contains(a)) continue;
      const across = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const down = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (across > 1 && down > 1) found.push(`${form.getAttribute('action')}: ${a.outerHTML.slice(0, 80)} / ${b.outerHTML.slice(0, 80)}`);
    }
  }
  return found;
}"""


@dataclass
class Cycle:
    base: str
    cycle_id: int
    cards: dict  # stage -> scorecard id
    logins: dict  # role -> email
    manager_form: dict  # typed values refused by the manager-review form
    self_form: dict  # typed values refused by the self-review form


def build_cycle(base):
    """One team with a scorecard in every stage: returned, submitted ... locked."""
    team = make_team(size=len(STAGES) + 1)
    returned, *people = team.people
    services.apply_action(team.card(returned).id, Action.SUBMIT, returned)
    services.apply_action(team.card(returned).id, Action.RETURN_, team.manager, reason="Raise the GMV target")
    cards = {S.RETURNED: team.card(returned).id}
    for person, stage in zip(people, STAGES):
        cards[stage] = walk_to(team, person, stage).id
    reviewing, locked = people[STAGES.index(S.SELF_REVIEW)], people[STAGES.index(S.LOCKED)]
    reviewing.locale, locked.locale = "zh_CN", "en"
    client = ClientUserFactory()
    logins = {"employee-zh": reviewing.email, "employee-en": locked.email, "manager": team.manager.email,
              "hr": team.hr.email, "admin": team.admin.email, "client": client.email}
    self_card, manager_card = team.card(reviewing), team.card(people[STAGES.index(S.MANAGER_REVIEW)])
    manual, data = manual_items(manager_card)[0].id, metric_item(manager_card).id
    own = manual_items(self_card)[0].id
    walked = Cycle(base, team.cycle.id, cards, logins,
                   manager_form={f"items-{manual}-manager_score": "3.5", f"items-{manual}-manager_comment": "Ran stand-ups",
                                 f"items-{data}-manager_score": "100",  # an override without a reason: refused
                                 f"items-{data}-manager_comment": "Strong December",
                                 "manager_comment": "Agreed, with one correction."},
                   self_form={f"items-{own}-self_score": "7",  # over the item's scale of 5: refused
                              f"items-{own}-self_comment": "Led three launches",
                              "self_comment": "A quarter of marketplace audits."})
    db.session.commit()
    return walked


def pages_of(role, walk):
    """(name, path) of the views `role` walks; the scorecards' names say their stage."""
    card = lambda stage: f"/scorecards/{walk.cards[stage]}"  # noqa: E731
    common = [("home", "/"), ("inbox", "/inbox/")]
    own = {"employee-zh": [("self-review", card(S.SELF_REVIEW))],
           "employee-en": [("locked", card(S.LOCKED))],
           "manager": [("team", "/scorecards/team")]
           + [(stage.value, card(stage)) for stage in [S.RETURNED, *STAGES]],
           "hr": [("calibration", f"/cycles/{walk.cycle_id}/calibration"), ("board", f"/cycles/{walk.cycle_id}"),
                  ("calibration-card", card(S.CALIBRATION))],
           "admin": [("cycles", "/cycles/")],
           "client": []}
    return common + own[role]


def look(page, name):
    page.screenshot(path=str(WALK / f"{name}.png"), full_page=True)  # first: a failure has its picture
    assert page.evaluate(FITS), f"{name}: wider than the window"
    assert page.evaluate(OVERLAPS) == [], name


def refused_keeps_typed(page, typed, button, name):
    """Fill `typed`, send the form with the browser's own checks off (the server's are the ones
    under test), and expect the refusal to come back with every value still in its input."""
    first = page.locator(f"[name='{next(iter(typed))}']")
    for field, value in typed.items():
        page.fill(f"[name='{field}']", value)
    first.evaluate("input => input.form.noValidate = true")
    page.locator(f"main form button:has-text('{button}')").click()
    expect(page.locator("main [aria-invalid=true]").first).to_be_visible()  # the refused input, marked
    for field, value in typed.items():
        assert page.locator(f"[name='{field}']").input_value() == value, f"{name}: {field} lost"
    look(page, f"{name}-refused")


REFUSALS = {  # (role, page) -> (which typed values, the save button by language)
    ("manager", S.MANAGER_REVIEW.value): ("manager_form", {"en": "Save review", "zh": "保存评估"}),
    ("employee-zh", "self-review"): ("self_form", {"zh": "保存自评", "en": "Save self-review"}),
}


def walk_role(browser, walk, role, width, lang):
    viewport = dict(zip(("width", "height"), SIZES[width]))
    context = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, walk.base, walk.logins[role], PASSWORD)
    expect(page.locator("form[action='/logout']")).to_have_count(1)
    for view, path in pages_of(role, walk):
        page.goto(walk.base + path)
        name = f"{role}-{view}-{width}-{lang}"
        look(page, name)
        if (role, view) in REFUSALS:
            which, button = REFUSALS[(role, view)]
            refused_keeps_typed(page, getattr(walk, which), button[lang], name)
    context.close()


WALKERS = [("employee-zh", "zh"), ("employee-en", "en")] + [
    (role, lang) for role in ("manager", "hr", "admin", "client") for lang in ("en", "zh")]


@pytest.mark.parametrize("width", list(SIZES))
def test_every_role_walks_the_cycle_without_overflow_or_overlap(app, live_server, browser, width):
    WALK.mkdir(parents=True, exist_ok=True)
    walk = build_cycle(live_server)
    for role, lang in WALKERS:
        walk_role(browser, walk, role, width, lang)
