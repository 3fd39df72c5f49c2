"""Demo tasks (docs/objectives.md, "Tasks"): the Amazon NA lead's open work for the team, one
linked to a KPI item, with checklists, a comment with a mention, through the real services."""
from datetime import timedelta

from sqlalchemy import select

from kpiapp.extensions import db
from kpiapp.models import Cycle, Scorecard, User
from kpiapp.objectives import comments, tasks
from kpiapp.objectives.task_flow import TaskStep

# assignee login, title, days until due, checklist, steps taken
TASKS = [
    ("li.lei", "修复 AMZ-US 被抑制的商品页面", 3, ["导出被抑制的 ASIN 清单", "逐个修正图片和标题", "提交 Seller Central 工单"],
     [TaskStep.START]),
    ("han.mei", "准备黑五优惠券方案", -2, ["确定折扣力度", "核算毛利"], []),
    ("emma", "Renegotiate the 3PL storage rate", 10, ["Collect three quotes"], [TaskStep.START, TaskStep.FINISH]),
    ("li.lei", "补货：AMZ-US 热销款下周断货风险", 9, [], []),
]


def people_by_login(email_of):
    """login -> User; `email_of` is kpiapp.demo's (passed in: importing it here would be a cycle)."""
    return lambda login: db.session.execute(select(User).where(User.email == email_of(login))).scalar_one()


def latest_item(user):
    """The first KPI item of `user`'s scorecard in the latest cycle (None without one)."""
    card = db.session.execute(select(Scorecard).join(Cycle).where(Scorecard.person_id == user.id)
                              .order_by(Cycle.period_start.desc(), Scorecard.version.desc())).scalars().first()
    return card.items[0] if card is not None and card.items else None


def seed_tasks_demo(email_of):
    person = people_by_login(email_of)
    lead = person("na.lead")
    today = tasks.utc_today()
    made = []
    for login, title, days, checklist, steps in TASKS:
        assignee = person(login)
        values = {"title": title, "assignee_id": assignee.id, "due": today + timedelta(days=days),
                  "checklist": checklist}
        item = latest_item(assignee) if not made else None
        if item is not None:
            values["scorecard_item_id"] = item.id
        task = tasks.create_task(values, lead)
        for step in steps:
            tasks.move_task(task, step, assignee)
        made.append(task)
    tasks.set_check_item(made[0], made[0].checklist[0].id, True, person("li.lei"))
    comments.add_comment("task", made[0].id, "@li.lei 请把工单编号发我，周会上一起看。", lead)
    comments.add_comment("task", made[0].id, "@na.lead 好的，今天下班前发。", person("li.lei"))
    db.session.commit()
    return made
