"""The FAISS vector index: chunk ids as FAISS ids, exact below a size threshold and IVF above it,
filtered search, atomic save and load. The only module that touches FAISS."""

from __future__ import annotations

import math
import os
from pathlib import Path

import faiss
import numpy as np

from kb.errors import IndexUnavailableError

FLAT = "flat"
IVF = "ivf"
# Chosen by `kb bench --scale` (README "Search at scale"): exact search over 50k vectors took
# 5.6-6.9 ms p50, the whole engine's budget, against 0.8 ms for IVF at recall@10 0.97.
DEFAULT_ANN_THRESHOLD = 50_000
# Cells scanned per unfiltered query. With about 2*sqrt(n) cells the work grows as sqrt(n);
# measured recall@10 against exact search was 0.973-0.995 from 10k to 1M vectors.
PROBES = 48
TRAIN_POINTS_PER_LIST = 50
MIN_IVF_SIZE = 64  # fewer vectors than this are always searched exactly
BITMAP_MIN_IDS = 256
CLUSTER_ITERATIONS = 10
SEED = 1234


def ivf_lists(size: int) -> int:
    """IVF cells for `size` vectors: about 2*sqrt(n), with at least 40 training points each."""
    return max(1, min(int(2 * math.sqrt(size)), size // 40))


def ivf_probes(lists: int) -> int:
    """Cells scanned per unfiltered query."""
    return min(lists, PROBES)


def kind_for(size: int, current: str, threshold: int) -> str:
    """The index type for `size` vectors; between threshold/2 and threshold the current type
    stays, so a library hovering around the threshold is not rebuilt back and forth."""
    if size >= max(threshold, MIN_IVF_SIZE):
        return IVF
    if size < threshold // 2:
        return FLAT
    return current


def _selector(allowed: np.ndarray) -> tuple[faiss.IDSelector, np.ndarray | None]:
    """A FAISS selector for the allowed ids, and the bitmap it reads (keep it alive meanwhile).

    A bitmap over the id range builds in microseconds where a hashed id batch of 20k ids took
    3.6 ms; small or very sparse sets stay a batch.
    """
    ids = np.asarray(allowed, dtype=np.int64)
    top = int(ids.max()) if len(ids) else 0
    if len(ids) < BITMAP_MIN_IDS or ids.min() < 0 or top > 512 * len(ids):
        return faiss.IDSelectorBatch(ids), None
    mask = np.zeros(top + 1, dtype=bool)
    mask[ids] = True
    bits = np.packbits(mask, bitorder="little")
    return faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits)), bits


def _empty_result() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)


