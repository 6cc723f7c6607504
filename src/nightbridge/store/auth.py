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
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from nightbridge.errors import RetriableError
from nightbridge.model.time import now_ms
from nightbridge.store.db import Database
from nightbridge.store.tables import roles, subjects


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
    return Role(row.name, tuple(orjson.loads(row.permissions)), row.notes, row.created_ms)


def _subject(row: Any) -> Subject:
    return Subject(
        row.id,
        row.name,
        tuple(orjson.loads(row.roles)),
        row.access_token,
        row.notes,
        row.created_ms,
    )


def _json_list(values: tuple[str, ...] | list[str]) -> str:
    return orjson.dumps(list(values)).decode()


class AuthMixin(Database):
    """Role and subject operations of ``Store``."""

    async def list_roles(self) -> list[Role]:
        """Every role, by name."""
        async with self._read() as conn:
            rows = (await conn.execute(select(roles).order_by(roles.c.name))).all()
        return [_role(r) for r in rows]

    async def get_role(self, name: str) -> Role | None:
        """The role called ``name``, or None."""
        async with self._read() as conn:
            row = (await conn.execute(select(roles).where(roles.c.name == name))).first()
        return None if row is None else _role(row)

    async def create_role(
        self, name: str, permissions: tuple[str, ...] | list[str], notes: str = ""
    ) -> Role:
        """Create a role; ValueError if the name exists."""
        role = Role(name, tuple(permissions), notes, now_ms())
        stmt = insert(roles).values(
            name=name,
            permissions=_json_list(role.permissions),
            notes=notes,
            created_ms=role.created_ms,
        )
        await self._insert_unique(stmt, f"role {name!r} exists")
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
            async with self._write() as conn:
                await conn.execute(update(roles).where(roles.c.name == name).values(**values))
        return await self.get_role(name)

    async def delete_role(self, name: str) -> bool:
        """Remove a role; False if there was none."""
        async with self._write() as conn:
            result = await conn.execute(delete(roles).where(roles.c.name == name))
        return bool(result.rowcount)

    async def list_subjects(self) -> list[Subject]:
        """Every subject, by name."""
        stmt = select(subjects).order_by(subjects.c.name, subjects.c.id)
        async with self._read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_subject(r) for r in rows]

    async def get_subject(self, subject_id: str) -> Subject | None:
        """The subject with ``subject_id``, or None."""
        async with self._read() as conn:
            row = (await conn.execute(select(subjects).where(subjects.c.id == subject_id))).first()
        return None if row is None else _subject(row)

    async def subject_by_token(self, token: str) -> Subject | None:
        """The subject whose access token is exactly ``token``, or None."""
        stmt = select(subjects).where(subjects.c.access_token == token)
        async with self._read() as conn:
            row = (await conn.execute(stmt)).first()
        return None if row is None else _subject(row)

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
        stmt = insert(subjects).values(
            id=subject.id,
            name=name,
            roles=_json_list(subject.roles),
            access_token=access_token,
            notes=notes,
            created_ms=subject.created_ms,
        )
        await self._insert_unique(stmt, "access token already in use")
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
            async with self._write() as conn:
                await conn.execute(
                    update(subjects).where(subjects.c.id == subject_id).values(**values)
                )
        return await self.get_subject(subject_id)

    async def delete_subject(self, subject_id: str) -> bool:
        """Remove a subject; False if there was none."""
        async with self._write() as conn:
            result = await conn.execute(delete(subjects).where(subjects.c.id == subject_id))
        return bool(result.rowcount)

    async def _insert_unique(self, stmt: Any, conflict: str) -> None:
        try:
            async with self._write() as conn:
                await conn.execute(stmt)
        except RetriableError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise ValueError(conflict) from None
            raise
