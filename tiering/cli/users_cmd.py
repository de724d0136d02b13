"""``tiering users``: the review desk's local accounts (add, list, remove, passwd)."""

from __future__ import annotations

from pathlib import Path

import click

from tiering.audit.db import store_path
from tiering.cli import SuggestingGroup
from tiering.cli.audit_cmd import store_option
from tiering.cli.common import fail
from tiering.desk.users import ROLE_ZH, ROLES, UserError, Users


def _password() -> str:
    """Read a password twice without echo (from standard input when it is not a terminal, e.g. in scripts)."""
    return click.prompt("密码 password", hide_input=True, confirmation_prompt="再次输入 repeat password")


@click.group("users", cls=SuggestingGroup)
def users() -> None:
    """Accounts of the review desk (`tiering serve`), kept beside the audit store; passwords hashed with argon2."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="角色（role）：viewer 只读；analyst 另可记录人工调整、提议名单变更；approver 另可批准。"
                   "viewer reads; analyst also records overrides and proposes list changes; approver also approves "
                   "the list; admin may do everything.")
@store_option
def add(name: str, role: str, store: Path | None) -> None:
    """创建账户 NAME；密码输入两次（或从标准输入读取）。

    Create account NAME; the password is asked twice (or read from standard input).

    \b
    Example: tiering users add 王芳 --role analyst
    """
    try:
        Users(store_path(store)).add(name, role, _password())
    except UserError as exc:
        fail(str(exc))
    click.echo(f"已添加用户 user added: {name}（{ROLE_ZH[role]} {role}）")


@users.command("list")
@store_option
def list_(store: Path | None) -> None:
    """列出账户及其角色。

    List the accounts and their roles.
    """
    for user in Users(store_path(store)).all():
        click.echo(f"{user.name}\t{user.role}\t{ROLE_ZH[user.role]}\t{user.stamp}")


@users.command("remove")
@click.argument("name")
@store_option
def remove(name: str, store: Path | None) -> None:
    """删除账户 NAME；其已登录的会话在下一次请求时结束。

    Delete account NAME; its open sessions end at their next request. Its records stay in the chain.
    """
    try:
        Users(store_path(store)).remove(name)
    except UserError as exc:
        fail(str(exc))
    click.echo(f"已删除用户 user removed: {name}")


@users.command("passwd")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default=None, help="角色（role）：同时修改角色。")
@store_option
def passwd(name: str, role: str | None, store: Path | None) -> None:
    """为 NAME 设置新密码（可同时改角色）；其已登录的会话结束。

    Set a new password for NAME (and optionally a new role); its open sessions end.
    """
    try:
        Users(store_path(store)).passwd(name, _password(), role)
    except UserError as exc:
        fail(str(exc))
    click.echo(f"已更新用户 user updated: {name}")

