"""Process settings that keep a search process fast and its memory flat (set once).

- One BLAS thread: the engine's matrix products are small (a few thousand sentence rows at
  most); on two cores, BLAS threads only spin against the query embedding's own threads, which
  cost about 1 ms a query on the BEIR sets.
- A fixed malloc mmap threshold (glibc): every index generation loads arrays of a few MB
  (sentence vectors, vectors being rebuilt). glibc raises its mmap threshold each time such a
  block is freed, so the next ones come from the heap and its per-thread arenas, where freed
  blocks are rarely given back; under approvals every 10 s the server's memory then swung by
  20-30 MB and kept creeping up. With the threshold fixed at 1 MiB, big arrays are mapped and
  unmapped and memory stays flat (`kb bench load`).
"""

from __future__ import annotations

import ctypes
import threading

from threadpoolctl import threadpool_limits

MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
_lock = threading.Lock()
_threshold_set: bool | None = None  # None: not tuned yet


def tune_process() -> bool:
    """Apply both settings once per process; True when the malloc threshold is set (glibc)."""
    global _threshold_set
    with _lock:
        if _threshold_set is None:
            threadpool_limits(1, user_api="blas")
            _threshold_set = _set_threshold()
        return _threshold_set


def _set_threshold() -> bool:
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to set
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
