"""Bytes an app server can make again from the database (drawn posters, event cover sizes), kept in
the process's memory: least recently used first out, bounded in bytes (RENDER_CACHE_MB, shared by
every kind).  Never on disk: another server makes its own copy from the same data."""
from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app


class BytesLRU:
    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def put(self, key: tuple, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._size -= len(old) if old is not None else 0
            self._items[key] = data
            self._size += len(data)
            while self._size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)

    def discard(self, match) -> None:
        """Drop the entries whose key ``match(key)`` says (e.g. a place's older posters)."""
        with self._lock:
            for key in [k for k in self._items if match(k)]:
                self._size -= len(self._items.pop(key))

    def keys(self) -> list[tuple]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0

    @property
    def size(self) -> int:
        return self._size


def renders() -> BytesLRU:
    """This app's cache of drawn images."""
    cache = current_app.extensions.get("render_cache")
    if cache is None:
        cache = current_app.extensions.setdefault("render_cache",
                                                  BytesLRU(current_app.config["RENDER_CACHE_MB"] * 1024 * 1024))
    return cache
