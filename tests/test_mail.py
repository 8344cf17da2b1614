"""Mail against a real SMTP server on loopback: message contents and headers, retries when the
server refuses, delivery after a kill -9 of the sender, and the offline .eml outbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from support_mail import SmtpServer, html_part, text_part

from cli.main import cli
from kb.errors import BadInputError
from kb.mail import letters, outbox
from kb.mail.compose import Letter, build_message
from kb.mail.sender import FileTransport, SmtpTransport, parse_smtp_url, send_due
from kb.state.accounts import ROLES
from kb.state.database import open_state

ROOT = Path(__file__).resolve().parent.parent
FROM = "Westmoor library <library@westmoor.example>"


def queue(store, n: int, kind: str = "test") -> list[str]:  # type: ignore[no-untyped-def]
    ids = []
    with store.write() as conn:
        for i in range(n):
            msg = build_message(Letter(f"p{i}@school.example", f"Person {i}", kind,
                                       f"Message {i}", (f"Paragraph {i}",)), FROM)
            outbox.enqueue(conn, msg, kind)
            ids.append(str(msg["Message-ID"]))
    return ids


def test_a_message_has_both_parts_and_headers_the_library_built(tmp_path: Path) -> None:
    letter = letters.invitation("new@school.example", "Nia <New>", "contributor",
                                "Ashcombe Academy", "Ada Admin",
                                "https://kb.example/invite/abc", 7)
    msg = build_message(letter, FROM)
    assert msg.get_content_type() == "multipart/alternative"
    assert "https://kb.example/invite/abc" in text_part(msg)
    assert 'href="https://kb.example/invite/abc"' in html_part(msg)
    assert "Nia &lt;New&gt;" in html_part(msg)  # the HTML part escapes names
    assert msg["Message-ID"].endswith("@westmoor.example>")
    assert msg["From"].addresses[0].addr_spec == "library@westmoor.example"


def test_header_injection_in_names_and_subjects_is_impossible() -> None:
    msg = build_message(Letter("eve@school.example", "Eve\r\nBcc: spy@evil.example", "x",
                               "Hello\r\nBcc: spy@evil.example", ("Hi",)), FROM)
    raw = msg.as_bytes()
    assert b"\r\nBcc:" not in raw and b"\nBcc:" not in raw
    assert msg["Bcc"] is None
    assert [a.addr_spec for a in msg["To"].addresses] == ["eve@school.example"]
    with pytest.raises(BadInputError):
        build_message(Letter("eve@school.example\r\nBcc: x@y.z", "Eve", "x", "Hi", ("Hi",)),
                      FROM)


def test_smtp_urls_are_read_and_a_bad_one_is_named() -> None:
    t = parse_smtp_url("smtps://me%40x.org:p%3Ass@mail.example:2465")
    assert (t.host, t.port, t.ssl, t.user, t.password) == ("mail.example", 2465, True,
                                                           "me@x.org", "p:ss")
    assert parse_smtp_url("smtp://mail.example").port == 25
    with pytest.raises(BadInputError, match="KB_SMTP_URL"):
        parse_smtp_url("http://mail.example")


def test_messages_go_over_smtp_once_each(tmp_path: Path, smtp_server: SmtpServer) -> None:
    store = open_state(tmp_path / "state.db")
    ids = queue(store, 3)
    report = send_due(store, SmtpTransport(smtp_server.url, FROM))
    assert report.sent == 3
    assert sorted(m["Message-ID"] for m in smtp_server.recorder.messages()) == sorted(ids)
    assert send_due(store, SmtpTransport(smtp_server.url, FROM)).sent == 0  # never twice
    assert len(smtp_server.recorder.received) == 3
    assert {m.status for m in outbox.messages(store)} == {"sent"}


def test_a_refusing_server_means_retries_with_back_off(tmp_path: Path,
                                                       smtp_server: SmtpServer) -> None:
    store = open_state(tmp_path / "state.db")
    (message_id,) = queue(store, 1)
    smtp_server.recorder.refuse_next = 2
    now = time.time()
    first = send_due(store, SmtpTransport(smtp_server.url, FROM), clock=lambda: now)
    assert (first.sent, first.retrying) == (0, 1) and "451" in (first.errors or [""])[0]
    # Not due again until the back-off (one minute) has passed.
    assert send_due(store, SmtpTransport(smtp_server.url, FROM), clock=lambda: now + 30).sent == 0
    assert send_due(store, SmtpTransport(smtp_server.url, FROM),
                    clock=lambda: now + 61).retrying == 1
    assert outbox.retry_delay(2) == 120
    third = send_due(store, SmtpTransport(smtp_server.url, FROM), clock=lambda: now + 190)
    assert third.sent == 1
    assert [m["Message-ID"] for m in smtp_server.recorder.messages()] == [message_id]
    (row,) = outbox.messages(store)
    assert (row.status, row.attempts) == ("sent", 3)


def test_a_permanent_refusal_is_not_retried(tmp_path: Path, smtp_server: SmtpServer) -> None:
    store = open_state(tmp_path / "state.db")
    queue(store, 1)
    smtp_server.recorder.on_data = lambda n: "550 5.1.1 no such mailbox"
    report = send_due(store, SmtpTransport(smtp_server.url, FROM))
    assert report.failed == 1
    (row,) = outbox.messages(store)
    assert row.status == "failed" and "550" in row.last_error


def _sender(data_dir: Path, url: str) -> subprocess.Popen:  # type: ignore[type-arg]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KB_DATA_DIR": str(data_dir),
           "KB_SMTP_URL": url, "KB_MAIL_FROM": FROM}
    return subprocess.Popen([sys.executable, "-c", "from cli.main import main; main()",
                             "mail", "send"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_kill_9_mid_delivery_then_every_message_arrives_exactly_once(
        tmp_path: Path, smtp_server: SmtpServer) -> None:
    store = open_state(tmp_path / "state.db")
    ids = queue(store, 5)
    proc: list[subprocess.Popen] = []  # type: ignore[type-arg]

    def kill_on_third(n: int) -> str | None:
        if n == 3:  # the sender dies while the server still holds the third message
            os.kill(proc[0].pid, signal.SIGKILL)
            return "451 4.3.0 connection lost"
        return None

    smtp_server.recorder.on_data = kill_on_third
    proc.append(_sender(tmp_path, smtp_server.url))
    assert proc[0].wait(timeout=60) == -signal.SIGKILL
    assert len(smtp_server.recorder.received) == 2
    smtp_server.recorder.on_data = None
    # The claimed message waits for its lease to run out, then a new sender sends it.
    assert send_due(store, SmtpTransport(smtp_server.url, FROM)).sent == 2
    later = time.time() + 121
    assert send_due(store, SmtpTransport(smtp_server.url, FROM), clock=lambda: later).sent == 1
    got = [m["Message-ID"] for m in smtp_server.recorder.messages()]
    assert sorted(got) == sorted(ids) and len(got) == len(set(got)) == 5


def test_kill_9_after_the_server_accepted_resends_the_same_message(
        tmp_path: Path, smtp_server: SmtpServer) -> None:
    """The one window SMTP cannot close: the server has the message, the sender died before
    it heard "250". The retry is byte for byte the same message, with the same Message-ID,
    so mail clients show it once."""
    store = open_state(tmp_path / "state.db")
    ids = queue(store, 2)
    proc: list[subprocess.Popen] = []  # type: ignore[type-arg]
    recorder = smtp_server.recorder

    def kill_after_accepting(n: int) -> str | None:
        if n == 1:  # the server keeps this message; the sender never hears "250"
            os.kill(proc[0].pid, signal.SIGKILL)
        return None

    recorder.on_data = kill_after_accepting
    proc.append(_sender(tmp_path, smtp_server.url))
    assert proc[0].wait(timeout=60) == -signal.SIGKILL
    recorder.on_data = None
    assert len(recorder.received) == 1
    later = time.time() + 121
    assert send_due(store, SmtpTransport(smtp_server.url, FROM), clock=lambda: later).sent == 2
    got = [m["Message-ID"] for m in recorder.messages()]
    assert got.count(ids[0]) == 2 and got.count(ids[1]) == 1
    assert recorder.received[0] == recorder.received[1]  # the very same bytes


def test_without_smtp_messages_are_eml_files_and_the_cli_prints_links(
        built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    base = ["--content-dir", str(built.content_dir), "--data-dir", str(tmp_path)]
    invited = runner.invoke(cli, [*base, "user", "invite", "new@school.example", "--role",
                                  "contributor", "--school", "Ashcombe Academy"],
                            catch_exceptions=False)
    assert invited.exit_code == 0, invited.output
    assert "/invite/" in invited.output
    link = invited.output.split(": ", 1)[1].split()[0]
    sent = runner.invoke(cli, [*base, "mail", "send"], catch_exceptions=False)
    assert sent.exit_code == 0 and sent.output.startswith("1 sent")
    (eml,) = (tmp_path / "outbox").glob("*.eml")
    assert eml.stat().st_mode & 0o077 == 0  # owner-only: it holds a sign-in link
    import sqlite3
    conn = sqlite3.connect(tmp_path / "state.db")
    # Once delivered, the invitation's text (and its link) is no longer kept in the database.
    assert conn.execute("SELECT length(message) FROM outbox").fetchone()[0] == 0
    conn.close()
    import email
    import email.policy
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage) and link in text_part(msg)
    again = runner.invoke(cli, [*base, "mail", "send"], catch_exceptions=False)
    assert again.output.startswith("0 sent") and len(list((tmp_path / "outbox").glob("*"))) == 1
    listed = runner.invoke(cli, [*base, "mail", "list"], catch_exceptions=False)
    assert "sent" in listed.output and "new@school.example" in listed.output


def test_the_file_transport_replaces_rather_than_doubles(tmp_path: Path) -> None:
    store = open_state(tmp_path / "state.db")
    queue(store, 1)
    item = outbox.claim(store, time.time(), 120)
    assert item is not None
    transport = FileTransport(tmp_path / "outbox")
    transport.open()
    transport.deliver(item)
    transport.deliver(item)  # a retry after a crash before "sent" was recorded
    assert len(list((tmp_path / "outbox").iterdir())) == 1


def test_every_role_is_allowed_by_the_database(tmp_path: Path) -> None:
    store = open_state(tmp_path / "state.db")
    with store.write() as conn:
        for role in ROLES:
            conn.execute("INSERT INTO users (email, name, role, password_hash, created_at) "
                         "VALUES (?, 'x', ?, 'x', 'now')", (f"{role}@x.org", role))
    import sqlite3
    with pytest.raises(Exception) as caught, store.write() as conn:
        conn.execute("INSERT INTO users (email, name, role, password_hash, created_at) "
                     "VALUES ('z@x.org', 'x', 'overlord', 'x', 'now')")
    assert isinstance(caught.value, sqlite3.IntegrityError)


def test_the_sender_thread_drains_the_outbox(tmp_path: Path) -> None:
    from kb.mail.sender import start_sender_thread

    store = open_state(tmp_path / "state.db")
    stop = start_sender_thread(store, lambda: FileTransport(tmp_path / "outbox"), interval=0.1)
    try:
        queue(store, 2)
        deadline = time.time() + 20
        # A message's file is written before its row is marked sent: wait for both (bounded).
        while time.time() < deadline and (
                len(list((tmp_path / "outbox").glob("*.eml"))) < 2
                or {m.status for m in outbox.messages(store)} != {"sent"}):
            time.sleep(0.1)
    finally:
        stop.set()
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2
    assert {m.status for m in outbox.messages(store)} == {"sent"}

