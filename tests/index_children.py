"""A child process for tests/test_index_faults.py: update the index of a content folder and
stop halfway through writing the vector file, saying so on stdout, until killed with SIGKILL.

    python index_children.py CONTENT_DIR DATA_DIR MODEL_CACHE
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from indexer import vectors
from indexer.embedders.factory import create_embedder
from indexer.pipeline import index_content
from kb.settings import BUNDLED_MODEL, Settings

REAL_WRITE = vectors.faiss.write_index


def write_half_then_stop(index: object, path: str) -> None:
    """Write the file, cut it to half its length (the bytes a kill mid-write leaves), stop."""
    REAL_WRITE(index, path)
    size = os.path.getsize(path)
    os.truncate(path, size // 2)
    print(f"in-save {path}", flush=True)
    time.sleep(120)  # the parent kills us long before this ends


if __name__ == "__main__":
    content, data, models = map(Path, sys.argv[1:4])
    settings = Settings(content_dir=content, data_dir=data, model_cache=models)
    embedder = create_embedder(BUNDLED_MODEL, settings.embedder, models)
    vectors.faiss.write_index = write_half_then_stop
    index_content(settings, embedder, progress=False)
    print("finished without being killed", flush=True)
    sys.exit(3)
