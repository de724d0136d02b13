"""A small recorded store for the desk's tests: a classify run and a select run (the real selection, with its brief
inputs) of four firms (one named with ``<script>``), four accounts, and helpers to sign in and post forms as a
browser would."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import yaml
from starlette.testclient import TestClient
from test_audit import classify, write_register

from tiering.app.selection import select, selection_inputs
from tiering.audit.selections import brief_inputs, list_entries, save_brief_inputs
from tiering.audit.store import record_run
from tiering.cli.select_cmd import DEFAULT_POLICY
from tiering.desk.users import Users

EVIL = "<script>alert(1)</script>测试企业3"
PASSWORDS = {"viewer": "viewer-pass-1", "analyst": "analyst-pass-1", "analyst2": "analyst-pass-2",
             "approver": "approver-pass-1"}
ROLES = {"viewer": "viewer", "analyst": "analyst", "analyst2": "analyst", "approver": "approver"}


def small_policy(path: Path) -> Path:
    """The default policy for a list of 1–3 firms (2 by default) among these four: eligible when 科技型中小企业
    qualifies (the only program these tests evaluate), ranked on its score and the share of 科技人员."""
    data = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    data.update(count={"min": 1, "max": 3, "default": 2}, scope={}, goal=None, quotas=[], clusters={})
    data["eligibility"].pop("exclude_if")
    data["ranking"]["groups"][0]["components"] = [
        {"id": "kjxzxqy_score", "label": "科技型中小企业评价得分", "program_score": "kjxzxqy", "weight": 1.0}]
    data["ranking"]["groups"][1]["components"] = [
        {"id": "tech_staff", "label": "科技人员占比", "feature": "tech_staff_share", "weight": 1.0}]
    data["ranking"]["groups"][1].pop("with_model")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


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
    inputs = selection_inputs(small_policy(folder / "policy.yaml"), None, [], run.register.frame)
    selection = select(run, inputs)
    kept = save_brief_inputs(store, brief_inputs(selection))
    select_id = record_run(store, run, ["tiering", "select"], {"selection_policy": inputs.policy_sha256},
                           list_entries(selection), brief_inputs=kept)
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
