"""Demo data: a cross-border seller with ~30 people, 6 stores and two agency clients.

Loaded only into an empty database (`flask --app wsgi kpi seed-demo`).  All demo
accounts share DEMO_PASSWORD; the README lists them.  Never run in production.
"""
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from kpiapp.auth.passwords import hash_password
from kpiapp.extensions import db
from kpiapp.models import ClientCompany, Department, Position, Role, Store, StoreOwner, User

DEMO_PASSWORD = "kpi-demo-2026"
DOMAIN = "demo.kpiapp.org"

DEPARTMENTS = [
    ("Harbor & Pine", None),
    ("Operations", "Harbor & Pine"),
    ("Amazon NA", "Operations"),
    ("Amazon EU & JP", "Operations"),
    ("Shopee & TikTok", "Operations"),
    ("Advertising", "Harbor & Pine"),
    ("Customer Service", "Harbor & Pine"),
    ("Supply Chain", "Harbor & Pine"),
    ("People & HR", "Harbor & Pine"),
]

POSITIONS = [
    "General manager", "Head of operations", "Amazon operations specialist",
    "Marketplace operations specialist", "Advertising specialist", "Advertising lead",
    "Customer service agent", "Customer service lead", "Purchasing specialist",
    "Supply chain lead", "HR business partner", "System administrator",
]

STORES = [
    ("AMZ-US", "Harbor & Pine US", "amazon", "US", "USD", "America/Los_Angeles"),
    ("AMZ-DE", "Harbor & Pine DE", "amazon", "DE", "EUR", "Europe/Berlin"),
    ("AMZ-JP", "Harbor & Pine JP", "amazon", "JP", "JPY", "Asia/Tokyo"),
    ("AMZ-UK", "Harbor & Pine UK", "amazon", "UK", "GBP", "Europe/London"),
    ("SHP-SG", "Harbor & Pine Shopee SG", "shopee", "SG", "SGD", "Asia/Singapore"),
    ("TTS-UK", "Harbor & Pine TikTok UK", "tiktok", "UK", "GBP", "Europe/London"),
    # no upload: filled only by pulls from the stand-in (kpiapp/connectors/fake/lazada.py)
    ("LZD-MY", "Harbor & Pine Lazada MY", "lazada", "MY", "MYR", "Asia/Kuala_Lumpur"),
]

