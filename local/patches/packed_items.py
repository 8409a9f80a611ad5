"""The tables' items, packed: the same data in a fraction of the memory.

moto keeps every item as a tree of objects: an `Item`, a dict of its attributes, a
`DynamoType` per attribute and per value in a map, each name and string its own copy. The
three items an operation leaves (the operation with its request and its result, the user,
the email claim) took some 7 KB that way, most of what the stack kept per operation: the
soak (`make soak`) grew 11 MB per 1,000 operations, all of it the tables.

For a table keyed by a hash key alone (every table of this stack), `Table.items` becomes a
PackedItems: each item is kept as the `marshal` bytes of its attributes, with the set of its
attribute names (one object for the items that have the same names) for the scans of an
index, and is turned back into moto's objects when a request reads it. An item handed to
moto (read or written) stays live, so that moto's in-place changes to it (UpdateItem) are the
table's, until the DynamoDB request that handed it out has been answered; `settle()` then
packs it again. Every DynamoDB request runs whole under the emulator's one lock
(local/state/lock.py), `settle()` included, so no request sees an item being packed.

Some reads of moto's go through every item of a table: its length (DescribeTable's item
count, which the console shows), a Query (moto walks every item even for a key) and a Scan
of an index (the sweeper queries the sparse in-flight index every minute). They are
answered from the packed entries: a Query of the table unpacks the key's item, and a Query
or Scan of an index unpacks only the items that have its key attributes (an index holds no
others). A whole-table Scan, and the `--state` snapshot, unpack every item, once each.

It relies on two other patches: weakly-tracked-models (moto would otherwise keep every Item
it unpacks for ever) and atomic-dynamodb-answers (registered after this one, so its lock
holds while the items are packed again).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import marshal
from collections.abc import Callable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any, cast

from moto.dynamodb.models.dynamo_type import DDBType, DynamoType, Item, LimitedSizeDict

if TYPE_CHECKING:
    from local.patches.hooks import Hooks

# An item at rest: the names of its attributes, and the attributes as marshal bytes.
Packed = tuple[frozenset[str], bytes]

# One frozenset per distinct set of attribute names, shared by the items that have it (as
# many as the tables have shapes of item, a handful here).
_NAME_SETS: dict[frozenset[str], frozenset[str]] = {}
# The mappings holding live items, until the request that handed them out is answered.
_unsettled: dict[int, PackedItems] = {}
# While moto runs a Query: the items it can find, of the table's (all_items() is asked).
_queried: contextvars.ContextVar[Callable[[PackedItems], list[Item]] | None] = (
    contextvars.ContextVar("queried", default=None)
)


def _encode(value: DynamoType) -> tuple[str, Any]:
    if value.type == DDBType.MAP:
        return value.type, {name: _encode(inner) for name, inner in value.value.items()}
    if value.type == DDBType.LIST:
        return value.type, [_encode(inner) for inner in value.value]
    return value.type, value.value  # str, bool, bytes, or a list of them for a set


def _decode(encoded: tuple[str, Any]) -> DynamoType:
    kind, inner = encoded
    if kind == DDBType.MAP:
        inner = {name: _decode(value) for name, value in inner.items()}
    elif kind == DDBType.LIST:
        inner = [_decode(value) for value in inner]
    # As moto's DynamoType.__deepcopy__ builds one: its __init__ would wrap the tree again.
    value = DynamoType.__new__(DynamoType)
    value.type = kind
    value.value = inner
    return value


def pack(item: Item) -> Packed:
    names = frozenset(item.attrs)
    names = _NAME_SETS.setdefault(names, names)
    attributes = {name: _encode(value) for name, value in item.attrs.items()}
    return names, marshal.dumps(attributes)


def unpack(key: DynamoType, packed: Packed) -> Item:
    item = cast(Item, Item.__new__(Item))
    item.hash_key = key
    item.range_key = None
    # As moto's Item.__deepcopy__: the size was checked when the item was written.
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(attrs)
    for name, encoded in marshal.loads(packed[1]).items():
        dict.__setitem__(attrs, name, _decode(encoded))
    item.attrs = attrs
    return item


class PackedItems(MutableMapping[DynamoType, Item]):
    """A hash-key table's items (moto's `Table.items`: hash key -> Item), kept packed."""

    def __init__(self) -> None:
        self._entries: dict[DynamoType, Item | Packed] = {}
        self._live: set[DynamoType] = set()

    def __getitem__(self, key: DynamoType) -> Item:
        entry = self._entries[key]
        if isinstance(entry, Item):
            return entry
        item = self._entries[key] = unpack(key, entry)
        self._handed_out(key)
        return item

    def __setitem__(self, key: DynamoType, item: Item) -> None:
        self._entries[key] = item
        self._handed_out(key)

    def __delitem__(self, key: DynamoType) -> None:
        del self._entries[key]
        self._live.discard(key)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[DynamoType]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def values(self) -> list[Item]:  # type: ignore[override]
        """Every item, for moto's scans and queries, which only read them: unpacked copies
        that the table does not keep."""
        return [self._read(key, entry) for key, entry in self._entries.items()]

    def having(self, names: set[str]) -> list[Item]:
        """The items that have every one of `names` (those an index holds), unpacking only
        them."""
        return [
            self._read(key, entry)
            for key, entry in self._entries.items()
            if names.issubset(entry.attrs if isinstance(entry, Item) else entry[0])
        ]

    def settle(self) -> None:
        """Packs the live items again."""
        for key in self._live:
            entry = self._entries.get(key)
            if isinstance(entry, Item):
                self._entries[key] = pack(entry)
        self._live.clear()

    def __copy__(self) -> PackedItems:
        """Shares the items, as a shallow copy of moto's dict does (local/patches/speed.py's
        transaction backup)."""
        clone = PackedItems()
        clone._entries = dict(self._entries)
        for key in self._live:
            clone._handed_out(key)
        return clone

    def __deepcopy__(self, memo: dict[int, Any]) -> PackedItems:
        """Packed entries cannot change: only the live items need copying, and packing is."""
        clone = PackedItems()
        clone._entries = {
            key: pack(entry) if isinstance(entry, Item) else entry
            for key, entry in self._entries.items()
        }
        return clone

    def with_key(self, key: DynamoType) -> list[Item]:
        """The item with this key, if any (a Query of the table), unpacking only it."""
        entry = self._entries.get(key)
        return [] if entry is None else [self._read(key, entry)]

    def _read(self, key: DynamoType, entry: Item | Packed) -> Item:
        return entry if isinstance(entry, Item) else unpack(key, entry)

    def _handed_out(self, key: DynamoType) -> None:
        self._live.add(key)
        _unsettled[id(self)] = self


def settle() -> None:
    """Packs every item handed out since the last call (at the end of each DynamoDB request)."""
    while _unsettled:
        _, items = _unsettled.popitem()
        items.settle()


def _key_attributes(table: Any, index_name: str) -> set[str]:
    """The attributes an item must have to be in the index (a DynamoDB index is sparse)."""
    index = table.get_index(index_name)
    return {key["AttributeName"] for key in index.schema}


def patch(original: Callable[..., Any], hooks: Hooks, name: str) -> Callable[..., Any]:
    """The registry's factory (packed-items), by the attribute replaced."""
    if name == "__init__":

        @functools.wraps(original)
        def init(table: Any, *args: Any, **kwargs: Any) -> None:
            original(table, *args, **kwargs)
            if table.range_key_attr is None:
                table.items = PackedItems()

        return init
    if name == "__len__":

        @functools.wraps(original)
        def length(table: Any) -> int:
            if isinstance(table.items, PackedItems):
                return len(table.items)
            return int(original(table))

        return length
    if name == "has_idx_items":  # a Scan of an index

        @functools.wraps(original)
        def has_idx_items(table: Any, index_name: str) -> list[Item]:
            if isinstance(table.items, PackedItems):
                return table.items.having(_key_attributes(table, index_name))
            return list(original(table, index_name))

        return has_idx_items
    if name == "query":
        signature = inspect.signature(original)

        @functools.wraps(original)
        def query(table: Any, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(table.items, PackedItems):
                return original(table, *args, **kwargs)
            arguments = signature.bind(table, *args, **kwargs).arguments
            if arguments.get("index_name"):
                names = _key_attributes(table, arguments["index_name"])
                token = _queried.set(lambda items: items.having(names))
            else:
                key = arguments["hash_key"]
                token = _queried.set(lambda items: items.with_key(key))
            try:
                return original(table, *args, **kwargs)
            finally:
                _queried.reset(token)

        return query
    if name == "all_items":

        @functools.wraps(original)
        def all_items(table: Any) -> list[Item]:
            if not isinstance(table.items, PackedItems):
                return list(original(table))
            queried = _queried.get()
            found = table.items.values() if queried is None else queried(table.items)
            return sorted(found, key=lambda item: item.hash_key)  # as moto's, by key

        return all_items

    @functools.wraps(original)
    def answered_then_settled(handler: Any) -> Any:
        try:
            return original(handler)
        finally:
            settle()

    return answered_then_settled
