"""Mail over real TLS: aiosmtpd on loopback with a certificate from a certificate authority
made in the test (trustme), reached by STARTTLS and by smtps://, logging in with AUTH LOGIN and
AUTH PLAIN; a certificate that does not verify is refused and the message waits in the outbox."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from support_mail import Recorder
from test_mail import FROM, queue

from kb.errors import BadInputError
from kb.mail import outbox
from kb.mail.sender import SmtpTransport, send_due
from kb.state.database import open_state

HOST = "127.0.0.1"
USER, PASSWORD = "mailer", "s3cret:pw"


class TlsRecorder(Recorder):
    """Records, with each message, whether it arrived over TLS."""

    def __init__(self) -> None:
        super().__init__()
        self.over_tls: list[bool] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.over_tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return await super().handle_DATA(server, session, envelope)


@dataclass
class TlsServer:
    port: int
    recorder: TlsRecorder
    logins: list[tuple[str, bytes, bytes]]  # mechanism, user, password


@dataclass
class Certificates:
    ca_file: Path  # the CA that signed the server's certificate
    other_ca_file: Path  # a CA that did not
    server: ssl.SSLContext


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    ca, other = trustme.CA(), trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST).configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    other.cert_pem.write_to_path(str(tmp_path / "other-ca.pem"))
    return Certificates(tmp_path / "ca.pem", tmp_path / "other-ca.pem", context)


def _free_port() -> int:
    with socket.socket() as probe:  # aiosmtpd cannot take port 0
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _serve(certificates: Certificates, *, implicit: bool, starttls: bool = True,
           exclude: tuple[str, ...] = ()) -> Iterator[TlsServer]:
    recorder, logins = TlsRecorder(), []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        logins.append((mechanism, auth_data.login, auth_data.password))
        return AuthResult(success=(auth_data.login, auth_data.password) ==
                          (USER.encode(), PASSWORD.encode()))

    port = _free_port()
    options: dict[str, Any] = {"authenticator": authenticator, "auth_require_tls": True,
                               "auth_exclude_mechanism": list(exclude)}
    if implicit:
        # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; here every byte is TLS.
        options.update(ssl_context=certificates.server, auth_require_tls=False)
    elif starttls:
        options.update(tls_context=certificates.server, require_starttls=True)
    controller = Controller(recorder, hostname=HOST, port=port, **options)
    controller.start()
    try:
        yield TlsServer(port, recorder, logins)
    finally:
        controller.stop()


@pytest.fixture
def starttls_server(certificates: Certificates, request: Any) -> Iterator[TlsServer]:
    exclude = getattr(request, "param", ())
    yield from _serve(certificates, implicit=False, exclude=exclude)


@pytest.fixture
def smtps_server(certificates: Certificates) -> Iterator[TlsServer]:
    yield from _serve(certificates, implicit=True)


def _login_url(scheme: str, port: int) -> str:
    return f"{scheme}://{USER}:{PASSWORD.replace(':', '%3A')}@{HOST}:{port}"


@pytest.mark.parametrize("starttls_server, mechanism", [(("PLAIN",), "LOGIN"),
                                                        (("LOGIN",), "PLAIN")],
                         indirect=["starttls_server"], ids=["auth-login", "auth-plain"])
def test_starttls_with_a_login_delivers_over_a_verified_connection(
        tmp_path: Path, certificates: Certificates, starttls_server: TlsServer,
        mechanism: str) -> None:
    store = open_state(tmp_path / "state.db")
    ids = queue(store, 2)
    transport = SmtpTransport(_login_url("smtp", starttls_server.port), FROM,
                              ca_file=certificates.ca_file)
    report = send_due(store, transport)
    assert (report.sent, report.errors) == (2, [])
    assert starttls_server.recorder.over_tls == [True, True]
    assert sorted(m["Message-ID"] for m in starttls_server.recorder.messages()) == sorted(ids)
    assert starttls_server.logins == [(mechanism, USER.encode(), PASSWORD.encode())]


def test_smtps_is_tls_from_the_first_byte(tmp_path: Path, certificates: Certificates,
                                          smtps_server: TlsServer) -> None:
    store = open_state(tmp_path / "state.db")
    queue(store, 1)
    report = send_due(store, SmtpTransport(_login_url("smtps", smtps_server.port), FROM,
                                           ca_file=certificates.ca_file))
    assert report.sent == 1
    assert smtps_server.recorder.over_tls == [True]
    assert [m for m, _, _ in smtps_server.logins] in (["PLAIN"], ["LOGIN"])


@pytest.mark.parametrize("scheme", ["smtp", "smtps"])
@pytest.mark.parametrize("trust", ["system store", "another CA"])
def test_a_certificate_that_does_not_verify_is_refused_and_nothing_is_lost(
        tmp_path: Path, certificates: Certificates, scheme: str, trust: str) -> None:
    servers = _serve(certificates, implicit=scheme == "smtps")
    server = next(servers)
    try:
        store = open_state(tmp_path / "state.db")
        (message_id,) = queue(store, 1)
        ca_file = None if trust == "system store" else certificates.other_ca_file
        url = _login_url(scheme, server.port)
        refused = send_due(store, SmtpTransport(url, FROM, ca_file=ca_file))
        assert (refused.sent, refused.retrying) == (0, 1)
        assert "does not verify" in (refused.errors or [""])[0]
        assert "KB_SMTP_CA_FILE" in (refused.errors or [""])[0]
        assert server.logins == [] and server.recorder.received == []  # no password went out
        (waiting,) = outbox.messages(store)
        assert waiting.status == "queued" and "certificate" in waiting.last_error
        # Trusting the right CA, the same message goes out once when it is due again.
        later = send_due(store, SmtpTransport(url, FROM, ca_file=certificates.ca_file),
                         clock=lambda: 10**10)
        assert later.sent == 1
        assert [m["Message-ID"] for m in server.recorder.messages()] == [message_id]
    finally:
        next(servers, None)


def test_a_password_is_never_sent_without_tls(tmp_path: Path,
                                              certificates: Certificates) -> None:
    servers = _serve(certificates, implicit=False, starttls=False)
    server = next(servers)
    try:
        store = open_state(tmp_path / "state.db")
        queue(store, 1)
        report = send_due(store, SmtpTransport(_login_url("smtp", server.port), FROM))
        assert report.sent == 0 and "clear text" in (report.errors or [""])[0]
        assert server.logins == [] and outbox.messages(store)[0].status == "queued"
        # Without a login a relay may take mail in clear, unless the URL requires STARTTLS.
        required = send_due(store, SmtpTransport(
            f"smtp://{HOST}:{server.port}?starttls=required", FROM), clock=lambda: 10**10)
        assert required.sent == 0 and "messages would go in clear text" in \
            (required.errors or [""])[0]
        assert server.recorder.received == []
        relayed = send_due(store, SmtpTransport(f"smtp://{HOST}:{server.port}", FROM),
                           clock=lambda: 10**11)
        assert relayed.sent == 1 and server.recorder.over_tls == [False]
    finally:
        next(servers, None)


def test_starttls_required_is_met_by_a_server_that_offers_it(
        tmp_path: Path, certificates: Certificates, starttls_server: TlsServer) -> None:
    store = open_state(tmp_path / "state.db")
    queue(store, 1)
    url = f"smtp://{HOST}:{starttls_server.port}?starttls=required"
    assert send_due(store, SmtpTransport(url, FROM, ca_file=certificates.ca_file)).sent == 1
    assert starttls_server.recorder.over_tls == [True]
    with pytest.raises(BadInputError, match=r"\?starttls=required"):
        SmtpTransport(f"smtp://{HOST}:25?starttls=maybe", FROM)


def test_a_missing_or_unreadable_ca_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="KB_SMTP_CA_FILE.*no file"):
        SmtpTransport("smtp://127.0.0.1:25", FROM, ca_file=tmp_path / "missing.pem")
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    with pytest.raises(BadInputError, match="KB_SMTP_CA_FILE.*no PEM certificate"):
        SmtpTransport("smtp://127.0.0.1:25", FROM, ca_file=tmp_path / "junk.pem")


def test_kb_mail_send_trusts_the_configured_ca_file(
        tmp_path: Path, certificates: Certificates, starttls_server: TlsServer) -> None:
    from click.testing import CliRunner

    from cli.main import cli

    store = open_state(tmp_path / "state.db")
    queue(store, 1)
    env = {"KB_DATA_DIR": str(tmp_path), "KB_SMTP_URL": _login_url("smtp", starttls_server.port)}
    runner = CliRunner()
    untrusted = runner.invoke(cli, ["mail", "send"], env=env, catch_exceptions=False)
    assert "0 sent" in untrusted.output and "does not verify" in untrusted.output
    queue(store, 1)  # the refused one waits a minute before its next try; this one is due
    env["KB_SMTP_CA_FILE"] = str(certificates.ca_file)
    sent = runner.invoke(cli, ["mail", "send"], env=env, catch_exceptions=False)
    assert sent.exit_code == 0 and "1 sent" in sent.output, sent.output
    assert starttls_server.recorder.over_tls == [True]
