"""Nightscout API v1 write semantics: upsert on the natural key, not the identifier.

What cgm-remote-monitor does on ``POST /api/v1/<collection>`` (nightscout-api.md §2.4-2.8):

- entries: match ``sysTime`` + ``type`` (our ``date|type``), fields **merged** into the stored
  document (15.0.7 ``$set``); a matched document keeps its identifier.
- treatments: match ``identifier`` when the client sent one, else ``created_at`` + ``eventType``;
  the document is **replaced**.
- devicestatus, profile, food, settings: plain insert (a client identifier that already exists
  replaces that document).

A new document keeps the client's identifier; without one, entries and treatments get the
identifier the v3 API would compute (identity/, UUID v5), the other collections a random UUID.
Documents that came without an identifier are marked so (the v3 fallback de-duplication only
considers those). ``isValid``/``srvCreated``/``srvModified`` sent by the client are ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nightbridge.identity.keys import calculate_identifier
from nightbridge.model.time import now_ms as _now_ms
from nightbridge.store.codec import body_of, decode, encode_body, natural_key, row_values
from nightbridge.store.db import Connection
from nightbridge.store.documents import DocumentsMixin, UpsertResult

_KEYED = frozenset({"entries", "treatments"})
_CHUNK = 500


@dataclass(slots=True)
class _Stored:
    """The current state of one identifier during a batch."""

    body: dict[str, Any]
    digest: str
    is_valid: bool
    srv_created: int
    srv_modified: int
    assigned: bool
    dirty: bool = False


def _computed_identifier(collection: str, body: dict[str, Any]) -> str | None:
    date = body.get("date")
    if isinstance(date, bool) or not isinstance(date, int | float):
        return None
    device = body.get("device")
    event = body.get("eventType") if collection == "treatments" else None
    return calculate_identifier(
        device if isinstance(device, str) else None,
        int(date),
        event if isinstance(event, str) else None,
    )


class NaturalMixin(DocumentsMixin):
    """``upsert_natural`` of ``Store``."""

    async def _load(
        self, conn: Connection, collection: str, idents: list[str], keys: list[str]
    ) -> tuple[dict[str, _Stored], dict[str, str]]:
        from nightbridge.store.statements import natural_load

        by_ident: dict[str, _Stored] = {}
        by_key: dict[str, str] = {}
        size = max(len(idents), len(keys))
        for start in range(0, size, _CHUNK):
            chunk = (idents[start : start + _CHUNK], keys[start : start + _CHUNK])
            rows = await conn.execute(natural_load(collection, *chunk))
            for ident, doc, digest, valid, created, modified, assigned, key in rows:
                body = decode(doc, ident, created, modified, True)
                by_ident[ident] = _Stored(
                    body_of(body), digest, bool(valid), created, modified, bool(assigned)
                )
                if key is not None:
                    by_key[key] = ident  # ascending order: valid and newest come last and win
        return by_ident, by_key

    async def upsert_natural(
        self, collection: str, docs: Sequence[dict[str, Any]], *, now_ms: int | None = None
    ) -> UpsertResult:
        """Write ``docs`` with the v1 semantics above; ``docs`` of the result are the stored
        documents (identifier and server fields included) in input order, ``inserted`` says
        which of them are new (a repeat of an earlier document of the batch is not)."""
        now = _now_ms() if now_ms is None else now_ms
        bodies = [body_of(d) for d in docs]
        given = [
            d.get("identifier") if isinstance(d.get("identifier"), str) else None for d in docs
        ]
        computed = [
            _computed_identifier(collection, b) if collection in _KEYED else None for b in bodies
        ]
        keys = [natural_key(collection, b) if collection in _KEYED else None for b in bodies]
        created = updated = unchanged = 0
        answers: list[dict[str, Any]] = []
        inserted: list[bool] = []
        async with self._write() as conn:
            idents = [i for i in (*given, *computed) if i]
            by_ident, by_key = await self._load(conn, collection, idents, [k for k in keys if k])
            for body, client_id, calc_id, key in zip(bodies, given, computed, keys, strict=True):
                target = self._match(collection, client_id, calc_id, key, by_ident, by_key)
                stored = by_ident.get(target) if target else None
                inserted.append(stored is None)
                if stored is None:
                    ident = target or client_id or calc_id or str(uuid.uuid4())
                    text_digest = encode_body(body)[1]
                    by_ident[ident] = _Stored(
                        body, text_digest, True, now, now, client_id is None, dirty=True
                    )
                    created += 1
                else:
                    ident = target
                    merged = {**stored.body, **body} if collection == "entries" else body
                    digest = encode_body(merged)[1]
                    if stored.is_valid and digest == stored.digest:
                        unchanged += 1
                    else:
                        stored.body, stored.digest, stored.is_valid = merged, digest, True
                        stored.srv_modified, stored.dirty = now, True
                        updated += 1
                new_key = natural_key(collection, by_ident[ident].body)
                if new_key is not None:
                    by_key[new_key] = ident
                now_stored = by_ident[ident]
                answers.append(
                    decode(
                        now_stored.body,
                        ident,
                        now_stored.srv_created,
                        now_stored.srv_modified,
                        now_stored.is_valid,
                    )
                )
            rows = [
                row_values(
                    collection,
                    ident,
                    s.body,
                    srv_created=s.srv_created,
                    srv_modified=s.srv_modified,
                    assigned=s.assigned,
                )
                for ident, s in by_ident.items()
                if s.dirty
            ]
            await self._write_rows(conn, rows)
        return UpsertResult(created, updated, unchanged, tuple(answers), tuple(inserted))

    @staticmethod
    def _match(
        collection: str,
        client_id: str | None,
        calc_id: str | None,
        key: str | None,
        by_ident: dict[str, _Stored],
        by_key: dict[str, str],
    ) -> str | None:
        """The identifier of the stored document ``body`` replaces, or the one to create."""
        if collection == "entries":
            if key is not None and key in by_key:
                return by_key[key]
            return client_id or (calc_id if calc_id in by_ident else None)
        if collection == "treatments":
            if client_id is not None:
                return client_id
            if key is not None and key in by_key:
                return by_key[key]
            return calc_id if calc_id in by_ident else None
        return client_id
