"""Demo weekly reviews (周会复盘): the Amazon EU & JP team (Jonas Becker's) had its review last
week, closed with two decisions that became tasks (one done since) and one without an owner;
this week's review is open with a first note. Weeks count from the demo's "today"."""
from datetime import timedelta

from sqlalchemy import select

from kpiapp.demo.marketplace import DEMO_TODAY
from kpiapp.extensions import db
from kpiapp.models import User
from kpiapp.objectives import reviews, tasks
from kpiapp.objectives.task_flow import TaskStep

DOMAIN = "demo.kpiapp.org"  # kpiapp.demo.DOMAIN (not imported: kpiapp.demo imports this module)
LAST_WEEK_NOTES = ("AMZ-DE sales are behind the quarter's pace since the Black Friday deals started late; "
                   "ACoS on the UK store is above its threshold.")
THIS_WEEK_NOTES = "Check the Black Friday results per store before the meeting."


def person(login):
    return db.session.execute(select(User).where(User.email == f"{login}@{DOMAIN}")).scalar_one()


def seed_reviews_demo(today=DEMO_TODAY):
    """Last week's closed review with its decisions and tasks, this week's open one; commits."""
    lead, zhao, sun = person("eu.lead"), person("zhao.lei"), person("sun.li")
    this_week = reviews.monday(today)
    last = reviews.open_review(lead, this_week - timedelta(days=7), lead)
    reviews.save_notes(last, LAST_WEEK_NOTES, lead)
    done = reviews.add_decision(last, {"text": "Move 20% of the AMZ-DE ad budget to the best-selling ASINs",
                                       "owner_id": zhao.id, "task": True, "due": today}, lead)
    reviews.add_decision(last, {"text": "Lower the UK bids until ACoS is under 28%", "owner_id": sun.id,
                                "task": True, "due": this_week + timedelta(days=4)}, lead)
    reviews.add_decision(last, {"text": "Ask supply chain about the December restock dates"}, lead)
    tasks.move_task(done.task, TaskStep.FINISH, zhao)
    reviews.close_review(last, lead, last.week + timedelta(days=6))
    current = reviews.open_review(lead, this_week, lead)
    reviews.save_notes(current, THIS_WEEK_NOTES, lead)
    db.session.commit()
    return current
