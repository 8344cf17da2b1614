"""The sentence-transformers (torch) embedder: the reference backend, loaded lazily, once."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from indexer.embedders.base import ProgressFn, QueryCache, resolve_model_path
from kb.errors import KBError
from kb.settings import BUNDLED_MODEL

log = logging.getLogger(__name__)


class SentenceTransformerEmbedder:
    """The reference embedder: sentence-transformers on torch, CPU, offline."""

    def __init__(self, model: str = BUNDLED_MODEL, batch_size: int = 32) -> None:
        self.name = model
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        self._cache = QueryCache()

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                path = resolve_model_path(self.name)
                if not Path(path).exists() and "/" not in path:
                    raise KBError(f"model {path!r} is not a folder on this machine; set KB_MODEL "
                                  "to a local sentence-transformers model folder")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # keep CLI output clean
                hf_logging.set_verbosity_error()

                try:
                    self._model = SentenceTransformer(path, device="cpu")
                except Exception as exc:  # the library raises many types
                    raise KBError(f"could not load the embedding model {self.name!r}: {exc}") \
                        from exc
            return self._model

    @property
    def dim(self) -> int:
        model = self._load()
        return int(model.get_embedding_dimension())

    def encode_documents(self, texts: Sequence[str], progress: ProgressFn | None = None
                         ) -> np.ndarray:
        model = self._load()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Batches of similar length waste little on padding (sentence-transformers sorts too,
        # but only within one call, and we call once per batch to report progress).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            out[rows] = model.encode([texts[i] for i in rows], batch_size=self.batch_size,
                                     convert_to_numpy=True, normalize_embeddings=True,
                                     show_progress_bar=False)
            if progress:
                progress(len(rows))
        return out

    def clear_cache(self) -> None:
        """Forget cached query vectors (benchmarks measure uncached latency)."""
        self._cache.clear()

    def encode_query(self, text: str) -> np.ndarray:
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        model = self._load()
        vec = model.encode([text], convert_to_numpy=True, normalize_embeddings=True,
                           show_progress_bar=False)[0].astype(np.float32)
        self._cache.put(text, vec)
        return vec
