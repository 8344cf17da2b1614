"""`kb bench load` for a few seconds: a real server, real requests, figures read back."""

from __future__ import annotations

import math
import re
from pathlib import Path

from click.testing import CliRunner
from conftest import make_library

from bench.load import format_row, summarise
from cli.main import cli

# interval, req/s, pages p50/p95/p99, search and api the same, writes n/p95, errors, shed,
# rss MB, files
ROW = re.compile(r"^\s+(\d+)\s+([\d.]+)\s+(\d+)/(\d+)/(\d+)\s+(\S+)\s+(\S+)\s+"
                 r"(\d+)/(\S+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+(\d+)$")


def test_load_bench_prints_real_figures_each_interval(tmp_path: Path) -> None:
    settings = make_library(tmp_path)
    result = CliRunner().invoke(
        cli, ["--content-dir", str(settings.content_dir), "--data-dir", str(settings.data_dir),
              "bench", "load", "--seconds", "8", "--every", "4", "--rate", "8",
              "--submits-per-minute", "30", "--approvals-per-minute", "12"],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("req/s" in line and "rss MB" in line and "files" in line for line in lines)
    rows = [m for line in lines if (m := ROW.match(line))]
    assert len(rows) >= 2, result.output
    answered, writes = 0.0, 0
    for row in rows:
        req_s, errors, shed = float(row[2]), int(row[10]), int(row[11])
        rss_mb, files = float(row[12]), int(row[13])
        writes += int(row[8])
        assert errors == 0 and shed == 0, result.output
        assert 40 < rss_mb < 4000 and 3 < files < 10_000  # read from the server's /proc entry
        assert int(row[3]) <= int(row[4]) <= int(row[5])  # pages p50 <= p95 <= p99
        answered += req_s * 4
    assert answered > 8 * 8 * 0.5  # most of the requests sent were answered
    # Submissions at 0, 2, 4 and 6 s; approvals at 2.5 and 7.5 s, each updating the index.
    assert writes == 6, result.output
    summary = [line for line in lines if line.startswith("summary:")]
    assert summary and "0 errors, 0 shed" in summary[0] and "open files" in summary[0]
    assert "writes: 4 submitted, 2 approved, 0 lost" in summary[0], summary[0]


def test_summary_measures_memory_growth_from_the_second_interval() -> None:
    rows = [{"interval": n, "req_s": 50.0, "errors": 0, "skipped": 0, "rss_mb": rss,
             "open_files": 90, "pages_p50": 5, "pages_p95": 20, "pages_p99": 30,
             "search_p50": 9, "search_p95": 40, "search_p99": 60, "api_p50": 4, "api_p95": 8,
             "api_p99": 9, "writes_n": 1, "writes_p50": 80, "writes_p95": 90,
             "writes_p99": 95}
            for n, rss in enumerate([150.0, 200.0, 210.0, 220.0], start=1)]
    summary = summarise(rows)
    assert math.isclose(summary["rss_growth_after_2_pct"], 10.0)
    assert summary["rss_first_mb"] == 150.0 and summary["files_max"] == 90
    assert "200.0" in format_row(rows[1]) and " 9/40/60 " in format_row(rows[0])


def test_server_errors_are_counted_by_their_exception_with_the_end_of_a_traceback() -> None:
    from bench.load import server_errors

    trace = ["ERROR:    Exception in ASGI application", "Traceback (most recent call last):",
             '  File "catalogue.py", line 127, in content_fingerprint',
             "    stat = os.lstat(path)", "FileNotFoundError: [Errno 2] gone"]
    log = "\n".join(["INFO: started", *trace, "INFO: GET / 200", *trace, "INFO: done"])
    lines = server_errors(log)
    assert lines[:2] == ["server log, errors:", "  x2: FileNotFoundError: [Errno 2] gone"]
    assert "        stat = os.lstat(path)" in lines and len(lines) == 2 + 4
    assert server_errors("INFO: all well\nINFO: GET / 200") == []
