"""JSON arrays of stored documents without decoding them: the hot read path of v1 and v3.

The store keeps each document's client fields as one JSON object text (``RawDoc.body``); an
answer needs that object plus the server fields. Instead of ``loads`` + ``dumps`` per document
the server fields are spliced in before the closing brace:

    {<body fields>,"identifier":"…","srvCreated":ms,"srvModified":ms[,"isValid":false][,"_id":"…"]}

which is the same document, with the same keys in the same order, that decoding
(``codec.decode``), ``with_object_id`` and ``orjson.dumps`` give. ``_id`` (v1 only) is the
derived ObjectId of ``api_v1.documents``. A body that holds an ``_id`` of its own, an empty
body and a soft-deleted document take the decoding path, so a client's ``_id`` is kept (v1) or
left out (v3) and ``isValid: false`` added exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from nightbridge.server.api_v1.documents import derived_object_id, with_object_id
from nightbridge.server.deps import dumps
from nightbridge.store.codec import decode
from nightbridge.store.documents import RawDoc


def _decoded(raw: RawDoc, object_id: bool) -> str:
    doc = decode(raw.body, raw.identifier, raw.srv_created, raw.srv_modified, raw.is_valid)
    if object_id:
        with_object_id(doc)
    else:
        doc.pop("_id", None)
    return dumps(doc).decode()


_QUOTED: dict[str, tuple[str, str]] = {}
_QUOTED_MAX = 65_536


def _identity(identifier: str) -> tuple[str, str]:
    """(``"identifier":<json string>``, ``,"_id":"<derived>"``) of ``identifier``; memoised."""
    hit = _QUOTED.get(identifier)
    if hit is None:
        if len(_QUOTED) >= _QUOTED_MAX:
            _QUOTED.clear()
        hit = _QUOTED[identifier] = (
            f'"identifier":{orjson.dumps(identifier).decode()}',
            f',"_id":"{derived_object_id(identifier)}"',
        )
    return hit


def json_documents(raws: Sequence[RawDoc], *, object_id: bool) -> str:
    """The JSON array text of ``raws`` as the API shows them (``_id`` added when
    ``object_id``: API v1). One tight loop: this runs for every document of every GET."""
    parts: list[str] = []
    append = parts.append
    quoted = _QUOTED
    for raw in raws:
        body, identifier, created, modified, valid, _ = raw
        if not valid or len(body) < 3 or body[-1] != "}" or '"_id"' in body:
            append(_decoded(raw, object_id))
            continue
        ident, oid = quoted.get(identifier) or _identity(identifier)
        append(
            f'{body[:-1]},{ident},"srvCreated":{created},"srvModified":{modified}'
            f"{oid if object_id else ''}}}"
        )
    return "[" + ",".join(parts) + "]"


def newest_date(raws: Sequence[RawDoc]) -> int | None:
    """The largest numeric ``date`` (epoch ms) among ``raws``, or None."""
    dates = [raw.date for raw in raws if raw.date is not None]
    return max(dates) if dates else None
