"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1, recording every message it
accepts, and able to refuse (451) or to run a hook as a message arrives."""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Callable, Iterator

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Recorder:
    """The handler: accepts and records messages unless told to refuse."""

    received: list[bytes] = field(default_factory=list)
    refuse_next: int = 0  # answer 451 to this many messages first
    on_data: Callable[[int], str | None] | None = None  # may return a reply (and not record)
    seen: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen += 1
        if self.on_data is not None:
            reply = self.on_data(self.seen)
            if reply:
                return reply
        if self.refuse_next > 0:
            self.refuse_next -= 1
            return "451 4.3.0 try again later"
        self.received.append(bytes(envelope.original_content))
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore
                for raw in self.received]


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: Recorder

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    recorder = Recorder()
    with socket.socket() as probe:  # a free loopback port (aiosmtpd cannot take port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, recorder)
    finally:
        controller.stop()


def text_part(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def html_part(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")
