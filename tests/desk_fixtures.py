"""A small recorded store for the desk's tests: a classify run and a select run of four firms (one named with
``<script>``), four accounts, and helpers to sign in and post forms as a browser would."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from starlette.testclient import TestClient
from test_audit import FIRMS, classify, write_register

from tiering.audit.store import record_run
from tiering.desk.users import Users

EVIL = "<script>alert(1)</script>测试企业3"
PASSWORDS = {"viewer": "viewer-pass-1", "analyst": "analyst-pass-1", "analyst2": "analyst-pass-2",
             "approver": "approver-pass-1"}
ROLES = {"viewer": "viewer", "analyst": "analyst", "analyst2": "analyst", "approver": "approver"}


def build_store(folder: Path) -> tuple[Path, str, str]:
    """The store, its classify run id and its select run id."""
    register = write_register(folder / "firms.csv")
    frame = pd.read_csv(register, dtype=str)
    frame.loc[frame["企业名称"] == "测试企业3", "企业名称"] = EVIL
    frame["所在区"] = ["东丽区", "东丽区", "宝坻区", "宝坻区"]
    frame.to_csv(register, index=False)
    store = folder / "audit" / "audit.sqlite"
    run = classify(register)
    classify_id = record_run(store, run, ["tiering", "classify"])
    picks = [{"pick": 1, "uscc": FIRMS[3], "name": EVIL, "score": 91.5, "reason": "科技型中小企业 → 雏鹰"},
             {"pick": 2, "uscc": FIRMS[2], "name": "测试企业2", "score": 80.25, "reason": "科技型中小企业 → 雏鹰"},
             {"pick": None, "uscc": FIRMS[1], "name": "测试企业1", "score": 60.0, "reason": "综合得分低于第2名"}]
    select_id = record_run(store, run, ["tiering", "select"], {"selection_policy": "a" * 64}, picks)
    users = Users(store)
    for name, role in ROLES.items():
        users.add(name, role, PASSWORDS[name])
    return store, classify_id, select_id


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "page without a CSRF field"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str | None = None) -> str:
    """Sign ``client`` in as ``name``; return the CSRF token of its session."""
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"csrf": token, "name": name, "password": password or PASSWORDS[name]},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/").text)
