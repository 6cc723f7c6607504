"""v1 write semantics (upsert_natural) and the v3 fallback lookup (find_natural)."""

from __future__ import annotations

from nightbridge.identity import calculate_identifier
from nightbridge.store import Store

T0 = 1_700_000_000_000
ISO0 = "2023-11-14T22:13:20.000Z"


def sgv(value: int, **extra: object) -> dict[str, object]:
    return {"type": "sgv", "date": T0, "sysTime": ISO0, "sgv": value, **extra}


async def test_entries_dedup_on_date_and_type_and_merge(store: Store) -> None:
    first = await store.upsert_natural("entries", [sgv(100, device="xdrip", noise=1)], now_ms=T0)
    assert (first.created, first.updated) == (1, 0)
    ident = first.docs[0]["identifier"]
    assert ident == calculate_identifier("xdrip", T0)
    again = await store.upsert_natural(
        "entries", [sgv(100, device="xdrip", noise=1)], now_ms=T0 + 1
    )
    assert (again.created, again.unchanged) == (0, 1)
    other_device = await store.upsert_natural("entries", [sgv(104, device="phone")], now_ms=T0 + 2)
    assert (other_device.created, other_device.updated) == (0, 1)
    stored = other_device.docs[0]
    assert stored["identifier"] == ident  # the matched document keeps its identifier
    assert (stored["sgv"], stored["device"], stored["noise"]) == (104, "phone", 1)  # merged
    assert stored["srvCreated"] == T0 and stored["srvModified"] == T0 + 2
    mbg = await store.upsert_natural("entries", [{"type": "mbg", "date": T0, "mbg": 90}])
    assert mbg.created == 1
    assert await store.count("entries") == 2


async def test_entries_batch_with_repeats_returns_docs_in_order(store: Store) -> None:
    batch = [sgv(100), {**sgv(101), "date": T0 + 300_000}, sgv(102)]
    result = await store.upsert_natural("entries", batch, now_ms=T0)
    assert (result.created, result.updated) == (2, 1)
    assert [d["sgv"] for d in result.docs] == [100, 101, 102]
    assert result.docs[0]["identifier"] == result.docs[2]["identifier"]
    assert await store.count("entries") == 2


async def test_treatments_dedup_on_created_at_and_event_type_replace(store: Store) -> None:
    bolus = {"eventType": "Correction Bolus", "created_at": ISO0, "insulin": 1.5, "notes": "a"}
    first = await store.upsert_natural("treatments", [bolus], now_ms=T0)
    same_instant_other_zone = {
        "eventType": "Correction Bolus",
        "created_at": "2023-11-14T23:13:20.000+01:00",
        "insulin": 2,
    }
    second = await store.upsert_natural("treatments", [same_instant_other_zone], now_ms=T0 + 1)
    assert (second.created, second.updated) == (0, 1)
    assert second.docs[0]["identifier"] == first.docs[0]["identifier"]
    assert "notes" not in second.docs[0]  # replaced, not merged
    carbs = await store.upsert_natural(
        "treatments", [{"eventType": "Carb Correction", "created_at": ISO0, "carbs": 10}]
    )
    assert carbs.created == 1
    assert await store.count("treatments") == 2


async def test_treatment_with_identifier_is_keyed_on_it(store: Store) -> None:
    doc = {"identifier": "client-1", "eventType": "Note", "created_at": ISO0, "notes": "x"}
    await store.upsert_natural("treatments", [doc])
    moved = {**doc, "created_at": "2023-11-15T00:00:00.000Z"}
    result = await store.upsert_natural("treatments", [moved])
    assert result.updated == 1 and result.docs[0]["identifier"] == "client-1"
    assert await store.count("treatments") == 1


async def test_devicestatus_is_plain_insert(store: Store) -> None:
    status = {"device": "loop", "created_at": ISO0, "pump": {"reservoir": 100}}
    one = await store.upsert_natural("devicestatus", [status, status])
    two = await store.upsert_natural("devicestatus", [status])
    assert one.created == 2 and two.created == 1
    idents = {d["identifier"] for d in (*one.docs, *two.docs)}
    assert len(idents) == 3
    assert await store.count("devicestatus") == 3
    by_id = await store.upsert_natural(
        "devicestatus", [{**status, "identifier": one.docs[0]["identifier"]}]
    )
    assert by_id.unchanged == 1 and await store.count("devicestatus") == 3


async def test_profile_and_food_insert_or_by_identifier(store: Store) -> None:
    profile = {"defaultProfile": "D", "store": {"D": {"dia": 3}}, "created_at": ISO0}
    created = await store.upsert_natural("profile", [profile])
    ident = created.docs[0]["identifier"]
    changed = {**profile, "identifier": ident, "store": {"D": {"dia": 4}}}
    updated = await store.upsert_natural("profile", [changed])
    assert updated.updated == 1
    got = await store.get("profile", ident)
    assert got is not None and got["store"] == {"D": {"dia": 4}}
    food = await store.upsert_natural("food", [{"name": "apple", "carbs": 12}, {"name": "apple"}])
    assert food.created == 2


async def test_find_natural_only_matches_documents_without_client_identifier(store: Store) -> None:
    await store.upsert_natural("entries", [sgv(100)])
    await store.upsert("entries", [{**sgv(120), "type": "mbg", "identifier": "v3-id"}])
    legacy = await store.find_natural("entries", {"type": "sgv", "date": T0, "sgv": 1})
    assert legacy is not None and legacy["sgv"] == 100
    assert await store.find_natural("entries", {"type": "mbg", "date": T0}) is None
    anyone = await store.find_natural("entries", {"type": "mbg", "date": T0}, assigned_only=False)
    assert anyone is not None and anyone["identifier"] == "v3-id"
    assert await store.find_natural("entries", {"date": T0}) is None  # no type: no key
    await store.upsert_natural("devicestatus", [{"device": "loop", "created_at": ISO0, "n": 1}])
    status = await store.find_natural(
        "devicestatus", {"device": "loop", "created_at": "2023-11-14T22:13:20Z"}
    )
    assert status is not None and status["n"] == 1
    assert await store.find_natural("settings", {"created_at": ISO0}) is None