# login, name, department, position, manager login, role, locale
PEOPLE = [
    ("gm", "陈立 Chen Li", "Harbor & Pine", "General manager", None, "employee", "zh_CN"),
    ("admin", "Alex Morgan", "Harbor & Pine", "System administrator", "gm", "admin", "en"),
    ("hr", "周敏 Zhou Min", "People & HR", "HR business partner", "gm", "hr", "zh_CN"),
    ("hr2", "Sarah Keller", "People & HR", "HR business partner", "hr", "hr", "en"),
    ("ops.head", "王芳 Wang Fang", "Operations", "Head of operations", "gm", "employee", "zh_CN"),
    ("na.lead", "刘洋 Liu Yang", "Amazon NA", "Amazon operations specialist", "ops.head", "employee", "zh_CN"),
    ("li.lei", "李雷 Li Lei", "Amazon NA", "Amazon operations specialist", "na.lead", "employee", "zh_CN"),
    ("han.mei", "韩梅梅 Han Meimei", "Amazon NA", "Amazon operations specialist", "na.lead", "employee", "zh_CN"),
    ("emma", "Emma Wilson", "Amazon NA", "Amazon operations specialist", "na.lead", "employee", "en"),
    ("eu.lead", "Jonas Becker", "Amazon EU & JP", "Amazon operations specialist", "ops.head", "employee", "en"),
    ("zhao.lei", "赵磊 Zhao Lei", "Amazon EU & JP", "Amazon operations specialist", "eu.lead", "employee", "zh_CN"),
    ("sato", "佐藤 Sato Yui", "Amazon EU & JP", "Amazon operations specialist", "eu.lead", "employee", "en"),
    ("sun.li", "孙丽 Sun Li", "Amazon EU & JP", "Amazon operations specialist", "eu.lead", "employee", "zh_CN"),
    ("sea.lead", "Nguyen Thi Lan", "Shopee & TikTok", "Marketplace operations specialist", "ops.head", "employee", "en"),
    ("tan", "Tan Wei Ming", "Shopee & TikTok", "Marketplace operations specialist", "sea.lead", "employee", "en"),
    ("zhou.jie", "周杰 Zhou Jie", "Shopee & TikTok", "Marketplace operations specialist", "sea.lead", "employee", "zh_CN"),
    ("ads.lead", "吴昊 Wu Hao", "Advertising", "Advertising lead", "gm", "employee", "zh_CN"),
    ("ads1", "郑爽 Zheng Shuang", "Advertising", "Advertising specialist", "ads.lead", "employee", "zh_CN"),
    ("ads2", "Oliver Smith", "Advertising", "Advertising specialist", "ads.lead", "employee", "en"),
    ("ads3", "黄磊 Huang Lei", "Advertising", "Advertising specialist", "ads.lead", "employee", "zh_CN"),
    ("cs.lead", "林静 Lin Jing", "Customer Service", "Customer service lead", "gm", "employee", "zh_CN"),
    ("cs1", "Maria Garcia", "Customer Service", "Customer service agent", "cs.lead", "employee", "en"),
    ("cs2", "何欢 He Huan", "Customer Service", "Customer service agent", "cs.lead", "employee", "zh_CN"),
    ("cs3", "Kenji Tanaka", "Customer Service", "Customer service agent", "cs.lead", "employee", "en"),
    ("cs4", "马丽 Ma Li", "Customer Service", "Customer service agent", "cs.lead", "employee", "zh_CN"),
    ("sc.lead", "杨帆 Yang Fan", "Supply Chain", "Supply chain lead", "gm", "employee", "zh_CN"),
    ("buyer1", "徐静 Xu Jing", "Supply Chain", "Purchasing specialist", "sc.lead", "employee", "zh_CN"),
    ("buyer2", "David Brown", "Supply Chain", "Purchasing specialist", "sc.lead", "employee", "en"),
    ("buyer3", "高远 Gao Yuan", "Supply Chain", "Purchasing specialist", "sc.lead", "employee", "zh_CN"),
    ("intern", "Lucas Martin", "Amazon NA", "Amazon operations specialist", "na.lead", "employee", "en"),
]

CLIENT = ("client", "Nordic Home Goods AB", "Erik Lindqvist")

STORE_OWNERS = [
    ("AMZ-US", "li.lei", "40"), ("AMZ-US", "han.mei", "35"), ("AMZ-US", "emma", "25"),
    ("AMZ-DE", "zhao.lei", "60"), ("AMZ-DE", "sun.li", "40"),
    ("AMZ-JP", "sato", "100"),
    ("AMZ-UK", "sun.li", "50"), ("AMZ-UK", "eu.lead", "50"),
    ("SHP-SG", "tan", "70"), ("SHP-SG", "zhou.jie", "30"),
    ("TTS-UK", "zhou.jie", "100"),
]


def email_of(login):
    return f"{login}@{DOMAIN}"


def database_is_empty():
    return db.session.execute(select(func.count()).select_from(User)).scalar() == 0


def seed_org():
    departments = {}
    for name, parent in DEPARTMENTS:
        departments[name] = Department(name=name, parent=departments.get(parent))
    positions = {title: Position(title=title) for title in POSITIONS}
    db.session.add_all([*departments.values(), *positions.values()])
    stores = {code: Store(code=code, name=name, platform=platform, marketplace=mp, currency=cur,
                          timezone=tz) for code, name, platform, mp, cur, tz in STORES}
    db.session.add_all(stores.values())
    return departments, positions, stores


