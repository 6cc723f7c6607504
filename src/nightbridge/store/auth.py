"""Authorization data for the server: roles and subjects (nightscout-api.md §3).

A role is a name with Shiro-style permission strings (``api:entries:read``, ``*``). A subject is
a named holder of roles with its own ``access_token`` (unique; the server chooses its format).
Conflicting names or tokens raise ``ValueError``; the server checks before it writes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from nightbridge.errors import RetriableError
from nightbridge.model.time import now_ms
from nightbridge.store.db import Database

_ROLE_COLUMNS = "name, permissions, notes, created_ms"
_SUBJECT_COLUMNS = "id, name, roles, access_token, notes, created_ms"


@dataclass(frozen=True, slots=True)
class Role:
    """A named set of permissions."""

    name: str
    permissions: tuple[str, ...]
    notes: str
    created_ms: int


@dataclass(frozen=True, slots=True)
class Subject:
    """A token holder: ``id`` is a random UUID chosen at creation."""

    id: str
    name: str
    roles: tuple[str, ...]
    access_token: str
    notes: str
    created_ms: int


def _role(row: Any) -> Role:
    name, permissions, notes, created_ms = row
    return Role(name, tuple(orjson.loads(permissions)), notes, created_ms)


def _subject(row: Any) -> Subject:
    ident, name, roles, access_token, notes, created_ms = row
    return Subject(ident, name, tuple(orjson.loads(roles)), access_token, notes, created_ms)


def _json_list(values: tuple[str, ...] | list[str]) -> str:
    return orjson.dumps(list(values)).decode()


class AuthMixin(Database):
    """Role and subject operations of ``Store`` (plain SQL, both databases)."""

    async def _auth_rows(self, sql: str, *values: Any) -> list[Any]:
        async with self._read() as conn:
            return list((await conn.exec_driver_sql(self._sql(sql), values)).all())

    async def _auth_write(self, sql: str, *values: Any) -> int:
        """Run one write statement; the number of rows it changed."""
        async with self._write() as conn:
            result = await conn.exec_driver_sql(self._sql(sql), values)
        return int(result.rowcount)

    async def list_roles(self) -> list[Role]:
        """Every role, by name."""
        rows = await self._auth_rows(f"SELECT {_ROLE_COLUMNS} FROM roles ORDER BY name")
        return [_role(r) for r in rows]

    async def get_role(self, name: str) -> Role | None:
        """The role called ``name``, or None."""
        rows = await self._auth_rows(f"SELECT {_ROLE_COLUMNS} FROM roles WHERE name = ?", name)
        return _role(rows[0]) if rows else None

    async def create_role(
        self, name: str, permissions: tuple[str, ...] | list[str], notes: str = ""
    ) -> Role:
        """Create a role; ValueError if the name exists."""
        role = Role(name, tuple(permissions), notes, now_ms())
        await self._insert_unique(
            f"INSERT INTO roles ({_ROLE_COLUMNS}) VALUES (?, ?, ?, ?)",
            (name, _json_list(role.permissions), notes, role.created_ms),
            f"role {name!r} exists",
        )
        return role

    async def update_role(
        self,
        name: str,
        *,
        permissions: tuple[str, ...] | list[str] | None = None,
        notes: str | None = None,
    ) -> Role | None:
        """Change a role's permissions and/or notes; None if there is no such role."""
        values: dict[str, Any] = {}
        if permissions is not None:
            values["permissions"] = _json_list(tuple(permissions))
        if notes is not None:
            values["notes"] = notes
        if values:
            assignments = ", ".join(f"{column} = ?" for column in values)
            await self._auth_write(
                f"UPDATE roles SET {assignments} WHERE name = ?", *values.values(), name
            )
        return await self.get_role(name)

    async def delete_role(self, name: str) -> bool:
        """Remove a role; False if there was none."""
        return bool(await self._auth_write("DELETE FROM roles WHERE name = ?", name))

    async def list_subjects(self) -> list[Subject]:
        """Every subject, by name."""
        rows = await self._auth_rows(f"SELECT {_SUBJECT_COLUMNS} FROM subjects ORDER BY name, id")
        return [_subject(r) for r in rows]

    async def get_subject(self, subject_id: str) -> Subject | None:
        """The subject with ``subject_id``, or None."""
        rows = await self._auth_rows(
            f"SELECT {_SUBJECT_COLUMNS} FROM subjects WHERE id = ?", subject_id
        )
        return _subject(rows[0]) if rows else None

    async def subject_by_token(self, token: str) -> Subject | None:
        """The subject whose access token is exactly ``token``, or None."""
        rows = await self._auth_rows(
            f"SELECT {_SUBJECT_COLUMNS} FROM subjects WHERE access_token = ?", token
        )
        return _subject(rows[0]) if rows else None

    async def create_subject(
        self,
        name: str,
        roles_: tuple[str, ...] | list[str],
        access_token: str,
        notes: str = "",
        *,
        subject_id: str | None = None,
    ) -> Subject:
        """Create a subject; ValueError if ``access_token`` is taken.

        ``subject_id``: the id to use (default a random UUID); the server derives the access
        token from it, so it chooses the id first.
        """
        ident = subject_id or str(uuid.uuid4())
        subject = Subject(ident, name, tuple(roles_), access_token, notes, now_ms())
        await self._insert_unique(
            f"INSERT INTO subjects ({_SUBJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (ident, name, _json_list(subject.roles), access_token, notes, subject.created_ms),
            "access token already in use",
        )
        return subject

    async def update_subject(
        self,
        subject_id: str,
        *,
        name: str | None = None,
        roles_: tuple[str, ...] | list[str] | None = None,
        notes: str | None = None,
    ) -> Subject | None:
        """Change a subject's name, roles and/or notes; None if there is no such subject."""
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = name
        if roles_ is not None:
            values["roles"] = _json_list(tuple(roles_))
        if notes is not None:
            values["notes"] = notes
        if values:
            assignments = ", ".join(f"{column} = ?" for column in values)
            await self._auth_write(
                f"UPDATE subjects SET {assignments} WHERE id = ?", *values.values(), subject_id
            )
        return await self.get_subject(subject_id)

    async def delete_subject(self, subject_id: str) -> bool:
        """Remove a subject; False if there was none."""
        return bool(await self._auth_write("DELETE FROM subjects WHERE id = ?", subject_id))

    async def _insert_unique(self, sql: str, values: tuple[Any, ...], conflict: str) -> None:
        try:
            await self._auth_write(sql, *values)
        except RetriableError as exc:
            if isinstance(exc.__cause__, self._integrity_errors):
                raise ValueError(conflict) from None
            raise
