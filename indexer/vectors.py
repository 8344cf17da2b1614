"""The FAISS vector index: chunk ids as FAISS ids, filtered search, atomic save and load."""

from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

from kb.errors import IndexUnavailableError


class VectorIndex:
    """Inner-product search over normalised vectors keyed by chunk id (exact, flat)."""

    def __init__(self, index: faiss.Index) -> None:
        self.index = index

    @classmethod
    def empty(cls, dim: int) -> VectorIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)))

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                    np.asarray(ids, dtype=np.int64))

    def remove(self, ids: list[int]) -> None:
        if ids:
            self.index.remove_ids(faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64)))

    def vectors(self, ids: list[int]) -> np.ndarray:
        return np.vstack([self.index.reconstruct(int(i)) for i in ids])

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores); with `allowed`, only those ids are considered (before the cut)."""
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
        scores, ids = self.index.search(query.reshape(1, -1).astype(np.float32), k,
                                        params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def save(self, path: Path) -> None:
        """Write to a temporary file, fsync, then rename over the target (never in place)."""
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(self.index, str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, dim: int | None = None) -> VectorIndex:
        """Read an index file; a missing, truncated or wrong-sized file raises a clear error."""
        if not path.exists():
            raise IndexUnavailableError(f"vector index {path} is missing; run `kb index`")
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexUnavailableError(f"vector index {path} is unreadable ({exc}); "
                                        "run `kb index --full`") from None
        if dim is not None and index.d != dim:
            raise IndexUnavailableError(f"vector index {path} has {index.d} dimensions, the "
                                        f"model gives {dim}; run `kb index --full`")
        return cls(index)
