"""``tiering serve``: start the review desk over an audit store."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from tiering.audit.db import existing_store, store_path
from tiering.cli.audit_cmd import store_option

DEFAULT_PORT = 8750


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听地址（host）：保持 127.0.0.1，经 reverse proxy（局里带 TLS 的反向代理）共享复核台；"
                   "复核台本身只用明文 HTTP。")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535),
              help="端口（port）：复核台监听的端口。")
@store_option
def serve(host: str, port: int, store: Path | None) -> None:
    """Start the review desk: runs, firms and their explanations, overrides, the cultivation list.

    Sign-in with accounts made by `tiering users add`. Stop with Ctrl-C.

    \b
    Example: tiering serve --store out/audit.sqlite
    """
    from tiering.desk.server import run
    from tiering.desk.users import Users

    path = existing_store(store_path(store))
    if not Users(path).all():
        click.echo("提示 note: 还没有用户，请先运行 `tiering users add NAME --role analyst` (no accounts yet)",
                   err=True)
    if not _loopback(host):
        click.echo(f"警告 warning: listening on {host} without TLS; passwords and session cookies cross the network "
                   f"in clear. Prefer 127.0.0.1 behind the bureau's reverse proxy with TLS.", err=True)
    click.echo(f"审阅台 review desk: http://{host}:{port}/  (store {path}; Ctrl-C to stop)")
    run(path, host, port)
