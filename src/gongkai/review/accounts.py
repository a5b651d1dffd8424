"""Accounts and what each may do: administrators, reviewers limited to a subtree of the region tree, read-only users.

Passwords are hashed with argon2-cffi (Argon2id, memory-hard, the Password Hashing Competition's
winner, salt and parameters inside the hash) rather than bcrypt (not memory-hard, 72-byte limit).

The rules live here, not in the web routes: `can_read` / `can_change` take a user and a report
(sha256 or lineage) and answer from the report's region — the roster body it is matched to, or else
the division its agency's name starts with. A reviewer of 430112 may act on every report whose
region chain holds 430112 (望城区 and the towns and streets under it), and on nothing else; a report
whose region is unknown is only an administrator's (or an unrestricted reader's) to see.
"""

from __future__ import annotations

from dataclasses import dataclass

from gongkai.review import log
from gongkai.review.model import PermissionDenied, ReviewError, actor_name

ROLES = ("admin", "reviewer", "readonly")
ROLE_ZH = {"admin": "管理员", "reviewer": "审核员", "readonly": "只读"}
MIN_PASSWORD = 8
_FIELD_ZH = {"role": "角色", "region": "区划", "active": "状态", "password": "口令"}


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    region: str | None = None  # a division code (6, 9 or 12 digits); None: every region
    active: bool = True

    @property
    def role_zh(self) -> str:
        return ROLE_ZH.get(self.role, self.role)

    def to_dict(self) -> dict:
        return {"name": self.name, "role": self.role, "role_zh": self.role_zh, "region": self.region, "active": self.active}


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def _role(text: str) -> str:
    by_zh = {zh: en for en, zh in ROLE_ZH.items()}
    role = by_zh.get((text or "").strip(), (text or "").strip().lower())
    if role not in ROLES:
        raise ReviewError(f"角色“{text}”无效：只能是 admin（管理员）、reviewer（审核员）或 readonly（只读）")
    return role


def check_region(code: str | None) -> str | None:
    """A division code as users carry it: 6, 9 or 12 digits of a division the gazetteer knows."""
    if code is None or not str(code).strip():
        return None
    from gongkai.regions import gazetteer

    code = str(code).strip()
    if not code.isdigit() or len(code) not in (6, 9, 12):
        raise ReviewError(f"区划代码“{code}”须为 6、9 或 12 位数字")
    if gazetteer().by_code(code) is None:
        raise ReviewError(f"区划代码“{code}”不是已知的行政区划")
    return code


def add_user(store, name: str, role: str, password: str, region: str | None = None, by="") -> User:
    """Create a user; a reviewer needs a region. The password is kept only as its Argon2id hash."""
    name = (name or "").strip()
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        raise ReviewError("用户名须为 1–64 个字符，不含空白")
    role = _role(role)
    region = check_region(region)
    if role == "reviewer" and region is None:
        raise ReviewError("审核员须指定可管辖的区划（--region 区划代码）")
    if len(password or "") < MIN_PASSWORD:
        raise ReviewError(f"口令至少 {MIN_PASSWORD} 个字符")
    actor = getattr(by, "name", by) or "命令行"
    if hasattr(by, "role") and not can_manage_users(by):
        raise PermissionDenied("只有管理员可以管理用户")
    digest = _hasher().hash(password)
    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        if con.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone():
            raise ReviewError(f"用户“{name}”已存在")
        when = log.now()
        con.execute("INSERT INTO users (name, role, region, password_hash, active, created_at, created_by) VALUES (?, ?, ?, ?, true, ?, ?)",
                    [name, role, region, digest, when, actor])  # fmt: skip
        log.write(con, actor, "user", target=name, new=f"{ROLE_ZH[role]}" + (f"（区划 {region}）" if region else ""),
                  detail="新建用户", at=when)  # fmt: skip
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return User(name, role, region)


