"""A small thread-safe LRU cache for things derived from immutable definitions."""

from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Generic, TypeVar

T = TypeVar("T")


class BoundedCache(Generic[T]):
    """Keep the `size` most recently used values, built on demand by key."""

    def __init__(self, size: int = 256):
        self.size = size
        self._values: OrderedDict[str, T] = OrderedDict()
        self._lock = Lock()

    def get_or_build(self, key: str, build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = build()  # outside the lock: building may be slow; a race only builds twice
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value
