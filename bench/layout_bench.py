"""Issue 11: does any page get wider than the window? The demo's people at three widths.

    KPIAPP_ENV=dev DATABASE_URL=sqlite:////tmp/demo.sqlite .venv/bin/flask --app wsgi kpi seed-demo
    KPIAPP_ENV=dev DATABASE_URL=sqlite:////tmp/demo.sqlite .venv/bin/gunicorn -b 127.0.0.1:5107 wsgi:app
    .venv/bin/python bench/layout_bench.py [--base http://127.0.0.1:5107] [--shots artifacts/layout]

Signs in as each demo login in headless Chromium at 1366x900, 1280x800 and 390x844, opens the
home page, the inbox, the person's newest scorecard, People and Cycles, and prints per view
whether document.documentElement.scrollWidth <= innerWidth and the header's height.
"""
import argparse
import re
from pathlib import Path

from playwright.sync_api import sync_playwright

LOGINS = ["hr", "admin", "na.lead", "li.lei", "emma"]
SIZES = [(1366, 900), (1280, 800), (390, 844)]
PAGES = ["/", "/inbox/", "newest scorecard", "/org/people", "/cycles/"]


def sign_in(page, base, login):
    page.goto(f"{base}/login")
    page.fill("input[name=email]", f"{login}@demo.kpiapp.org")
    page.fill("input[name=password]", "kpi-demo-2026")
    page.click('form[action="/login"] button[type=submit]')
    page.wait_for_load_state()


def newest_scorecard(page, base):
    page.goto(f"{base}/scorecards/")
    found = re.findall(r'href="(/scorecards/\d+)"', page.content())
    return found[0] if found else "/scorecards/"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:5107")
    parser.add_argument("--shots", default="artifacts/layout")
    args = parser.parse_args()
    Path(args.shots).mkdir(parents=True, exist_ok=True)
    fits = total = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for login in LOGINS:
            for width, height in SIZES:
                context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
                page = context.new_page()
                sign_in(page, args.base, login)
                for path in PAGES:
                    path = newest_scorecard(page, args.base) if path == "newest scorecard" else path
                    page.goto(args.base + path)
                    ok = page.evaluate("document.documentElement.scrollWidth <= innerWidth")
                    header = page.evaluate("document.querySelector('header').getBoundingClientRect().height")
                    name = f"{login}-{width}-{path.strip('/').replace('/', '_') or 'home'}"
                    page.screenshot(path=f"{args.shots}/{name}.png")
                    print(f"{name:40} {'fits' if ok else 'WIDER THAN THE WINDOW'}  header {header:.0f}px")
                    fits, total = fits + ok, total + 1
                context.close()
        browser.close()
    print(f"{fits} of {total} views fit their window")


if __name__ == "__main__":
    main()
