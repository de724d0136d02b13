"""Walk the review desk in headless Chromium and save a screenshot of every page, so a person can look at them.

Usage (after `apt-get install -y chromium poppler-utils`):
    .venv/bin/python scripts/screenshot_desk.py --shots out/desk-shots

Records a classify run of the sample register and a select run of the generated panel in a throw-away store
(or uses --store with its runs and accounts), creates an analyst and an approver, starts the desk on a free port
and, as those users, takes full-page screenshots: sign-in, runs, a run filtered, a firm with its explanation and an
override just recorded, the cultivation list with a proposal, the approved list, the rules; and the first pages of
the approved list's PDF briefs as exported (cover and briefs, rendered with poppler's pdftoppm). The browser runs
with a throw-away profile and no network services.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tiering.desk.server import running
from tiering.desk.users import Users

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
ACCOUNTS = {"王芳": ("analyst", "analyst-pass-1"), "李主任": ("approver", "approver-pass-1")}


def record_runs(store: Path, work: Path) -> None:
    """A classify run of the sample register and a select run of the generated panel, recorded in ``store``."""
    tiering = [sys.executable, str(ROOT / "cli.py")]
    for args in (["classify", "datasets/sample_register.xlsx", "--year", "2025", "--out", str(work / "c")],
                 ["select", "datasets/generated/panel_s42.csv", "--year", "2025", "--out", str(work / "s")]):
        subprocess.run([*tiering, *args, "--store", str(store)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def sign_in(page: Page, base: str, name: str) -> None:
    page.goto(base + "/login")
    page.fill("#name", name)
    page.fill("#password", ACCOUNTS[name][1])
    page.click("#signin")
    page.wait_for_selector("#who")


def pdf_pages(pdf: Path, prefix: Path, pages: int = 3) -> list[Path]:
    """The first pages of a downloaded PDF as PNG (poppler's pdftoppm): the approved list's cover and briefs."""
    pdftoppm = shutil.which("pdftoppm") or sys.exit("pdftoppm not found: apt-get install -y poppler-utils")
    subprocess.run([pdftoppm, "-r", "80", "-png", "-f", "1", "-l", str(pages), str(pdf), str(prefix)], check=True)
    return sorted(prefix.parent.glob(f"{prefix.name}-*.png"))


def walk(base: str, shots: Path, evidence: Path) -> list[Path]:
    taken: list[Path] = []
    chromium = shutil.which("chromium") or sys.exit("chromium not found: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
        page = browser.new_page(viewport={"width": 1360, "height": 900}, accept_downloads=True)

        def shot(name: str) -> None:
            path = shots / f"{len(taken) + 1:02d}_{name}.png"
            page.screenshot(path=str(path), full_page=True)
            taken.append(path)

        page.goto(base + "/")
        shot("sign_in")
        sign_in(page, base, "王芳")
        shot("runs")
        classify_run = page.locator("#runs tr td:first-child a").nth(1)
        classify_run.click()
        shot("run")
        page.select_option("select[name=program]", "kjxzxqy")
        page.select_option("select[name=outcome]", "qualified")
        page.fill("#q", "蓟州")
        page.click("#search")
        shot("run_filtered")
        page.locator("#firms tr td:nth-child(3) a").first.click()
        page.fill("#ov-why", "现场核查：研发人员为兼职，研发费用需剔除")
        page.fill("#ov-evidence", "津科函〔2025〕12号")
        page.set_input_files("#ov-file", str(evidence))
        page.select_option("#ov-outcome", "not_qualified")
        page.click("#ov-submit")
        shot("firm_with_override")
        page.goto(base + "/")
        page.locator("#runs a", has_text="培育名单").first.click()
        shot("list")
        page.locator("#others-table tr td:first-child").first.text_content()
        code = page.locator("#others-table tr td:first-child").first.inner_text()
        page.fill("#add-uscc", code)
        page.fill("#add-to", "3")
        page.fill("#add-why", "专家评审认为发展潜力大")
        page.click("#add-submit")
        shot("list_proposed")
        page.click("#logout")
        sign_in(page, base, "李主任")
        page.goto(base + "/")
        page.locator("#runs a", has_text="培育名单").first.click()
        page.fill("#approve-why", "经评审委员会讨论通过")
        page.click("#approve")
        shot("list_approved")
        with page.expect_download() as download:
            page.click("#export")
        download.value.save_as(str(shots / "approved_list.xlsx"))
        with page.expect_download() as download:
            page.click("#export-pdf")
        briefs = shots / "approved_briefs.pdf"
        download.value.save_as(str(briefs))
        taken += pdf_pages(briefs, shots / f"{len(taken) + 1:02d}_approved_briefs")
        page.goto(base + "/rules")
        shot("rules")
        browser.close()
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=Path, default=Path("out/desk-shots"))
    parser.add_argument("--store", type=Path, default=None,
                        help="An existing store (its accounts must include the ones in ACCOUNTS).")
    args = parser.parse_args()
    args.shots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tiering-desk-") as tmp:
        work = Path(tmp)
        store = args.store
        if store is None:
            store = work / "audit.sqlite"
            record_runs(store, work)
            users = Users(store)
            for name, (role, password) in ACCOUNTS.items():
                users.add(name, role, password)
        evidence = work / "津科函〔2025〕12号.pdf"
        evidence.write_bytes(b"%PDF-1.4\n% letter\n")
        with running(store) as base:
            for path in walk(base, args.shots, evidence):
                print(path)


if __name__ == "__main__":
    main()
