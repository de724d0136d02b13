"""The review desk against the running application (Starlette's TestClient): no one in where they don't belong,
every write a record of the chain, nothing a request sends can change a query or reach outside the store."""

from __future__ import annotations

import base64
import io
import json
import re
import sqlite3
import threading
import time
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from desk_fixtures import EVIL, build_store, csrf_of, sign_in
from itsdangerous import TimestampSigner
from pypdf import PdfReader
from starlette.routing import Route
from starlette.testclient import TestClient
from test_audit import FIRMS, classify, write_register

from tiering import exit_codes
from tiering.audit import chain, lists
from tiering.audit.evidence import MAX_BYTES, evidence_dir
from tiering.audit.selections import selections_dir
from tiering.audit.show import firm_history
from tiering.audit.store import record_run
from tiering.audit.verify import verify
from tiering.cli import main
from tiering.desk.app import create_app
from tiering.desk.security import SESSION_COOKIE, SESSION_MAX_AGE, secret_key
from tiering.desk.users import MAX_FAILURES, Users

PDF = b"%PDF-1.4\n% evidence letter\n"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    return build_store(tmp_path_factory.mktemp("desk"))


@pytest.fixture
def store(recorded: tuple[Path, str, str], tmp_path: Path) -> tuple[Path, str, str]:
    """A copy of the recorded store per test, so writes in one test do not show in another."""
    import shutil
    src = recorded[0].parent
    shutil.copytree(src, tmp_path / "audit")
    return tmp_path / "audit" / recorded[0].name, recorded[1], recorded[2]


def client(store: Path) -> TestClient:
    return TestClient(create_app(store))


def records(store: Path) -> int:
    return sqlite3.connect(store).execute("SELECT COUNT(*) FROM records").fetchone()[0]


def override_form(token: str, why: str = "复核后研发费用应计入委托研发") -> dict[str, str]:
    return {"csrf": token, "ruleset_id": "kjxzxqy-2022", "outcome": "qualified", "why": why,
            "evidence": "津科函〔2025〕12号"}


# --- nothing for anonymous users ---------------------------------------------------------------------------------


def test_every_route_refuses_an_anonymous_request(store: tuple[Path, str, str]) -> None:
    path, classify_id, select_id = store
    app = create_app(path)
    values = {"run_id": select_id, "uscc": FIRMS[0], "digest": "0" * 64}
    anonymous = TestClient(app)
    checked = 0
    for route in app.routes:
        assert isinstance(route, Route)
        if route.path == "/login":
            continue
        url = route.path.format(**values)
        for method in route.methods - {"HEAD"}:
            answer = anonymous.request(method, url, follow_redirects=False)
            if method == "GET":
                assert (answer.status_code, answer.headers["location"]) == (303, "/login"), (method, url)
            else:
                assert answer.status_code == 401, (method, url)
            assert FIRMS[0] not in answer.text and "测试企业" not in answer.text
            checked += 1
    assert checked == 12  # every page, download and write of the router
    assert records(path) == 2


