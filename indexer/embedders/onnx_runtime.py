"""ONNX Runtime embedders: the model exported once with torch, optionally int8, then torch-free."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from indexer.embedders.base import Embedder, ProgressFn, QueryCache, resolve_model_path
from indexer.generations import write_json_atomic
from kb.settings import BUNDLED_MODEL
from kb.state.permissions import make_private_dir

log = logging.getLogger(__name__)

# Bump when the export or quantisation recipe changes, so cached files are rebuilt.
RECIPE_VERSION = 2
# Per-channel weight scales and 7-bit weights: on CPUs without VNNI (like this one) the
# 8-bit u8*s8 kernels can saturate; these two options took the mean cosine to fp32 from
# 0.958 to 0.993 in our measurements.
QUANTISATION = {"weight_type": "QInt8", "per_channel": True, "reduce_range": True}
DEFAULT_MAX_TOKENS = 256
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PROGRESS_EVERY = 16


def backend_name(quantised: bool) -> str:
    return "onnx-int8" if quantised else "onnx"


def model_dir(models_dir: Path, model: str, quantised: bool) -> Path:
    """Where the built files of one model and variant live, e.g. models/all-minilm-l6-v2-int8."""
    if model == BUNDLED_MODEL:
        stem = model.split(":", 1)[1].lower()
    else:  # a local folder: its name plus a short hash of the full path, to keep two apart
        digest = hashlib.sha256(str(Path(model).resolve()).encode()).hexdigest()[:8]
        stem = re.sub(r"[^a-z0-9]+", "-", Path(model).name.lower()).strip("-") + "-" + digest
    return models_dir / f"{stem}-{'int8' if quantised else 'fp32'}"


def max_tokens(source: Path) -> int:
    """The model's own sequence limit (sentence_bert_config.json), not the tokenizer file's."""
    try:
        config = json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_MAX_TOKENS


def source_stamp(model: str, source: Path, quantised: bool) -> dict[str, Any]:
    """What the built files were made from; a change of any of it means a rebuild."""
    files = sorted(p for p in source.iterdir()
                   if p.suffix in (".safetensors", ".bin", ".json") and p.is_file())
    return {"recipe": RECIPE_VERSION, "model": model, "quantised": quantised,
            "quantisation": QUANTISATION if quantised else None, "max_tokens": max_tokens(source),
            "files": {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in files}}


def ensure_onnx_model(model: str, models_dir: Path, quantised: bool) -> tuple[Path, bool]:
    """Return the cached ONNX file for `model`, exporting (and quantising) it first if needed.

    The second value says whether this call built it. Files are written under temporary
    names and renamed into place, and `build.json` is written last, so a crash never leaves
    a half file that a later run would trust.
    """
    source = Path(resolve_model_path(model))
    target = model_dir(models_dir, model, quantised)
    stamp = source_stamp(model, source, quantised)
    if _is_built(target, stamp):
        return target / "model.onnx", False
    make_private_dir(target)  # may be the first thing to create the data folder
    with open(target / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # another process may be building the same files
        if _is_built(target, stamp):
            return target / "model.onnx", False
        work = Path(tempfile.mkdtemp(prefix=".build-", dir=target))
        try:
            exported = work / "fp32.onnx"
            _export(source, exported)
            final = _fuse(source, exported, work / "fused.onnx")
            if quantised:
                final = _quantise(final, work / "int8.onnx", work)
            _fsync(final)
            os.replace(final, target / "model.onnx")
            write_json_atomic(target / "build.json", stamp)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target / "model.onnx", True


def _is_built(target: Path, stamp: dict[str, Any]) -> bool:
    try:
        built = json.loads((target / "build.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(built == stamp and (target / "model.onnx").is_file())


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _export(source: Path, target: Path) -> None:
    """Trace the transformer (token states out; pooling stays in numpy) to an ONNX file."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    # Eager attention traces to plain MatMul/Softmax nodes that export and quantise cleanly.
    model = AutoModel.from_pretrained(str(source), attn_implementation="eager")
    model.eval()

    class TokenStates(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "token_states")}
    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript exporter is deprecated in favour of torch.export, which took 10x
        # longer here and needs onnxscript; its tracer warnings are expected for this model.
        warnings.simplefilter("ignore")
        torch.onnx.export(TokenStates(model), (sample, sample, torch.zeros_like(sample)),
                          str(target), input_names=list(INPUTS), output_names=["token_states"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)


def _fuse(source: Path, exported: Path, target: Path) -> Path:
    """onnxruntime's BERT graph fusions (attention, layer norm, gelu), when the model is BERT.

    They cut int8 query time by about a quarter here. Optional: if they fail, the plain
    graph is used.
    """
    try:
        config = json.loads((source / "config.json").read_text(encoding="utf-8"))
        if config.get("model_type") != "bert":
            return exported
        from onnxruntime.transformers.optimizer import optimize_model

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fused = optimize_model(str(exported), model_type="bert",
                                   num_heads=int(config["num_attention_heads"]),
                                   hidden_size=int(config["hidden_size"]))
        fused.save_model_to_file(str(target))
        return target
    except Exception as exc:  # an optimisation only; the unfused graph gives the same vectors
        log.info("ONNX graph fusion skipped (%s: %s)", type(exc).__name__, exc)
        return exported


def _quantise(source: Path, target: Path, work: Path) -> Path:
    """onnxruntime's dynamic int8 quantisation, after its own pre-processing pass."""
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = work / "prepared.onnx"
    # Symbolic shape inference does not complete for this graph; ONNX shape inference does.
    quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
    quantize_dynamic(str(prepared), str(target), weight_type=QuantType.QInt8,
                     per_channel=bool(QUANTISATION["per_channel"]),
                     reduce_range=bool(QUANTISATION["reduce_range"]),
                     # Shape inference cannot type the outputs of fused (contrib) operators.
                     extra_options={"DefaultTensorType": TensorProto.FLOAT})
    return target


def _open_session(path: Path) -> Any:
    """One single-threaded session: a query runs on one core (measured here: p50 2.5 ms,
    p95 3.6 ms, steadier than two threads that must wake up for each query), and documents
    run in parallel on it from one worker thread per core."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxEmbedder:
    """MiniLM on ONNX Runtime with the `tokenizers` package; falls back to another embedder
    (torch, handed in by the factory) if it must.

    Each text is run on its own: dynamic quantisation scales activations per call, so a text
    batched with others would get a slightly different vector, and incremental and full
    builds would disagree. Runs are single-threaded; documents run in parallel, one per
    core at a time (about twice the throughput of batches of 32 here).

    `fallback` makes the embedder used instead when the ONNX model cannot be built or
    loaded (called once, then); without one, that failure is raised.
    """

    def __init__(self, model: str, models_dir: Path, quantised: bool = True,
                 workers: int | None = None,
                 fallback: Callable[[], Embedder] | None = None) -> None:
        self.model = model
        self.models_dir = models_dir
        self.quantised = quantised
        self.workers = workers or len(os.sched_getaffinity(0)) or 1
        self.built = False  # whether this instance exported the model (tests read it)
        self._session: Any = None
        self._tokenizer: Any = None
        self._make_fallback = fallback
        self._fallback: Embedder | None = None
        self._lock = threading.Lock()
        self._cache = QueryCache()

    @property
    def name(self) -> str:
        """The model plus the backend, so switching backend rebuilds the index."""
        inner = self._ready()
        return inner.name if inner is not None else \
            f"{self.model}+{backend_name(self.quantised)}"

    @property
    def dim(self) -> int:
        inner = self._ready()
        if inner is not None:
            return inner.dim
        return int(self._session.get_outputs()[0].shape[-1])

    def _ready(self) -> Embedder | None:
        """Build or load the ONNX model once; None when ready, else the fallback embedder."""
        with self._lock:
            if self._session is None and self._fallback is None:
                try:
                    self._load()
                except Exception as exc:  # any failure to build or load means the fallback
                    if self._make_fallback is None:
                        raise
                    log.warning("ONNX embedder unavailable (%s: %s); using torch instead",
                                type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
                    self._fallback = self._make_fallback()
            return self._fallback

    def _load(self) -> None:
        from tokenizers import Tokenizer

        path, self.built = ensure_onnx_model(self.model, self.models_dir, self.quantised)
        source = Path(resolve_model_path(self.model))
        tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
        # The shipped tokenizer.json pads and truncates at 128; the model reads 256 tokens.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_tokens(source))
        try:
            session = _open_session(path)
        except Exception:  # a damaged cached file (the disk, a hand edit): build it afresh once
            if self.built:
                raise
            (path.parent / "build.json").unlink(missing_ok=True)
            path, self.built = ensure_onnx_model(self.model, self.models_dir, self.quantised)
            session = _open_session(path)
        self._session = session
        self._tokenizer = tokenizer

    def _encode_one(self, text: str) -> np.ndarray:
        # sentence-transformers strips surrounding whitespace before tokenising; so do we.
        encoding = self._tokenizer.encode(text.strip())
        ids = np.asarray([encoding.ids], dtype=np.int64)
        mask = np.asarray([encoding.attention_mask], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask,
                 "token_type_ids": np.asarray([encoding.type_ids], dtype=np.int64)}
        states = self._session.run(None, feeds)[0][0]
        weights = mask[0, :, None].astype(np.float32)
        pooled = (states * weights).sum(axis=0) / max(float(weights.sum()), 1e-9)
        norm = float(np.linalg.norm(pooled))
        return (pooled / max(norm, 1e-12)).astype(np.float32)

    def encode_documents(self, texts: Sequence[str], progress: ProgressFn | None = None
                         ) -> np.ndarray:
        inner = self._ready()
        if inner is not None:
            return inner.encode_documents(texts, progress)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            # onnxruntime releases the GIL while it runs, so the runs truly overlap.
            vectors = pool.map(self._encode_one, texts)
            for i, vector in enumerate(vectors):
                out[i] = vector
                if progress and ((i + 1) % PROGRESS_EVERY == 0 or i + 1 == len(texts)):
                    progress((i % PROGRESS_EVERY) + 1)
        return out

    def clear_cache(self) -> None:
        """Forget cached query vectors (benchmarks measure uncached latency)."""
        self._cache.clear()
        if self._fallback is not None:
            self._fallback.clear_cache()

    def encode_query(self, text: str) -> np.ndarray:
        inner = self._ready()
        if inner is not None:
            return inner.encode_query(text)
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        vec = self._encode_one(text)
        self._cache.put(text, vec)
        return vec