def seed_people(departments, positions):
    password = hash_password(DEMO_PASSWORD)
    people = {}
    for login, name, dept, position, _manager, role, locale in PEOPLE:
        people[login] = User(email=email_of(login), name=name, department=departments[dept],
                             position=positions[position], role=Role(role), locale=locale,
                             password_hash=password)
    for login, *_rest, manager, _role, _locale in PEOPLE:
        people[login].manager = people.get(manager)
    login, company, name = CLIENT
    client = ClientCompany(name=company)
    people[login] = User(email=email_of(login), name=name, role=Role.client, locale="en",
                         client_company=client, password_hash=password)
    db.session.add_all([client, *people.values()])
    return people


def seed_organisation():
    """Departments, positions, stores, people and store owners; returns the people by login."""
    departments, positions, stores = seed_org()
    people = seed_people(departments, positions)
    for code, login, share in STORE_OWNERS:
        db.session.add(StoreOwner(store=stores[code], person=people[login], share_pct=Decimal(share)))
    db.session.flush()
    return people


def seed_demo():
    """Load the whole demo: organisation, appraisal cycles, marketplace data, agency contracts, signed
    reports."""
    from kpiapp.demo.appraisal import seed_appraisal_demo
    from kpiapp.demo.clients import seed_clients_demo
    from kpiapp.demo.marketplace import seed_marketplace_demo

    people = seed_organisation()
    seed_appraisal_demo()
    seed_marketplace_demo()
    seed_connections()
    seed_clients_demo()
    seed_reports()
    seed_dashboards()
    seed_objectives()
    seed_tasks()
    seed_reviews()
    seed_reminders()
    return len(people)


# the company dashboard panels demo HR shows every staff member (the rest: HR and the GM)
PUBLIC_PANELS = ("departments", "freshness")


def seed_connections():
    """The demo stores connected to the marketplace stand-in, their last days pulled (issue 15)."""
    from kpiapp.demo.connections import seed_connections_demo

    return seed_connections_demo()


def seed_dashboards():
    """HR makes two company panels public, as the audited service does from the page."""
    from kpiapp.dashboards import services

    hr = db.session.execute(select(User).where(User.email == email_of("hr"))).scalar_one()
    for panel in PUBLIC_PANELS:
        services.set_public("company", panel, True, hr)
    db.session.commit()


# the days the demo pretends the daily reminder job ran (2026 Q4: targets due 10 Oct, approval
# 15 Oct), and the marketplace demo's last day, with the weekly at-risk digest
REMINDER_DAYS = (date(2026, 10, 7), date(2026, 10, 9), date(2026, 10, 10), date(2026, 10, 11),
                 date(2026, 10, 13), date(2026, 10, 16), date(2026, 10, 18), date(2026, 11, 26))


def seed_reminders():
    """What send_reminders would have sent on a few days of Q4, for cycle health's history."""
    from kpiapp.reminders import services

    sent = sum(services.send_reminders(day) for day in REMINDER_DAYS)
    sent += services.at_risk_digest(REMINDER_DAYS[-1])
    db.session.commit()
    return sent


def seed_reviews():
    """Last week's closed team review and this week's open one (kpiapp/demo/reviews.py)."""
    from kpiapp.demo.reviews import seed_reviews_demo

    return seed_reviews_demo()


def seed_objectives():
    """The 2026 Q4 objectives, key results, a decomposed target and check-ins (docs/objectives.md)."""
    from kpiapp.demo.objectives import seed_objectives_demo

    return seed_objectives_demo()


def seed_tasks():
    """Open tasks of the Amazon NA team, a checklist, comments with mentions (kpiapp/demo/tasks.py)."""
    from kpiapp.demo.tasks import seed_tasks_demo

    return seed_tasks_demo(email_of)


def seed_reports():
    """Signed reports of the locked demo scorecards; a no-op until the appraisal demo locked some."""
    from kpiapp.reports.services import seed_reports_demo

    return seed_reports_demo()
