"""The whole review in a real browser: Debian's headless Chromium driven by Playwright (the system browser, never
one Playwright downloads). Sign in, search a firm, open its explanation, record an override with an evidence
file, propose and approve the list, export it to Excel and to PDF briefs, sign out.

Skipped only when Chromium is absent outside CI; under CI=true (set by .ci/run, which installs chromium) it runs.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from desk_fixtures import EVIL, PASSWORDS, build_store
from pypdf import PdfReader
from test_audit import FIRMS

from tiering.audit.verify import verify
from tiering.desk.server import running

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM is not None, "CI=true but chromium is not installed: .ci/run installs it with apt-get"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def sign_in(page: Page, base: str, name: str) -> None:
    page.goto(base + "/")
    expect(page).to_have_url(base + "/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORDS[name])
    page.click("#signin")
    expect(page.locator("#who")).to_contain_text(name)


def sign_out(page: Page, base: str) -> None:
    """Sign out, then check the page just left is no longer served."""
    left = page.url
    page.click("#logout")
    expect(page).to_have_url(base + "/login")
    page.goto(left)
    expect(page).to_have_url(base + "/login")


def test_the_whole_review_in_a_browser(browser: Browser, tmp_path: Path) -> None:
    store, classify_id, select_id = build_store(tmp_path)
    evidence = tmp_path / "津科函〔2025〕12号.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% letter from the bureau\n")
    with running(store) as base:
        page = browser.new_page(accept_downloads=True)
        sign_in(page, base, "analyst")
        page.click(f"text={classify_id}")
        page.fill("#q", "测试企业2")
        page.click("#search")
        expect(page.locator("#total")).to_contain_text("共 1 家")
        page.click("#firms >> text=测试企业2")
        expect(page.locator("#firm-name")).to_contain_text("测试企业2")
        expect(page.locator("#explanation")).to_contain_text("综合评价得分")
        page.select_option("#ov-outcome", "not_qualified")
        page.fill("#ov-why", "现场核查：研发人员为兼职")
        page.set_input_files("#ov-file", str(evidence))
        page.click("#ov-submit")
        expect(page.locator("#decisions")).to_contain_text("改判为「不符合」，由 analyst")
        expect(page.locator("#overrides ~ div.note").first).to_contain_text("津科函〔2025〕12号.pdf")

        page.goto(f"{base}/runs/{select_id}/list")
        expect(page.locator("#pending")).to_be_visible()
        page.fill("#add-uscc", FIRMS[1])
        page.fill("#add-to", "2")
        page.fill("#add-why", "专家评审认为发展潜力大")
        page.click("#add-submit")
        expect(page.locator("#current tr").nth(2)).to_contain_text(FIRMS[1])
        sign_out(page, base)

        sign_in(page, base, "approver")
        page.goto(f"{base}/runs/{select_id}/list")
        page.fill("#approve-why", "经评审委员会讨论通过")
        page.click("#approve")
        expect(page.locator("#approved")).to_contain_text("approver")
        with page.expect_download() as download:
            page.click("#export")
        saved = tmp_path / "list.xlsx"
        download.value.save_as(saved)
        with page.expect_download() as download:
            page.click("#export-pdf")
        briefs = tmp_path / "briefs.pdf"
        download.value.save_as(briefs)
        sign_out(page, base)
    rows = list(openpyxl.load_workbook(saved)["批准名单"].iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == [FIRMS[3], FIRMS[1], FIRMS[2]]
    assert briefs.read_bytes().startswith(b"%PDF-")
    pages = [re.sub(r"[\s\x00]+", "", p.extract_text()) for p in PdfReader(briefs).pages]
    assert len(pages) == 4  # the cover, then one brief per firm of the approved list, in its order
    for text, name in zip(pages[1:], (EVIL, "测试企业1", "测试企业2"), strict=True):
        assert f"一企一策培育简报：{name}" in text
    assert "名单决定" in pages[0] and "专家评审认为发展潜力大" in pages[0]
    report = verify(store)
    assert (report.ok, report.overrides, report.list_decisions) == (True, 1, 2)
