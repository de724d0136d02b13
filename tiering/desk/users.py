"""Local accounts of the review desk, kept in ``<store>.users.sqlite`` beside the audit store.

Accounts change (passwords, removals), so they are not records of the append-only chain; what an account does
is. Passwords are stored only as argon2id hashes. Sign-in attempts are counted per name and per address: after
``MAX_FAILURES`` failures within ``WINDOW_S`` seconds, further attempts are refused until the window passes,
without the password being checked at all.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tiering.errors import TieringError

ROLES = ("viewer", "analyst", "approver", "admin")
"""Roles in rising order of what they may do; each may do everything the ones before it may."""
ROLE_ZH = {"viewer": "查阅", "analyst": "分析员", "approver": "审批人", "admin": "管理员"}
MIN_PASSWORD = 8
MAX_FAILURES = 5
WINDOW_S = 15 * 60

_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("tiering-no-such-user")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    hash TEXT NOT NULL,
    stamp TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_name ON attempts (name, at);
CREATE INDEX IF NOT EXISTS attempts_address ON attempts (address, at);
"""


class UserError(TieringError, ValueError, error_id="user-refused"):
    """An account command that cannot be done (unknown role, short password, unknown or existing name)."""


class Throttled(TieringError, error_id="throttled"):
    """Too many failed sign-ins for this name or address; try again after the window."""


@dataclass(frozen=True)
class User:
    """A signed-in or listed account. ``stamp`` changes with every password or role change, which ends every
    session opened before it."""

    name: str
    role: str
    stamp: str

    def may(self, role: str) -> bool:
        """Whether this account may do what ``role`` may."""
        return ROLES.index(self.role) >= ROLES.index(role)


def users_path(store: Path) -> Path:
    """The accounts file of an audit store."""
    return store.parent / f"{store.stem}.users.sqlite"


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Users:
    """The accounts of one audit store."""

    def __init__(self, store: Path) -> None:
        self.path = users_path(store)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._conn()
        conn.executescript(_SCHEMA)
        conn.close()
        self.path.chmod(0o600)

    def _conn(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 30000")
        return conn

    @staticmethod
    def _check(role: str | None, password: str | None) -> None:
        if role is not None and role not in ROLES:
            raise UserError(f"未知角色 unknown role {role!r}; use one of {', '.join(ROLES)}")
        if password is not None and len(password) < MIN_PASSWORD:
            raise UserError(f"密码至少 {MIN_PASSWORD} 个字符 password must have at least {MIN_PASSWORD} characters")

    def add(self, name: str, role: str, password: str) -> User:
        """Create an account; UserError if the name exists, the role is unknown or the password too short."""
        if not name.strip() or name != name.strip():
            raise UserError("用户名不能为空或以空格开头结尾 name must be non-empty without surrounding spaces")
        self._check(role, password)
        user = User(name, role, _stamp())
        conn = self._conn()
        try:
            conn.execute("INSERT INTO users (name, role, hash, stamp) VALUES (?, ?, ?, ?)",
                         (name, role, _HASHER.hash(password), user.stamp))
        except sqlite3.IntegrityError as exc:
            raise UserError(f"用户 {name} 已存在 user exists; use `tiering users passwd` or remove it first") from exc
        finally:
            conn.close()
        return user

    def passwd(self, name: str, password: str, role: str | None = None) -> None:
        """Set a new password (and optionally role); every open session of the account ends."""
        self._check(role, password)
        conn = self._conn()
        try:
            changed = conn.execute("UPDATE users SET hash = ?, stamp = ?, role = COALESCE(?, role) WHERE name = ?",
                                   (_HASHER.hash(password), _stamp(), role, name)).rowcount
        finally:
            conn.close()
        if not changed:
            raise UserError(f"没有用户 {name} no such user")

    def remove(self, name: str) -> None:
        """Delete an account; its sessions end at their next request."""
        conn = self._conn()
        try:
            removed = conn.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount
        finally:
            conn.close()
        if not removed:
            raise UserError(f"没有用户 {name} no such user")

    def all(self) -> list[User]:
        conn = self._conn()
        try:
            return [User(*r) for r in conn.execute("SELECT name, role, stamp FROM users ORDER BY name")]
        finally:
            conn.close()

    def get(self, name: str) -> User | None:
        conn = self._conn()
        try:
            row = conn.execute("SELECT name, role, stamp FROM users WHERE name = ?", (name,)).fetchone()
        finally:
            conn.close()
        return User(*row) if row else None

    def sign_in(self, name: str, password: str, address: str) -> User | None:
        """The account if the password is right; None if not; Throttled after too many recent failures."""
        now = time.time()
        conn = self._conn()
        try:
            failures = conn.execute(
                "SELECT (SELECT COUNT(*) FROM attempts WHERE name = ? AND at > ?), "
                "(SELECT COUNT(*) FROM attempts WHERE address = ? AND at > ?)",
                (name, now - WINDOW_S, address, now - WINDOW_S)).fetchone()
            if max(failures) >= MAX_FAILURES:
                raise Throttled(f"登录失败次数过多，请 {WINDOW_S // 60} 分钟后再试 too many failed sign-ins")
            row = conn.execute("SELECT name, role, stamp, hash FROM users WHERE name = ?", (name,)).fetchone()
            try:
                _HASHER.verify(row[3] if row else _DUMMY, password)  # same work whether or not the name exists
                ok = row is not None
            except (VerificationError, InvalidHashError):
                ok = False
            if not ok:
                conn.execute("INSERT INTO attempts (name, address, at) VALUES (?, ?, ?)", (name, address, now))
                return None
            conn.execute("DELETE FROM attempts WHERE name = ? OR at < ?", (name, now - WINDOW_S))
            return User(row[0], row[1], row[2])
        finally:
            conn.close()
