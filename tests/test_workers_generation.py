"""Several worker processes and one new index generation (reliability row 18): a real
`kb serve --workers 2`, an index rebuilt by another process, and every worker seen (by its
process id, read from /proc) answering with the new generation in X-Index-Generation."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from indexer import generations as gens
from indexer.pipeline import index_content
from kb.settings import Settings

DELETED = "whole-class-feedback-science"


def children(pid: int) -> set[int]:
    """Every descendant of pid (uvicorn's workers sit under the `kb serve` process)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found |= {int(child)} | children(int(child))
    return found


def socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's side of one loopback connection (from /proc/net/tcp)."""
    wanted = (f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}")
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if (fields[1], fields[2]) == wanted:
            return fields[9]
    return None


def owner(pids: set[int], inode: str) -> int | None:
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
        except OSError:
            continue
    return None


def ask(port: int, workers: set[int]) -> tuple[int | None, str, str]:
    """One search on a new connection: (the worker that answered, its generation, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/api/search?q=feedback+sheets+whole+class")
        response = conn.getresponse()
        body = response.read().decode()
        assert response.status == 200, body[:300]
        inode = socket_inode(port, conn.sock.getsockname()[1])
        return (owner(workers, inode) if inode else None,
                response.getheader("X-Index-Generation") or "", body)
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_every_worker_serves_a_new_generation_within_seconds(fresh: Settings,
                                                             embedder) -> None:  # type: ignore
    port = free_port()
    env = dict(os.environ, KB_CONTENT_DIR=str(fresh.content_dir),
               KB_DATA_DIR=str(fresh.data_dir), KB_MODEL_CACHE=str(fresh.models_dir),
               HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    server = subprocess.Popen(
        [sys.executable, "-c", "from cli.main import main; main()", "serve", "--no-index",
         "--workers", "2", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        workers: set[int] = set()
        while len(workers) < 2:
            assert server.poll() is None and time.monotonic() < deadline, "kb serve did not start"
            workers = children(server.pid)
            time.sleep(0.2)
        old = gens.current_generation(fresh.index_dir).name  # type: ignore[union-attr]

        def serve_until(wanted: str, deleted_shown: bool) -> None:
            """Ask on new connections until each worker has answered with `wanted` (bounded)."""
            seen: dict[int, str] = {}
            for _ in range(400):
                if time.monotonic() > deadline:
                    break
                try:
                    pid, generation, body = ask(port, workers)
                except (ConnectionError, OSError):  # not listening yet
                    time.sleep(0.2)
                    continue
                if pid is not None:
                    seen[pid] = generation
                    if generation == wanted:
                        assert (DELETED in body) == deleted_shown, (pid, generation)
                if len(seen) == 2 and set(seen.values()) == {wanted}:
                    return
                time.sleep(0.05)
            pytest.fail(f"workers {workers} last answered {seen}, wanted {wanted}")

        serve_until(old, deleted_shown=True)  # both workers loaded the first generation
        (fresh.practice_dir / f"{DELETED}.md").unlink()
        index_content(fresh, embedder, progress=False)  # another process's rebuild
        new = gens.current_generation(fresh.index_dir).name  # type: ignore[union-attr]
        assert new != old
        deadline = time.monotonic() + 30  # each worker checks CURRENT at most once a second
        serve_until(new, deleted_shown=False)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