def set_user(store, name: str, *, role: str | None = None, region: str | None = None, active: bool | None = None,
             password: str | None = None, by="") -> User:  # fmt: skip
    """Change a user's role, region, password or whether it may log in; every change is logged."""
    actor = getattr(by, "name", by) or "命令行"
    if hasattr(by, "role") and not can_manage_users(by):
        raise PermissionDenied("只有管理员可以管理用户")
    user = get_user(store, name)
    if user is None:
        raise ReviewError(f"没有用户“{name}”")
    changes: dict[str, tuple] = {}
    new_role = _role(role) if role is not None else user.role
    new_region = check_region(region) if region is not None else user.region
    if new_role == "reviewer" and new_region is None:
        raise ReviewError("审核员须指定可管辖的区划（--region 区划代码）")
    if new_role != user.role:
        changes["role"] = (ROLE_ZH[user.role], ROLE_ZH[new_role])
    if new_region != user.region:
        changes["region"] = (user.region, new_region)
    if active is not None and active != user.active:
        changes["active"] = ("启用" if user.active else "停用", "启用" if active else "停用")
    digest = None
    if password is not None:
        if len(password) < MIN_PASSWORD:
            raise ReviewError(f"口令至少 {MIN_PASSWORD} 个字符")
        digest = _hasher().hash(password)
        changes["password"] = ("…", "（新口令）")
    if not changes:
        return user
    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("UPDATE users SET role = ?, region = ?, active = ?, password_hash = coalesce(?, password_hash) WHERE name = ?",
                    [new_role, new_region, user.active if active is None else active, digest, name])  # fmt: skip
        for what, (old, new) in changes.items():
            log.write(con, actor, "user", target=name, old=old, new=new, detail=f"修改{_FIELD_ZH[what]}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return get_user(store, name)


def get_user(store, name: str) -> User | None:
    row = store.con.execute("SELECT name, role, region, active FROM users WHERE name = ?", [name]).fetchone()
    return User(*row) if row else None


def list_users(store) -> list[User]:
    return [User(*r) for r in store.con.execute("SELECT name, role, region, active FROM users ORDER BY name").fetchall()]


def authenticate(store, name: str, password: str) -> User | None:
    """The user if the name and password are right and the account is active, else None (nothing logged: see `log_login`)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    row = store.con.execute("SELECT password_hash, active FROM users WHERE name = ?", [name]).fetchone()
    if row is None or not row[1]:
        _hasher().hash(password or "x")  # the same work for an unknown name: no timing oracle
        return None
    try:
        _hasher().verify(row[0], password or "")
    except (VerificationError, InvalidHashError):
        return None
    return get_user(store, name)


# ── permissions ─────────────────────────────────────────────────────────────────────────────


def in_region(region: str | None, codes: list[str] | tuple[str, ...]) -> bool:
    """Whether a body whose region chain is `codes` lies in the subtree of `region` (None: every region)."""
    if region is None:
        return True
    return any(code == region or (len(region) > 6 and code.startswith(region)) for code in codes)


def reads_everything(user) -> bool:
    """An administrator, or a read-only user of every region: no report is out of their sight."""
    return user is not None and user.active and (user.role == "admin" or (user.role == "readonly" and not user.region))


def can_submit(user) -> bool:
    """May `user` add reports (upload a file, re-submit one)? Anyone but a read-only user."""
    return user is not None and user.active and user.role in ("admin", "reviewer")


def can_manage_users(user) -> bool:
    return user is not None and user.active and user.role == "admin"


def can_read_codes(user, codes) -> bool:
    if user is None or not user.active:
        return False
    if user.role == "admin":
        return True
    return in_region(user.region, codes) if user.region else user.role == "readonly"


def can_change_codes(user, codes) -> bool:
    if user is None or not user.active or user.role == "readonly":
        return False
    return user.role == "admin" or (user.role == "reviewer" and user.region is not None and in_region(user.region, codes))


def _codes_of(store, report: str) -> list[str]:
    from gongkai.audit.scope import lineage_codes
    from gongkai.review.versions import lineage_of

    return lineage_codes(store).get(lineage_of(store, report), [])


def can_read(store, user, report: str) -> bool:
    """May `user` see this report (sha256 or lineage)?"""
    if reads_everything(user):
        return True
    return can_read_codes(user, _codes_of(store, report))


def can_change(store, user, report: str) -> bool:
    """May `user` decide on this report's findings and correct its cells?"""
    if user is not None and user.active and user.role == "admin":
        return True
    return can_change_codes(user, _codes_of(store, report))


def require_read(store, user, report: str) -> None:
    if not can_read(store, user, report):
        raise PermissionDenied("无权查看这份报告")


def require_change(store, user, report: str) -> None:
    if not can_change(store, user, report):
        raise PermissionDenied("无权审核或更正这份报告（不在您管辖的区划内）")


def readable_lineages(store, user) -> set[str] | None:
    """The lineages `user` may read; None when every one (an administrator, a reader of every region)."""
    if reads_everything(user):
        return None
    from gongkai.audit.scope import lineage_codes

    return {lineage for lineage, codes in lineage_codes(store).items() if can_read_codes(user, codes)}


def visible_reports(store, user) -> set[str] | None:
    """sha256 of every report file `user` may read (any version); None when every one."""
    allowed = readable_lineages(store, user)
    if allowed is None:
        return None
    rows = store.con.execute("SELECT lineage, sha256 FROM report_versions").fetchall()
    return {sha for lineage, sha in rows if lineage in allowed}


def require_user(by) -> str:
    """The actor's name, checking it is a user allowed to change things when a `User` is given."""
    if isinstance(by, User) and (not by.active or by.role == "readonly"):
        raise PermissionDenied("只读用户不能审核或更正")
    return actor_name(by)
