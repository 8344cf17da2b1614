"""Picks the embedder for the settings: ONNX Runtime (int8 or fp32) or sentence-transformers."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from indexer.embedders.base import Embedder
from indexer.embedders.sentence_transformer import SentenceTransformerEmbedder
from kb.errors import BadInputError
from kb.settings import EMBEDDERS

log = logging.getLogger(__name__)


def create_embedder(model: str, backend: str = EMBEDDERS[0],
                    models_dir: Path = Path("var/models")) -> Embedder:
    """The embedder for the model and backend settings (KB_MODEL, KB_EMBEDDER, KB_DATA_DIR).

    The ONNX backends build their model files in `models_dir` at first use; when
    onnxruntime is not installed, or the build fails, they say so once and use torch. The
    backends never import each other: this factory hands the ONNX one its torch fallback.
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
    from indexer.embedders.onnx_runtime import OnnxEmbedder

    return OnnxEmbedder(model, models_dir, quantised=backend == "onnx-int8",
                        fallback=lambda: SentenceTransformerEmbedder(model))
