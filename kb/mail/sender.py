"""The sender: delivers queued messages over SMTP (KB_SMTP_URL) or, with no server set, writes
them as .eml files; retries with back-off, and never sends a message marked sent again."""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Callable, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from kb.errors import BadInputError
from kb.mail import outbox
from kb.state.database import StateStore

log = logging.getLogger(__name__)
LEASE_SECONDS = 120.0  # a claimed message is left alone this long (a send takes seconds)


class Transport(Protocol):
    def open(self) -> None: ...
    def deliver(self, item: outbox.Outgoing) -> None: ...
    def close(self) -> None: ...


class PermanentFailure(Exception):
    """The server refused the message for good (5xx): retrying would not help."""


class ConnectionRefusedForSafety(OSError):
    """The connection was not safe to use (a certificate that does not verify, or a login
    that would go in clear text): nothing was sent, and the message stays queued."""


@dataclass(frozen=True)
class SmtpTarget:
    """KB_SMTP_URL taken apart."""

    host: str
    port: int
    ssl: bool
    user: str
    password: str
    require_tls: bool = False  # smtp://...?starttls=required: never send in clear text


def parse_smtp_url(url: str) -> SmtpTarget:
    """smtp://[user:pass@]host[:port] (STARTTLS when offered; `?starttls=required` refuses a
    server that does not offer it) or smtps:// (TLS throughout)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise BadInputError("setting KB_SMTP_URL must look like smtp://user:pass@host:587 or "
                            f"smtps://user:pass@host:465, got scheme {parts.scheme!r}")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise BadInputError("setting KB_SMTP_URL: the port is not a number") from None
    options = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(options) - {"starttls"})
    starttls = options.get("starttls", ["optional"])[-1]
    if unknown or starttls not in ("optional", "required"):
        raise BadInputError("setting KB_SMTP_URL: the only option is ?starttls=required (or "
                            f"optional, the default), got {parts.query[:80]!r}")
    return SmtpTarget(parts.hostname, port, parts.scheme == "smtps",
                      unquote(parts.username or ""), unquote(parts.password or ""),
                      require_tls=starttls == "required")


def tls_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """Certificates checked, host name included: against the CA file if one is configured
    (KB_SMTP_CA_FILE, e.g. a county's own CA), otherwise against the system's store."""
    if ca_file is not None and str(ca_file) not in ("", "."):
        if not ca_file.is_file():
            raise BadInputError(f"setting KB_SMTP_CA_FILE: there is no file {str(ca_file)!r}")
        try:
            return ssl.create_default_context(cafile=str(ca_file))
        except ssl.SSLError as exc:
            raise BadInputError(f"setting KB_SMTP_CA_FILE: {str(ca_file)!r} holds no PEM "
                                f"certificate ({exc.reason})") from None
    return ssl.create_default_context()


class SmtpTransport:
    """One SMTP connection per batch: TLS from the start (smtps://) or STARTTLS whenever the
    server offers it (smtp://), the certificate always verified; a login is only ever sent
    over TLS."""

    def __init__(self, url: str, mail_from: str, timeout: float = 30.0,
                 ca_file: Path | None = None) -> None:
        self.target = parse_smtp_url(url)
        self.envelope_from = parseaddr(mail_from)[1]
        self.timeout = timeout
        self.context = tls_context(ca_file)
        self.conn: smtplib.SMTP | None = None

    def open(self) -> None:
        t = self.target
        try:
            conn = self._connect()
        except ssl.SSLCertVerificationError as exc:
            raise ConnectionRefusedForSafety(
                f"the mail server {t.host}:{t.port} sent a certificate that does not verify "
                f"({exc.verify_message}); nothing was sent and the messages stay queued. "
                "Set KB_SMTP_CA_FILE to the certificate authority that signed it, or fix the "
                "server's certificate") from None
        if (t.user or t.require_tls) and not isinstance(conn.sock, ssl.SSLSocket):
            conn.close()
            what = "the password in KB_SMTP_URL" if t.user else "messages"
            raise ConnectionRefusedForSafety(
                f"the mail server {t.host}:{t.port} offers no STARTTLS, so {what} would go in "
                "clear text; nothing was sent. Use smtps:// or a server that offers STARTTLS")
        if t.user:
            conn.login(t.user, t.password)
        self.conn = conn

    def _connect(self) -> smtplib.SMTP:
        t = self.target
        if t.ssl:
            return smtplib.SMTP_SSL(t.host, t.port, timeout=self.timeout, context=self.context)
        conn = smtplib.SMTP(t.host, t.port, timeout=self.timeout)
        try:
            conn.ehlo()
            if conn.has_extn("starttls"):
                conn.starttls(context=self.context)
                conn.ehlo()
        except BaseException:
            conn.close()
            raise
        return conn

    def deliver(self, item: outbox.Outgoing) -> None:
        assert self.conn is not None
        try:
            self.conn.sendmail(self.envelope_from, [item.recipient], item.data)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            if 500 <= code < 600:
                raise PermanentFailure(f"{code} {text.decode(errors='replace')}") from exc
            raise
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                self.conn.close()
            self.conn = None


class FileTransport:
    """No server: each message becomes <outbox dir>/<id>-<kind>.eml (written under a temporary
    name and renamed, so a retry replaces the same file and nothing is ever doubled)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def deliver(self, item: outbox.Outgoing) -> None:
        target = self.folder / f"{item.id:06d}-{item.kind}.eml"
        tmp = target.with_name(f".{target.name}.tmp")
        # Owner-only: the files can hold invitation and reset links.
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            handle.write(item.data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)

    def close(self) -> None:
        pass


def transport_for(smtp_url: str, mail_from: str, outbox_dir: Path,
                  ca_file: Path | None = None) -> Transport:
    """SMTP when KB_SMTP_URL is set (trusting KB_SMTP_CA_FILE if given), else .eml files."""
    return SmtpTransport(smtp_url, mail_from, ca_file=ca_file) if smtp_url else \
        FileTransport(outbox_dir)


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] | None = None


def send_due(store: StateStore, transport: Transport, *, limit: int = 200,
             clock: Callable[[], float] = time.time, lease: float = LEASE_SECONDS) -> SendReport:
    """Deliver every message that is due: claim, send, mark sent, one at a time."""
    report = SendReport(errors=[])
    opened = False
    for _ in range(limit):
        item = outbox.claim(store, clock(), lease)
        if item is None:
            break
        try:
            if not opened:
                transport.open()
                opened = True
            transport.deliver(item)
        except PermanentFailure as exc:
            outbox.mark_failed(store, item, str(exc), clock(), permanent=True)
            report.failed += 1
            report.errors.append(f"{item.recipient}: {exc}")  # type: ignore[union-attr]
            continue
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            status = outbox.mark_failed(store, item, f"{type(exc).__name__}: {exc}", clock(),
                                        permanent=False)
            report.retrying += status == "queued"
            report.failed += status == "failed"
            report.errors.append(f"{item.recipient}: {exc}")  # type: ignore[union-attr]
            # A refused or broken connection: try the rest later, on a fresh connection.
            break
        outbox.mark_sent(store, item)
        report.sent += 1
    if opened:
        transport.close()
    return report


def start_sender_thread(store: StateStore, make_transport: Callable[[], Transport],
                        interval: float = 5.0,
                        first: Callable[[], None] | None = None) -> threading.Event:
    """Send due messages every `interval` seconds in a daemon thread (inside `kb serve`),
    running `first` (the weekly digest when due) at the start of each round; set the
    returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                if first is not None:
                    first()
                report = send_due(store, make_transport())
                if report.sent or report.errors:
                    log.info("mail: %d sent, %d to retry, %d failed", report.sent,
                             report.retrying, report.failed)
            except Exception:  # keep the thread alive: the next round tries again
                log.exception("mail sender round failed")
            stop.wait(interval)

    threading.Thread(target=loop, name="kb-mail-sender", daemon=True).start()
    return stop
