"""Pure Nightscout-shaped values. Times are UTC epoch ms; glucose is mg/dL."""

from nightbridge.model.devicestatus import DeviceStatus
from nightbridge.model.document import Collection, NSDocument
from nightbridge.model.entries import Entry, EntryType
from nightbridge.model.glucose import Direction, Units
from nightbridge.model.profile import Food, Profile
from nightbridge.model.treatments import EventType, Treatment

#: Which model class holds the documents of each collection.
MODEL_OF: dict[Collection, type[NSDocument]] = {
    Collection.ENTRIES: Entry,
    Collection.TREATMENTS: Treatment,
    Collection.DEVICESTATUS: DeviceStatus,
    Collection.PROFILE: Profile,
    Collection.FOOD: Food,
}

__all__ = [
    "MODEL_OF",
    "Collection",
    "DeviceStatus",
    "Direction",
    "Entry",
    "EntryType",
    "EventType",
    "Food",
    "NSDocument",
    "Profile",
    "Treatment",
    "Units",
]
