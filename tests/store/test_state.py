"""Engine state (cursors, pending batches, connector status) and server auth tables."""

from __future__ import annotations

import pytest

from nightbridge.engine.state import StateStore
from nightbridge.store import ConnectorStatus, Store


async def test_store_is_a_state_store(store: Store) -> None:
    assert isinstance(store, StateStore)


async def test_cursors(store: Store) -> None:
    assert await store.get_cursor("acct", "store") is None
    await store.set_cursor("acct", "store", 1_000)
    await store.set_cursor("acct", "files", 5)
    await store.set_cursor("acct", "store", 2_000)
    assert await store.get_cursor("acct", "store") == 2_000
    assert await store.get_cursor("acct", "files") == 5
    assert await store.get_cursor("other", "store") is None


async def test_pending_batches(store: Store) -> None:
    docs = [{"identifier": "a", "date": 1, "extra": {"x": [1]}}]
    first = await store.add_pending("acct", "ns", "entries", docs)
    second = await store.add_pending("acct", "ns", "treatments", [])
    await store.add_pending("acct", "other", "entries", docs)
    assert await store.count_pending() == 3
    batches = await store.list_pending("acct", "ns")
    assert [(b.id, b.collection, b.docs) for b in batches] == [
        (first, "entries", docs),
        (second, "treatments", []),
    ]
    assert batches[0].account == "acct" and batches[0].output == "ns" and batches[0].created_ms > 0
    await store.drop_pending(first)
    await store.drop_pending(first)
    assert [b.id for b in await store.list_pending("acct", "ns")] == [second]
    assert await store.count_pending() == 2


async def test_connector_status(store: Store) -> None:
    await store.record_run("p1", "dexcom_share", ok=True, at_ms=10, next_poll_ms=300, newest_ms=5)
    await store.record_run(
        "p1", "dexcom_share", ok=False, at_ms=20, error_family="auth", error_message="bad"
    )
    await store.record_run("p2", "librelinkup", ok=False, at_ms=30, error_family="connect")
    await store.record_run("p1", "dexcom_share", ok=True, at_ms=40)
    assert await store.connector_status() == [
        ConnectorStatus("dexcom_share", "p1", 40, 20, "auth", "bad", 300, 5),
        ConnectorStatus("librelinkup", "p2", None, 30, "connect", None, None, None),
    ]


async def test_roles(store: Store) -> None:
    role = await store.create_role("careportal", ["api:treatments:create"], notes="n")
    assert role.permissions == ("api:treatments:create",)
    with pytest.raises(ValueError):
        await store.create_role("careportal", [])
    updated = await store.update_role("careportal", permissions=["*"])
    assert updated is not None and updated.permissions == ("*",) and updated.notes == "n"
    assert await store.update_role("nope", notes="x") is None
    await store.create_role("admin", ["*"])
    assert [r.name for r in await store.list_roles()] == ["admin", "careportal"]
    assert await store.delete_role("careportal")
    assert not await store.delete_role("careportal")
    assert await store.get_role("careportal") is None


async def test_subjects(store: Store) -> None:
    subject = await store.create_subject("phone", ["readable"], "phone-0123456789abcdef")
    assert (await store.subject_by_token("phone-0123456789abcdef")) == subject
    assert await store.subject_by_token("phone-0123456789abcdeF") is None
    with pytest.raises(ValueError):
        await store.create_subject("clash", [], "phone-0123456789abcdef")
    changed = await store.update_subject(subject.id, roles_=["admin"], notes="mine")
    assert changed is not None and changed.roles == ("admin",) and changed.name == "phone"
    assert [s.id for s in await store.list_subjects()] == [subject.id]
    assert await store.get_subject(subject.id) == changed
    assert await store.delete_subject(subject.id)
    assert await store.get_subject(subject.id) is None
    assert not await store.delete_subject(subject.id)