class VectorIndex:
    """Inner-product search over normalised vectors keyed by chunk id.

    Small indexes are an exact IndexIDMap2(IndexFlatIP). Past the threshold, `save` turns them
    into an IndexIVFFlat, which still stores every vector exactly and keeps add, remove_ids,
    reconstruct and id-selector filtering, so incremental builds stay cheap at any size.
    """

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

    @property
    def kind(self) -> str:
        return IVF if isinstance(self.index, faiss.IndexIVF) else FLAT

    def describe(self) -> dict[str, object]:
        """The index type and its parameters, for the manifest and the bench."""
        if self.kind == IVF:
            return {"type": "IndexIVFFlat", "kind": IVF, "lists": int(self.index.nlist),
                    "probes": int(self.index.nprobe)}
        return {"type": "IndexIDMap2(IndexFlatIP)", "kind": FLAT}

    def add(self, ids: list[int] | np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                    np.asarray(ids, dtype=np.int64))

    def remove(self, ids: list[int] | np.ndarray) -> None:
        if len(ids):
            array = np.asarray(ids, dtype=np.int64)
            # The IVF id hashtable only removes by an explicit id array.
            selector = (faiss.IDSelectorArray(array) if self.kind == IVF
                        else faiss.IDSelectorBatch(array))
            self.index.remove_ids(selector)

    def vectors(self, ids: list[int]) -> np.ndarray:
        """The stored vectors of these ids, one row each."""
        if not len(ids):
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.index.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores); with `allowed`, only those ids are considered (before the cut)."""
        return self._search(query, k, allowed, exact=False)

    def exact_search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Like `search`, but exhaustive whatever the index type (the reference for recall)."""
        return self._search(query, k, allowed, exact=True)

    def _search(self, query: np.ndarray, k: int, allowed: np.ndarray | None, exact: bool
                ) -> tuple[np.ndarray, np.ndarray]:
        # One query runs on one thread. The OpenMP thread count is per calling thread, so
        # this leaves builds (k-means, adds) parallel. Measured on a busy 2-core machine, a
        # two-thread exact search over 20k vectors waited for a core: p50 50-75 ms, against
        # 2-6 ms on one thread.
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self._search_one(query, k, allowed, exact)
        finally:
            faiss.omp_set_num_threads(threads)

    def _search_one(self, query: np.ndarray, k: int, allowed: np.ndarray | None, exact: bool
                    ) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.size)
        if k <= 0 or (allowed is not None and len(allowed) == 0):
            return _empty_result()
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        selector, _bits = _selector(allowed) if allowed is not None else (None, None)
        if self.kind == FLAT:
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
            scores, ids = self.index.search(q, k, params=params)
        else:
            scores, ids = self._search_ivf(q, k, allowed, selector, exact)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def _search_ivf(self, q: np.ndarray, k: int, allowed: np.ndarray | None,
                    selector: faiss.IDSelector | None, exact: bool
                    ) -> tuple[np.ndarray, np.ndarray]:
        lists = int(self.index.nlist)
        probes = lists if exact else int(self.index.nprobe)
        wanted = k
        if allowed is not None:
            # A filter thins every cell, so scan more of them. Filters pick whole write-ups,
            # whose passages sit near each other, so 1/sqrt(share) more cells kept recall@10 at
            # 0.986-0.998 for 1-30% filters (200k vectors), at a third of the cost of 1/share.
            share = len(allowed) / self.size
            probes = math.ceil(probes / math.sqrt(max(share, 1e-12)))
            wanted = min(k, len(allowed))
        while True:
            probes = min(probes, lists)
            params = faiss.SearchParametersIVF(nprobe=probes)
            if selector is not None:
                params.sel = selector
            scores, ids = self.index.search(q, k, params=params)
            # Too few hits means the probed cells held too few (allowed) vectors: widen.
            if probes >= lists or int((ids[0] >= 0).sum()) >= wanted:
                return scores, ids
            probes *= 4

    def search_batch(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k ids and scores for many queries at once (ground truth for the bench)."""
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if self.kind == IVF:
            params = faiss.SearchParametersIVF(nprobe=int(self.index.nlist))
            scores, ids = self.index.search(q, k, params=params)
        else:
            scores, ids = self.index.search(q, k)
        return ids, scores

    # -- changing type ---------------------------------------------------------------------
    def contents(self) -> tuple[np.ndarray, np.ndarray]:
        """All (ids, vectors), sorted by id."""
        if self.kind == FLAT:
            ids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
            flat = faiss.downcast_index(self.index.index)
            vecs = faiss.rev_swig_ptr(flat.get_xb(), self.size * self.dim)
            vecs = np.asarray(vecs).reshape(self.size, self.dim)
        else:
            lists = self.index.invlists
            id_parts, vec_parts = [], []
            for cell in range(int(self.index.nlist)):
                count = lists.list_size(cell)
                if count:
                    id_parts.append(faiss.rev_swig_ptr(lists.get_ids(cell), count).copy())
                    codes = faiss.rev_swig_ptr(lists.get_codes(cell), count * lists.code_size)
                    vec_parts.append(np.asarray(codes).copy().view(np.float32)
                                     .reshape(count, self.dim))
            if not id_parts:
                return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
            ids, vecs = np.concatenate(id_parts), np.vstack(vec_parts)
        if len(ids) > 1 and not bool(np.all(ids[:-1] < ids[1:])):
            order = np.argsort(ids, kind="stable")
            ids, vecs = ids[order], vecs[order]
        return ids, vecs

    def convert(self, kind: str) -> None:
        """Rebuild as `kind` (IVF: train fresh cells on a fixed-seed sample of the vectors)."""
        ids, vecs = self.contents()
        if kind == FLAT:
            index = VectorIndex.empty(self.dim)
            index.add(ids, vecs)
            self.index = index.index
            return
        lists = ivf_lists(len(ids))
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, lists, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.spherical = True  # cells by angle, as the vectors are unit length
        ivf.cp.niter = CLUSTER_ITERATIONS
        ivf.cp.seed = SEED
        rng = np.random.default_rng(SEED)
        sample = np.sort(rng.choice(len(ids), min(len(ids), TRAIN_POINTS_PER_LIST * lists),
                                    replace=False))
        ivf.train(np.ascontiguousarray(vecs[sample]))
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct and remove by id
        ivf.add_with_ids(np.ascontiguousarray(vecs), ids)
        ivf.nprobe = ivf_probes(lists)
        self.index = ivf

    def fit_to(self, threshold: int) -> None:
        """Switch type for the current size; retrain IVF cells once the size has moved 4x."""
        wanted = kind_for(self.size, self.kind, threshold)
        if wanted != self.kind:
            self.convert(wanted)
        elif wanted == IVF:
            lists, ideal = int(self.index.nlist), ivf_lists(self.size)
            if not ideal / 2 <= lists <= ideal * 2:
                self.convert(IVF)

    # -- files -----------------------------------------------------------------------------
    def save(self, path: Path, ann_threshold: int = DEFAULT_ANN_THRESHOLD) -> None:
        """Fit the type to the size, then write to a temporary file, fsync and rename over the
        target (never in place)."""
        self.fit_to(ann_threshold)
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
        if not isinstance(index, (faiss.IndexIDMap2, faiss.IndexIVFFlat)):
            raise IndexUnavailableError(f"vector index {path} is of an unknown type; "
                                        "run `kb index --full`")
        return cls(index)
