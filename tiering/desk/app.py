"""The review desk's routes and pages (Starlette + Jinja2, rendered on the server, no scripts).

    from tiering.desk.app import create_app
    app = create_app(Path("out/audit.sqlite"))    # an ASGI app: `tiering serve` runs it with uvicorn
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tiering.audit import lists
from tiering.audit.db import StoreTampered, connect
from tiering.audit.evidence import MAX_BYTES, TYPES, evidence_file, save_evidence
from tiering.audit.rulesets import StoredRulesError, load_stored
from tiering.audit.selections import BriefInputsMissing
from tiering.audit.show import override_line, overrides_for, stored_explanation
from tiering.audit.store import (
    AuditWriteError,
    NothingRecorded,
    OverrideRefused,
    RunNotFound,
    record_hash_of,
    record_override,
)
from tiering.desk.approved import approved_list_pdf
from tiering.desk.queries import PAGE_SIZE, Filters, Store, number
from tiering.desk.security import (
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    SecurityHeaders,
    csrf_token,
    form_text,
    guard,
    read_form,
    secret_key,
    signed_in,
    valid_csrf,
)
from tiering.desk.users import ROLE_ZH, Throttled, Users
from tiering.outcome import OUTCOMES, ZH_OF
from tiering.output.workbook import workbook_bytes
from tiering.rules.library import RULES_DIR, RuleLoadError, load_library
from tiering.selection.decisions import decisions_frame

OUTCOME_TEXT = ZH_OF
EXPORT_LABELS = {"pick": "序号", "uscc": "统一社会信用代码", "name": "企业名称", "score": "综合得分", "reason": "说明",
                 "source": "来源"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Desk:
    """The pages of one store. Each handler reads the store afresh: a page shows what is recorded now."""

    def __init__(self, store: Path) -> None:
        self.path = store
        self.store = Store(store)
        self.users = Users(store)
        self.env = Environment(loader=PackageLoader("tiering.desk", "templates"),
                               autoescape=select_autoescape(default=True, default_for_string=True))
        self.env.globals.update(outcome_text=OUTCOME_TEXT, role_zh=ROLE_ZH, urlencode=urlencode)

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        user = getattr(request.state, "user", None)
        html = self.env.get_template(template).render(request=request, user=user, csrf=csrf_token(request),
                                                      flash=request.session.pop("flash", None), **context)
        return HTMLResponse(html, status_code=status)

    def recorded(self, request: Request, ref: str, url: str) -> Response:
        """After a write: back to ``url``, which then shows the record id and the chain head it made."""
        request.session["flash"] = f"已记录 recorded {ref}；链头 chain head {record_hash_of(self.path, ref)}"
        return RedirectResponse(url, status_code=303)

    def missing(self, request: Request, what: str) -> HTMLResponse:
        return self.page(request, "message.html", 404, title="未找到 not found", message=what)

    def warm(self, runs: int = 3) -> None:
        """Count the newest runs and compile their stored rule texts ahead of the first visit (what those visits
        would otherwise pay once); a store that cannot be read is left for the pages to report."""
        try:
            for run in self.store.runs()[:runs]:
                self.store.facts(run["seq"])
                conn = connect(self.path, create=False)
                try:
                    load_stored(conn, run["rulesets"])
                finally:
                    conn.close()
        except (StoredRulesError, StoreTampered, sqlite3.Error, ValueError, KeyError):
            return

    # --- sign-in -----------------------------------------------------------------------------------------------

    async def login_page(self, request: Request) -> Response:
        if signed_in(request, self.users) is not None:
            return RedirectResponse("/", status_code=303)
        return self.page(request, "login.html", error=None)

    async def login(self, request: Request) -> Response:
        form = await read_form(request)
        if form is None or not valid_csrf(request, form):
            return self.page(request, "login.html", 403, error="表单已失效，请重新登录 (invalid form, try again)")
        name, password = form_text(form, "name", 100), form.get("password")
        if not isinstance(password, str) or len(password) > 1024:  # no hashing of megabyte "passwords"
            password = ""
        address = request.client.host if request.client else "?"
        try:
            user = self.users.sign_in(name, password, address)
        except Throttled as exc:
            return self.page(request, "login.html", 429, error=str(exc))
        if user is None:
            return self.page(request, "login.html", 401, error="用户名或密码错误 wrong name or password")
        request.session.clear()  # a fresh session (and CSRF token) at every sign-in
        request.session.update({"user": user.name, "stamp": user.stamp})
        return RedirectResponse("/", status_code=303)

    async def logout(self, request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # --- runs --------------------------------------------------------------------------------------------------

    async def runs(self, request: Request) -> Response:
        return self.page(request, "runs.html", runs=self.store.runs())

    async def run(self, request: Request) -> Response:
        run = self.store.run(request.path_params["run_id"])
        if run is None:
            return self.missing(request, "没有这次运行 no such run")
        facts = self.store.facts(run["seq"])
        if not facts.has_firms:  # counted again next time: `tiering audit firms` may write the run's firm rows
            self.store.facts.cache_clear()
        args = request.query_params
        filters = Filters(**{k: args.get(k, "")[:100] for k in ("program", "outcome", "district", "industry",
                                                                  "rung", "q")})
        page = number(args.get("page", "")) or 0
        firms, total = self.store.firms_page(run["seq"], filters, page)
        table: dict[str, dict[str, int]] = {}
        for program, outcome, n in facts.counts:
            table.setdefault(program, {})[outcome] = n
        return self.page(request, "run.html", run=run, facts=facts, table=table, filters=filters, firms=firms,
                         total=total, page=page, pages=max(1, math.ceil(total / PAGE_SIZE)))

    # --- one firm ----------------------------------------------------------------------------------------------

    def _firm_context(self, run: dict[str, Any], uscc: str) -> dict[str, Any] | None:
        decisions = self.store.decisions(uscc)
        here = [d for d in decisions if d["run_id"] == run["run_id"]]
        if not here:
            return None
        conn = connect(self.path, create=False)
        try:
            explanation = stored_explanation(conn, self.path, run, uscc, here[0]["name"])
        except (StoredRulesError, StoreTampered) as exc:
            explanation = f"（无法展开逐条说明 explanation unavailable: {exc}）"
        finally:
            conn.close()
        overrides = [o for o in self.store.records("override") if o["uscc"] == uscc]
        lines = {d["ruleset_id"]: [override_line(o) for o in overrides_for(overrides, d["ruleset_id"], run["year"])]
                 for d in here}
        history: dict[str, list[dict[str, Any]]] = {}
        for d in decisions:
            history.setdefault(d["run_id"], []).append(d)
        return {"run": run, "uscc": uscc, "firm": self.store.firm(run["seq"], uscc), "name": here[0]["name"],
                "decisions": here, "explanation": explanation, "overrides": overrides, "override_lines": lines,
                "list_lines": lists.firm_list_lines(self.path, uscc, run["year"]),
                "history": history, "outcomes": OUTCOMES, "evidence_types": TYPES, "max_mib": MAX_BYTES >> 20}

    async def firm(self, request: Request) -> Response:
        run = self.store.run(request.path_params["run_id"])
        context = self._firm_context(run, request.path_params["uscc"]) if run else None
        if context is None:
            return self.missing(request, "这次运行中没有该企业 no such firm in this run")
        return self.page(request, "firm.html", error=None, **context)

    async def override(self, request: Request) -> Response:
        run = self.store.run(request.path_params["run_id"])
        uscc = request.path_params["uscc"]
        context = self._firm_context(run, uscc) if run else None
        if context is None:
            return self.missing(request, "这次运行中没有该企业 no such firm in this run")
        form = request.state.form
        user = request.state.user
        try:
            evidence = await self._evidence(form)
            ruleset_id, outcome = form_text(form, "ruleset_id", 100), form_text(form, "outcome", 20)
            if ruleset_id not in {d["ruleset_id"] for d in context["decisions"]}:
                raise OverrideRefused(f"这次运行没有规则集 {ruleset_id} 的决定 (no decision under that rule set)")
            ref = record_override(self.path, uscc, ruleset_id, outcome, user.name, form_text(form, "why"),
                                  form_text(form, "evidence", 300) or None, run["year"], evidence)
        except (ValueError, NothingRecorded, AuditWriteError) as exc:
            return self.page(request, "firm.html", 400, error=str(exc), **context)
        return self.recorded(request, ref, f"/runs/{run['run_id']}/firms/{uscc}#overrides")

    async def _evidence(self, form: Any) -> dict[str, Any] | None:
        upload = form.get("evidence_file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return None
        data = await upload.read(MAX_BYTES + 1)
        return save_evidence(self.path, upload.filename, data)

    async def evidence(self, request: Request) -> Response:
        try:
            path = evidence_file(self.path, request.path_params["digest"])
        except (ValueError, FileNotFoundError):
            return self.missing(request, "没有这个证据文件 no such evidence file")
        cited = next((o["evidence_file"] for kind in ("override", "list") for o in self.store.records(kind)
                      if (o.get("evidence_file") or {}).get("sha256") == path.name), None)
        if cited is None:
            return self.missing(request, "没有记录引用这个证据文件 no record cites this file")
        return FileResponse(path, media_type=TYPES[cited["type"]][2], filename=cited["name"],
                            content_disposition_type="attachment")

    # --- the cultivation list ----------------------------------------------------------------------------------

    def _list(self, run_id: str) -> lists.ListState | None:
        conn = connect(self.path, create=False)
        try:
            return lists.list_state(conn, run_id)
        except (RunNotFound, lists.ListDecisionRefused):
            return None
        finally:
            conn.close()

    async def cultivation_list(self, request: Request, error: str | None = None, status: int = 200) -> Response:
        run = self.store.run(request.path_params["run_id"])
        state = self._list(request.path_params["run_id"]) if run else None
        if run is None or state is None:
            return self.missing(request, "这次运行不是遴选运行，没有培育名单 (not a select run)")
        others = [u for u in state.candidates if u not in state.current]
        return self.page(request, "list.html", status, run=run, state=state, others=others, error=error,
                         line=lists.decision_line, names=self._names(run, state))

    def _names(self, run: dict[str, Any], state: lists.ListState) -> dict[str, str]:
        """企业名称 of every firm on the list: from the run's list, else (a firm an analyst added) its firm row."""
        names = {u: c["name"] for u, c in state.candidates.items()}
        for u in state.current:
            if u not in names:
                firm = self.store.firm(run["seq"], u)
                names[u] = firm["name"] if firm else ""
        return names

    async def propose(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        form, user = request.state.form, request.state.user
        to = form_text(form, "to", 6)
        try:
            evidence = await self._evidence(form)
            ref = lists.propose(self.path, run_id, user.name, form_text(form, "why"), form_text(form, "action", 10),
                                form_text(form, "uscc", 40), number(to),
                                form_text(form, "based_on", 80) or None, evidence)
        except (ValueError, RunNotFound, AuditWriteError) as exc:
            return await self.cultivation_list(request, str(exc.args[0]), 400)
        return self.recorded(request, ref, f"/runs/{run_id}/list")

    async def approve(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        form, user = request.state.form, request.state.user
        try:
            ref = lists.approve(self.path, run_id, user.name, form_text(form, "why"),
                                form_text(form, "based_on", 80) or None)
        except (ValueError, RunNotFound, AuditWriteError) as exc:
            return await self.cultivation_list(request, str(exc.args[0]), 400)
        return self.recorded(request, ref, f"/runs/{run_id}/list")

    async def export(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        state = self._list(run_id)
        if state is None or state.approved is None:
            return self.missing(request, "名单尚未批准，不能导出 (the list is not approved)")
        approved = state.approved
        names = self._names(self.store.run(run_id) or {}, state)
        rows = []
        for k, u in enumerate(approved["picks"], start=1):
            c = state.candidates.get(u, {})
            rows.append({"pick": k, "uscc": u, "name": names.get(u, ""), "score": c.get("score"),
                         "reason": c.get("reason", ""), "source": "遴选结果" if u in state.machine else "人工加入"})
        about = [("遴选运行 run", run_id), ("申报年度 year", str(state.year)), ("批准人 approved by", approved["by"]),
                 ("批准时间 approved at", approved["time"]), ("批准记录 record", approved["id"])]
        sheets = {"批准名单": pd.DataFrame(rows), "名单决定": decisions_frame(state)}
        data = workbook_bytes(sheets, about, {name: EXPORT_LABELS for name in sheets})
        return Response(data, media_type=XLSX, headers={
            "content-disposition": f'attachment; filename="approved-list-{run_id}.xlsx"'})

    async def export_pdf(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        if self.store.run(run_id) is None:
            return self.missing(request, "没有这次运行 no such run")
        try:
            data = await run_in_threadpool(approved_list_pdf, self.path, run_id)  # seconds: the CJK font is large
        except (lists.ListDecisionRefused, BriefInputsMissing) as exc:
            return self.missing(request, str(exc.args[0]))
        return Response(data, media_type="application/pdf", headers={
            "content-disposition": f'attachment; filename="approved-briefs-{run_id}.pdf"'})

    # --- rules -------------------------------------------------------------------------------------------------

    async def rules(self, request: Request) -> Response:
        raw = request.query_params.get("date", "")
        try:
            on = dt.date.fromisoformat(raw) if raw else dt.date.today()
        except ValueError:
            on = dt.date.today()
        try:
            library = load_library(RULES_DIR)
        except RuleLoadError as exc:
            return self.page(request, "message.html", 500, title="规则无法加载 rules unusable",
                             message="; ".join(str(p) for p in exc.problems[:5]))
        in_force = {rs.id for rs in library.in_force(on)}
        rulesets = sorted(library.by_id.values(), key=lambda r: (r.program, r.meta.effective_from))
        provisional = [(rs, n) for rs in rulesets for n in rs.nodes.values() if n.provisional]
        return self.page(request, "rules.html", on=on, rulesets=rulesets, in_force=in_force, provisional=provisional)


def create_app(store: Path, warm: bool = False) -> Starlette:
    """The desk over ``store`` as an ASGI application; with ``warm``, the newest runs are prepared on a background
    thread (see :meth:`Desk.warm`)."""
    desk = Desk(store)
    if warm:
        threading.Thread(target=desk.warm, name="desk-warm", daemon=True).start()
    users = desk.users

    def route(path: str, endpoint: Any, role: str = "viewer", write: bool = False) -> Route:
        return Route(path, guard(endpoint, users, role, write), methods=["POST"] if write else ["GET"])

    routes = [
        Route("/login", desk.login_page, methods=["GET"]),
        Route("/login", desk.login, methods=["POST"]),
        route("/logout", desk.logout, write=True),
        route("/", desk.runs),
        route("/rules", desk.rules),
        route("/runs/{run_id}", desk.run),
        route("/runs/{run_id}/firms/{uscc}", desk.firm),
        route("/runs/{run_id}/firms/{uscc}/override", desk.override, "analyst", write=True),
        route("/runs/{run_id}/list", desk.cultivation_list),
        route("/runs/{run_id}/list/propose", desk.propose, "analyst", write=True),
        route("/runs/{run_id}/list/approve", desk.approve, "approver", write=True),
        route("/runs/{run_id}/list/export.xlsx", desk.export),
        route("/runs/{run_id}/list/briefs.pdf", desk.export_pdf),
        route("/evidence/{digest}", desk.evidence),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=secret_key(store), session_cookie=SESSION_COOKIE,
                   max_age=SESSION_MAX_AGE, same_site="strict", https_only=False),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.desk = desk
    return app