def test_session_cookie_is_signed_httponly_samesite_and_expires(store: tuple[Path, str, str]) -> None:
    path, _, _ = store
    browser = client(path)
    token = csrf_of(browser.get("/login").text)
    answer = browser.post("/login", data={"csrf": token, "name": "viewer", "password": "viewer-pass-1"},
                          follow_redirects=False)
    cookie = answer.headers["set-cookie"]
    assert f"Max-Age={SESSION_MAX_AGE}" in cookie and "httponly" in cookie.lower()
    assert "samesite=strict" in cookie.lower()
    assert browser.get("/", follow_redirects=False).status_code == 200
    # an edited cookie, and a correctly signed one older than the session's life, are both refused
    value = browser.cookies[SESSION_COOKIE]
    browser.cookies.set(SESSION_COOKIE, value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1])
    assert browser.get("/", follow_redirects=False).status_code == 303

    class Old(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - SESSION_MAX_AGE - 60

    data = base64.b64encode(json.dumps({"user": "viewer", "stamp": Users(path).get("viewer").stamp}).encode())
    browser.cookies.set(SESSION_COOKIE, Old(secret_key(path)).sign(data).decode())
    assert browser.get("/", follow_redirects=False).status_code == 303
    fresh = TimestampSigner(secret_key(path)).sign(data).decode()
    browser.cookies.set(SESSION_COOKIE, fresh)
    assert browser.get("/", follow_redirects=False).status_code == 200


def test_password_change_or_removal_ends_open_sessions(store: tuple[Path, str, str]) -> None:
    path, _, _ = store
    browser = client(path)
    sign_in(browser, "viewer")
    Users(path).passwd("viewer", "a-new-password")
    assert browser.get("/", follow_redirects=False).status_code == 303
    sign_in(browser, "viewer", "a-new-password")
    Users(path).remove("viewer")
    assert browser.get("/", follow_redirects=False).status_code == 303


def test_sign_in_is_throttled_after_repeated_failures(store: tuple[Path, str, str]) -> None:
    path, _, _ = store
    browser = client(path)
    for _ in range(MAX_FAILURES):
        token = csrf_of(browser.get("/login").text)
        answer = browser.post("/login", data={"csrf": token, "name": "analyst", "password": "wrong-guess"})
        assert answer.status_code == 401 and "用户名或密码错误" in answer.text
    token = csrf_of(browser.get("/login").text)
    answer = browser.post("/login", data={"csrf": token, "name": "analyst", "password": "analyst-pass-1"})
    assert answer.status_code == 429 and "登录失败次数过多" in answer.text
    assert client(path).get("/", follow_redirects=False).status_code == 303


# --- roles and CSRF ----------------------------------------------------------------------------------------------


def test_a_viewer_reads_but_cannot_write(store: tuple[Path, str, str]) -> None:
    path, classify_id, select_id = store
    browser = client(path)
    token = sign_in(browser, "viewer")
    page = browser.get(f"/runs/{classify_id}/firms/{FIRMS[0]}")
    assert page.status_code == 200 and "override-form" not in page.text
    writes = [(f"/runs/{classify_id}/firms/{FIRMS[0]}/override", override_form(token)),
              (f"/runs/{select_id}/list/propose", {"csrf": token, "action": "remove", "uscc": FIRMS[2], "why": "x"}),
              (f"/runs/{select_id}/list/approve", {"csrf": token, "why": "通过"})]
    for url, form in writes:
        answer = browser.post(url, data=form, follow_redirects=False)
        assert answer.status_code == 403 and "权限不足" in answer.text, url
    assert records(path) == 2


def test_an_analyst_cannot_approve(store: tuple[Path, str, str]) -> None:
    path, _, select_id = store
    browser = client(path)
    token = sign_in(browser, "analyst")
    answer = browser.post(f"/runs/{select_id}/list/approve", data={"csrf": token, "why": "通过"})
    assert answer.status_code == 403
    assert records(path) == 2


def test_a_write_without_a_valid_csrf_token_is_refused(store: tuple[Path, str, str]) -> None:
    path, classify_id, _ = store
    browser, other = client(path), client(path)
    token = sign_in(browser, "analyst")
    foreign = sign_in(other, "analyst2")
    url = f"/runs/{classify_id}/firms/{FIRMS[0]}/override"
    for form in ({k: v for k, v in override_form(token).items() if k != "csrf"},
                 override_form("forged-token"), override_form(foreign)):
        answer = browser.post(url, data=form, follow_redirects=False)
        assert answer.status_code == 403 and "CSRF" in answer.text
    assert records(path) == 2
    assert browser.post(url, data=override_form(token), follow_redirects=False).status_code == 303
    assert records(path) == 3


# --- escaping, downloads, queries --------------------------------------------------------------------------------


def test_a_script_in_a_firm_name_is_shown_escaped(store: tuple[Path, str, str]) -> None:
    path, classify_id, select_id = store
    browser = client(path)
    sign_in(browser, "viewer")
    for url in (f"/runs/{classify_id}", f"/runs/{classify_id}/firms/{FIRMS[3]}", f"/runs/{select_id}/list",
                f"/runs/{classify_id}?q=%3Cscript%3E"):
        page = browser.get(url)
        assert page.status_code == 200
        assert "<script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;测试企业3" in page.text, url
    assert "script-src" not in browser.get("/").headers["content-security-policy"]  # no script may run at all


def test_a_download_path_cannot_leave_the_store(store: tuple[Path, str, str]) -> None:
    path, classify_id, _ = store
    browser = client(path)
    token = sign_in(browser, "analyst")
    browser.post(f"/runs/{classify_id}/firms/{FIRMS[0]}/override", data=override_form(token),
                 files={"evidence_file": ("函.pdf", PDF, "application/pdf")})
    digest = next(p.name for p in evidence_dir(path).iterdir())
    answer = browser.get(f"/evidence/{digest}")
    assert answer.status_code == 200 and answer.content == PDF
    assert answer.headers["content-type"] == "application/pdf" and "attachment" in answer.headers["content-disposition"]
    (evidence_dir(path) / ("f" * 64)).write_bytes(b"not cited by any record")
    for attempt in ("..%2Faudit.sqlite", "..%2F..%2Faudit%2Faudit.sqlite", "%2Fetc%2Fpasswd",
                    "..%2F..%2F..%2Fetc%2Fpasswd", "f" * 64, digest.upper(), digest + "%00",
                    "..%2Faudit.desk-secret", "%2e%2e%2faudit.users.sqlite"):
        for url in (f"/evidence/{attempt}", f"/runs/{attempt}/list/briefs.pdf", f"/runs/{attempt}/list/export.xlsx"):
            answer = browser.get(url)
            assert answer.status_code == 404, url
            assert b"SQLite" not in answer.content and b"root:" not in answer.content


def test_search_and_filter_input_cannot_change_a_query(store: tuple[Path, str, str]) -> None:
    path, classify_id, _ = store
    browser = client(path)
    sign_in(browser, "viewer")

    def total(query: dict[str, str]) -> str:
        page = browser.get(f"/runs/{classify_id}", params=query)
        assert page.status_code == 200
        return page.text.split('id="total">')[1].split("，")[0]

    assert total({}) == "共 4 家"
    assert total({"q": "测试企业"}) == "共 4 家"
    assert total({"q": FIRMS[2]}) == "共 1 家"
    assert total({"q": "企业2"}) == "共 1 家"
    assert total({"district": "东丽区"}) == "共 2 家"
    for hostile in ("' OR 1=1 --", "%", "_", "\\", "测试企业%' OR '1'='1", "1); DROP TABLE records; --"):
        assert total({"q": hostile}) == "共 0 家", hostile
        assert total({"district": hostile}) == "共 0 家", hostile
        assert total({"program": hostile, "outcome": "qualified"}) == "共 0 家", hostile
    assert total({"rung": "0 OR 1=1"}) == "共 4 家"  # not a number: the rung filter is ignored, not injected
    assert total({"rung": "²", "page": "²"}) == "共 4 家"  # a digit to str.isdigit, no number to int()
    assert total({"page": "99999999999999999999"}) == "共 4 家"
    assert verify(path).ok and records(path) == 2


def test_program_outcome_and_paging_filters(store: tuple[Path, str, str]) -> None:
    path, classify_id, _ = store
    browser = client(path)
    sign_in(browser, "viewer")
    page = browser.get(f"/runs/{classify_id}", params={"program": "kjxzxqy", "outcome": "qualified"})
    assert "共 2 家" in page.text
    assert FIRMS[3] in page.text and FIRMS[0] not in page.text


# --- writes into the chain ---------------------------------------------------------------------------------------


def test_an_override_with_evidence_is_a_record_beside_the_machine_decision(store: tuple[Path, str, str]) -> None:
    path, classify_id, _ = store
    browser = client(path)
    token = sign_in(browser, "analyst")
    url = f"/runs/{classify_id}/firms/{FIRMS[0]}/override"
    refused = browser.post(url, data=override_form(token), files={"evidence_file": ("x.pdf", b"MZ\x90\x00", "x/y")})
    assert refused.status_code == 400 and "类型不被接受" in refused.text
    big = b"%PDF-" + b"0" * MAX_BYTES
    refused = browser.post(url, data=override_form(token), files={"evidence_file": ("big.pdf", big, "a/pdf")})
    assert refused.status_code == 400 and "超过上限" in refused.text and records(path) == 2
    answer = browser.post(url, data=override_form(token), files={"evidence_file": ("函.pdf", PDF, "application/pdf")},
                          follow_redirects=False)
    assert answer.status_code == 303
    page = browser.get(f"/runs/{classify_id}/firms/{FIRMS[0]}").text
    head = sqlite3.connect(path).execute("SELECT ref, hash FROM records ORDER BY seq DESC").fetchone()
    assert f"已记录 recorded {head[0]}；链头 chain head {head[1]}" in page
    assert "链头" not in browser.get(f"/runs/{classify_id}/firms/{FIRMS[0]}").text  # shown once, after the write
    assert "人工调整 override（申报年度 2025）：kjxzxqy-2022 改判为「符合」，由 analyst" in page
    assert "函.pdf" in page and "结果：不符合" in page  # the machine decision stays as it was
    history = firm_history(path, FIRMS[0], brief=True)
    assert "改判为「符合」，由 analyst" in history and "证据：津科函〔2025〕12号；证据文件：函.pdf（SHA-256 " in history
    report = verify(path)
    assert (report.ok, report.overrides) == (True, 1)
    next(evidence_dir(path).iterdir()).write_bytes(b"%PDF-1.4 forged")
    code = CliRunner().invoke(main, ["audit", "verify", "--store", str(path)])
    assert code.exit_code == exit_codes.CHECK_FAILED and "evidence file 函.pdf" in code.output


def test_two_analysts_overriding_at_once_both_land_and_the_chain_verifies(store: tuple[Path, str, str]) -> None:
    path, classify_id, _ = store
    sessions = []
    for name in ("analyst", "analyst2"):
        browser = client(path)
        sessions.append((browser, sign_in(browser, name)))
    start = threading.Barrier(2)
    codes: list[int] = []

    def write(browser: TestClient, token: str, k: int) -> None:
        start.wait()
        for n in range(4):
            answer = browser.post(f"/runs/{classify_id}/firms/{FIRMS[k]}/override",
                                  data=override_form(token, f"并发 {k} {n}"), follow_redirects=False)
            codes.append(answer.status_code)

    threads = [threading.Thread(target=write, args=(b, t, k)) for k, (b, t) in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes == [303] * 8
    report = verify(path)
    assert (report.ok, report.overrides, report.records) == (True, 8, 10)
    whys = {json.loads(b)["why"] for (b,) in sqlite3.connect(path).execute(
        "SELECT body FROM records WHERE kind = 'override'")}
    assert whys == {f"并发 {k} {n}" for k in (0, 1) for n in range(4)}


def test_the_list_is_proposed_approved_and_exported(store: tuple[Path, str, str]) -> None:
    path, _, select_id = store
    analyst, approver = client(path), client(path)
    token = sign_in(analyst, "analyst")
    page = analyst.get(f"/runs/{select_id}/list").text
    assert "尚未批准" in page and "科技人员占比 20%（池内100%，+50.0分）" in page
    url = f"/runs/{select_id}/list/propose"
    add = {"csrf": token, "action": "add", "uscc": FIRMS[1], "to": "1", "why": "专家评审认为发展潜力大", "based_on": ""}
    assert analyst.post(url, data=add, follow_redirects=False).status_code == 303
    stale = analyst.post(url, data={**add, "uscc": FIRMS[0]})  # based on the list before the addition
    assert stale.status_code == 400 and "名单已被他人修改" in stale.text
    latest = sqlite3.connect(path).execute("SELECT ref FROM records ORDER BY seq DESC").fetchone()[0]
    move = {"csrf": token, "action": "move", "uscc": FIRMS[3], "to": "1", "why": "技术水平最高", "based_on": latest}
    assert analyst.post(url, data=move, follow_redirects=False).status_code == 303
    unknown = analyst.post(url, data={**move, "action": "add", "uscc": "91120116MA05ZZZZ9X", "based_on": ""})
    assert unknown.status_code == 400
    assert analyst.get(f"/runs/{select_id}/list/export.xlsx").status_code == 404  # not approved yet
    assert analyst.get(f"/runs/{select_id}/list/briefs.pdf").status_code == 404
    approver_token = sign_in(approver, "approver")
    page = approver.get(f"/runs/{select_id}/list").text
    based_on = page.split('name="based_on" value="')[1].split('"')[0]
    answer = approver.post(f"/runs/{select_id}/list/approve",
                           data={"csrf": approver_token, "why": "经评审委员会讨论通过", "based_on": based_on},
                           follow_redirects=False)
    assert answer.status_code == 303
    page = analyst.get(f"/runs/{select_id}/list").text
    assert "已批准 approved：approver" in page
    export = analyst.get(f"/runs/{select_id}/list/export.xlsx")
    assert export.status_code == 200 and export.headers["content-disposition"].endswith(f'{select_id}.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(export.content))
    rows = [list(r) for r in book["批准名单"].iter_rows(values_only=True)]
    assert rows[0] == ["序号", "统一社会信用代码", "企业名称", "综合得分", "说明", "来源"]
    assert [r[1] for r in rows[1:]] == [FIRMS[3], FIRMS[1], FIRMS[2]]
    assert rows[2][5] == "人工加入" and rows[1][2] == EVIL
    briefs = analyst.get(f"/runs/{select_id}/list/briefs.pdf")
    assert briefs.status_code == 200 and briefs.headers["content-type"] == "application/pdf"
    assert briefs.headers["content-disposition"] == f'attachment; filename="approved-briefs-{select_id}.pdf"'
    pages = [re.sub(r"[\s\x00]+", "", p.extract_text()) for p in PdfReader(io.BytesIO(briefs.content)).pages]
    assert len(pages) == 4  # the cover, then one A4 page per firm in the approved order
    cover = pages[0]
    assert "2025年度重点培育企业名单（批准）" in cover and "批准approver" in cover and select_id in cover
    assert cover.index(FIRMS[3]) < cover.index(FIRMS[1]) < cover.index(FIRMS[2])
    assert "人工加入" in cover and "遴选结果第1名" in cover and "理由：专家评审认为发展潜力大" in cover
    for page, (uscc, name) in zip(pages[1:], [(FIRMS[3], EVIL), (FIRMS[1], "测试企业1"), (FIRMS[2], "测试企业2")],
                                  strict=True):
        assert f"一企一策培育简报：{name}" in page and uscc in page and select_id in page
    assert "第1名（共3家）/100.00分" in pages[1] and "提议调整位次至第1位" in pages[1]
    assert "第2名（共3家）/未计分" in pages[2] and "未计分：不在候选池（不符合资格" in pages[2]
    assert "提议加入" + FIRMS[1] in pages[2] and "第3名（共3家）/50.00分" in pages[3]
    report = verify(path)
    assert (report.ok, report.list_decisions) == (True, 3)
    shown = firm_history(path, FIRMS[1], brief=True)
    assert "名单决定 list decision: 提议加入 " + FIRMS[1] in shown and "批准名单 approved（3 家），由 approver" in shown


def test_list_decisions_show_in_explain_audit_show_select_workbook_and_report(
        recorded: tuple[Path, str, str], store: tuple[Path, str, str], tmp_path: Path) -> None:
    path, _, select_id = store
    register, policy = recorded[0].parent.parent / "firms.csv", recorded[0].parent.parent / "policy.yaml"
    added = lists.propose(path, select_id, "analyst", "专家评审认为发展潜力大", "add", FIRMS[1], 2, None)
    removed = lists.propose(path, select_id, "analyst", "材料不全，暂缓", "remove", FIRMS[2], None, added)
    lists.approve(path, select_id, "approver", "经评审委员会讨论通过", removed)
    runner = CliRunner()
    shown = runner.invoke(main, ["explain", str(register), FIRMS[1], "--year", "2025", "--program", "kjxzxqy",
                                 "--store", str(path)])
    assert shown.exit_code == 0, shown.output
    assert (f"名单决定 list decision：培育名单（遴选运行 {select_id}）：不在遴选结果中；批准名单第 2 位" in shown.output
            and f"名单决定 list decision：提议加入 {FIRMS[1]}，由 analyst" in shown.output
            and "名单决定 list decision：批准名单 approved（2 家），由 approver" in shown.output)
    shown = runner.invoke(main, ["explain", str(register), FIRMS[2], "--year", "2025", "--program", "kjxzxqy",
                                 "--store", str(path)])
    assert "遴选结果第 2 位；批准名单未含（已移出）" in shown.output and "理由：材料不全，暂缓" in shown.output
    assert "名单决定" not in runner.invoke(main, ["explain", str(register), FIRMS[0], "--year", "2025", "--program",
                                                "kjxzxqy", "--store", str(path)]).output
    browser = client(path)
    sign_in(browser, "viewer")
    page = browser.get(f"/runs/{select_id}/firms/{FIRMS[1]}").text
    assert 'id="list-decisions"' in page and "不在遴选结果中；批准名单第 2 位" in page
    assert "理由：专家评审认为发展潜力大" in page
    history = firm_history(path, FIRMS[2], brief=True)
    assert "名单决定后 committee's list: 批准名单未含（已移出）" in history and "提议移出 " + FIRMS[2] in history
    assert "名单决定后 committee's list: 批准名单第 1 位" in firm_history(path, FIRMS[3], brief=True)

    made = runner.invoke(main, ["select", str(register), "--year", "2025", "--policy", str(policy), "--program",
                                "kjxzxqy", "--store", str(path), "--out", str(tmp_path / "select")])
    assert made.exit_code == 0, made.output
    book = openpyxl.load_workbook(tmp_path / "select" / "cultivation_list.xlsx")
    rows = list(book["入选名单"].iter_rows(values_only=True))
    assert rows[0][:6] == ("名次", "名单决定", "名单决定理由", "决定人", "决定时间", "统一社会信用代码")
    assert [r[:4] + r[5:6] for r in rows[1:]] == [  # the machine's list stays; the committee's places beside it
        (1, "批准名单第 1 位", None, "approver", FIRMS[3]),
        (2, "批准名单未含（已移出）", "材料不全，暂缓", "analyst", FIRMS[2])]
    decisions = [r[2] for r in book["名单决定"].iter_rows(values_only=True)]
    assert decisions[0] == "名单决定" and decisions[1].startswith(f"提议加入 {FIRMS[1]}") and len(decisions) == 4
    about = dict(r[:2] for r in book["说明"].iter_rows(values_only=True))
    assert f"遴选运行 {select_id} 上的 3 项名单决定（已由 approver" in about["名单决定"]

    made = runner.invoke(main, ["report", str(register), "--year", "2025", "--policy", str(policy), "--program",
                                "kjxzxqy", "--store", str(path), "--out", str(tmp_path / "report")])
    assert made.exit_code == 0, made.output
    book = openpyxl.load_workbook(tmp_path / "report" / "report.xlsx")
    rows = list(book["培育名单"].iter_rows(values_only=True))
    assert rows[0][:3] == ("入选序号", "名单决定", "名单决定理由")
    assert rows[2][1:3] == ("批准名单未含（已移出）", "材料不全，暂缓")
    assert "名单决定" in book.sheetnames
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "名单决定（评审委员会）" in page and "理由：专家评审认为发展潜力大" in page and "批准名单第 1 位" in page


def _as_recorded_before_firm_rows(store: Path, run_id: str) -> None:
    """Make ``run_id`` look as a run recorded before the firms table: no firm rows, no firms entry in its record
    (the chain's hashes written again from there on, as the older tool would have written them)."""
    conn = sqlite3.connect(store, isolation_level=None)
    for trigger in ("firms_no_delete", "records_no_update"):
        conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute("DELETE FROM firms WHERE run = (SELECT seq FROM records WHERE ref = ?)", (run_id,))
    prev = chain.GENESIS
    for seq, ref, text in conn.execute("SELECT seq, ref, body FROM records ORDER BY seq").fetchall():
        body = json.loads(text)
        if ref == run_id:
            body.pop("firms")
        text = chain.canonical(body)
        digest = chain.record_hash(prev, text)
        conn.execute("UPDATE records SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?", (text, prev, digest, seq))
        prev = digest
    conn.close()


def test_a_run_recorded_before_firm_rows_says_how_to_fix_and_audit_firms_rebuilds_them(
        recorded: tuple[Path, str, str], store: tuple[Path, str, str], tmp_path: Path) -> None:
    path, classify_id, _ = store
    register = recorded[0].parent.parent / "firms.csv"
    _as_recorded_before_firm_rows(path, classify_id)
    assert verify(path).ok
    browser = client(path)
    sign_in(browser, "viewer")
    page = browser.get(f"/runs/{classify_id}").text
    assert 'id="no-firms"' in page and f"tiering audit firms {classify_id} --register " in page
    assert 'id="firms"' not in page and ">2</a>" in page  # the counts stay: 2 firms qualify
    runner = CliRunner()
    other = write_register(tmp_path / "other.csv", rd=(31, 50, 70, 90))
    refused = runner.invoke(main, ["audit", "firms", classify_id, "--register", str(other), "--store", str(path)])
    assert refused.exit_code != 0 and "不是运行" in refused.output
    done = runner.invoke(main, ["audit", "firms", str(register), classify_id, "--store", str(path)])
    assert done.exit_code == 0 and f"已补录运行 {classify_id} 的 4 家企业明细" in done.output, done.output
    page = browser.get(f"/runs/{classify_id}", params={"district": "东丽区"}).text
    assert 'id="no-firms"' not in page and "共 2 家" in page and "测试企业1" in page
    again = runner.invoke(main, ["audit", "firms", classify_id, "--register", str(register), "--store", str(path)])
    assert again.exit_code != 0 and "已有企业明细" in again.output
    assert verify(path).ok


def test_brief_inputs_are_in_the_chain_and_older_select_runs_say_why_they_have_no_pdf(
        store: tuple[Path, str, str]) -> None:
    path, _, select_id = store
    older = record_run(path, classify(write_register(path.parent / "firms.csv")), ["tiering", "select"], {},
                       [{"pick": 1, "uscc": FIRMS[3], "name": "测试企业3", "score": 90.0}])
    browser = client(path)
    token = sign_in(browser, "approver")
    for run_id in (select_id, older):
        assert browser.post(f"/runs/{run_id}/list/approve", data={"csrf": token, "why": "通过", "based_on": ""},
                            follow_redirects=False).status_code == 303
    assert 'id="export-pdf"' in browser.get(f"/runs/{select_id}/list").text
    page = browser.get(f"/runs/{older}/list").text
    assert 'id="export-pdf"' not in page and "不能导出 PDF 简报：该运行记录于保存简报数据之前" in page
    refused = browser.get(f"/runs/{older}/list/briefs.pdf")
    assert refused.status_code == 404 and "重新运行 tiering select" in refused.text
    assert verify(path).ok
    kept = next(selections_dir(path).iterdir())
    data = kept.read_bytes()
    kept.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    report = verify(path)
    assert not report.ok and "brief inputs of this select run" in report.broken.problem
    assert "were changed" in browser.get(f"/runs/{select_id}/list/briefs.pdf").text


# --- accounts from the command line ------------------------------------------------------------------------------


def test_users_commands(tmp_path: Path) -> None:
    store = tmp_path / "audit.sqlite"
    run = CliRunner()
    result = run.invoke(main, ["users", "add", "王芳", "--role", "analyst", "--store", str(store)],
                        input="good-password\ngood-password\n")
    assert result.exit_code == 0 and "已添加用户 user added: 王芳（分析员 analyst）" in result.output
    result = run.invoke(main, ["users", "add", "王芳", "--role", "viewer", "--store", str(store)],
                        input="good-password\ngood-password\n")
    assert result.exit_code == exit_codes.UNUSABLE_INPUT and "已存在" in result.output
    result = run.invoke(main, ["users", "add", "短", "--role", "viewer", "--store", str(store)], input="short\nshort\n")
    assert result.exit_code == exit_codes.UNUSABLE_INPUT and "密码至少 8 个字符" in result.output
    result = run.invoke(main, ["users", "add", "x", "--role", "boss", "--store", str(store)])
    assert result.exit_code == exit_codes.USAGE
    stored = sqlite3.connect(tmp_path / "audit.users.sqlite").execute("SELECT hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and "good-password" not in stored
    result = run.invoke(main, ["users", "passwd", "王芳", "--role", "approver", "--store", str(store)],
                        input="other-password\nother-password\n")
    assert result.exit_code == 0
    assert Users(store).sign_in("王芳", "other-password", "test").role == "approver"
    assert run.invoke(main, ["users", "list", "--store", str(store)]).output.startswith("王芳\tapprover\t审批人\t")
    assert run.invoke(main, ["users", "remove", "王芳", "--store", str(store)]).exit_code == 0
    assert run.invoke(main, ["users", "remove", "王芳", "--store", str(store)]).exit_code == exit_codes.UNUSABLE_INPUT


def test_serve_needs_a_store_and_binds_to_loopback_by_default(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--store", str(tmp_path / "none.sqlite")])
    assert result.exit_code == exit_codes.UNUSABLE_INPUT and "no audit store here" in result.output
    help_text = CliRunner().invoke(main, ["serve", "--help"]).output
    assert "[default: 127.0.0.1]" in help_text and "reverse proxy" in help_text


def test_serve_prepares_the_newest_runs_before_the_first_visit(store: tuple[Path, str, str]) -> None:
    path, _, _ = store
    desk = create_app(path).state.desk
    assert desk.store.facts.cache_info().currsize == 0
    desk.warm()
    assert desk.store.facts.cache_info().currsize == 2  # both runs counted; their rule texts compiled
