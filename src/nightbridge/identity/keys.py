"""The deterministic key of every record: the Nightscout v3 ``identifier``.

cgm-remote-monitor computes it (lib/api3/shared/operationTools.js ``calculateIdentifier``) as
UUID v5 of ``"<device>_<date>"`` plus ``"_<eventType>"`` when an event type is set, in the
namespace made of the 16 ASCII bytes ``NightscoutRocks!``. ``date`` is epoch ms as JavaScript
prints an integer; a missing device is the literal text ``undefined``. Computing it the same way
means our uploads and the server's own de-duplication agree.
"""

from __future__ import annotations

import hashlib
import uuid

from nightbridge.model.document import NSDocument

NAMESPACE = uuid.UUID(bytes=b"NightscoutRocks!")
_NAMESPACE_BYTES = NAMESPACE.bytes


def identifier_key(device: str | None, date_ms: int, event_type: str | None = None) -> str:
    """The name hashed into the identifier: ``<device>_<date>[_<eventType>]``."""
    key = f"{'undefined' if device is None else device}_{int(date_ms)}"
    return f"{key}_{event_type}" if event_type else key


#: SHA-1 state after the namespace bytes: each identifier copies it and hashes only its name.
_NAMESPACE_SHA1 = hashlib.sha1(_NAMESPACE_BYTES, usedforsecurity=False)
#: The RFC 4122 variant (``10xx``) applied to the first hex digit of the ninth byte.
_VARIANT_DIGIT = {f"{n:x}": f"{(n & 0x3) | 0x8:x}" for n in range(16)}


def uuid5_hex(name: str) -> str:
    """UUID v5 of ``name`` in the Nightscout namespace, as the canonical 36-char text.

    Same result as ``str(uuid.uuid5(NAMESPACE, name))``, computed without building UUID objects
    (this runs once per record on the hot path): the version nibble is the literal ``5`` and
    the variant bits are set on the hex digit that holds them.
    """
    sha = _NAMESPACE_SHA1.copy()
    sha.update(name.encode())
    h = sha.hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT_DIGIT[h[16]]}{h[17:20]}-{h[20:32]}"


def calculate_identifier(device: str | None, date_ms: int, event_type: str | None = None) -> str:
    """The identifier cgm-remote-monitor computes for these fields."""
    return uuid5_hex(identifier_key(device, date_ms, event_type))


def identify(doc: NSDocument) -> NSDocument:
    """Give ``doc`` its identifier if it has none; a client-supplied one is kept. Returns doc."""
    if doc.identifier is None:
        device, event_type = doc.device, doc.event_type_key
        key = f"{'undefined' if device is None else device}_{int(doc.date)}"
        doc.identifier = uuid5_hex(f"{key}_{event_type}" if event_type else key)
    return doc
