"""Messages as the standard library builds them: a plain-text and an HTML part made from the
same words, headers set through EmailMessage (so no value can start a header of its own)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

from kb.errors import BadInputError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Letter:
    """What a message says, before it is an e-mail: paragraphs, an optional button-like link,
    and for optional messages the address that stops them."""

    to: str
    to_name: str
    kind: str
    subject: str
    paragraphs: tuple[str, ...]
    action: tuple[str, str] | None = None  # (words, full address)
    quote: str = ""  # someone's words shown as a quotation (a moderator's comment)
    unsubscribe: str = ""  # set for optional messages only
    extra_links: tuple[tuple[str, str], ...] = field(default=())


def one_line(value: str, limit: int = 200) -> str:
    """A header-safe single line: control characters (CR, LF, NUL ...) become spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


def _text_body(letter: Letter) -> str:
    lines = [f"Hello {one_line(letter.to_name) or 'there'},", ""]
    for paragraph in letter.paragraphs:
        lines += [paragraph, ""]
    if letter.quote:
        lines += ["".join(f"> {line}\n" for line in letter.quote.splitlines()).rstrip(), ""]
    if letter.action:
        lines += [f"{letter.action[0]}:", letter.action[1], ""]
    for words, url in letter.extra_links:
        lines += [f"{words}: {url}", ""]
    lines.append("-- \nWestmoor practice library")
    if letter.unsubscribe:
        lines.append(f"Stop these e-mails: {letter.unsubscribe}")
    return "\n".join(lines) + "\n"


def _html_body(letter: Letter) -> str:
    e = html.escape
    parts = [f"<p>Hello {e(one_line(letter.to_name) or 'there')},</p>"]
    parts += [f"<p>{e(p)}</p>" for p in letter.paragraphs]
    if letter.quote:
        quoted = "<br>".join(e(line) for line in letter.quote.splitlines())
        parts.append(f"<blockquote>{quoted}</blockquote>")
    if letter.action:
        parts.append(f'<p><a href="{e(letter.action[1])}">{e(letter.action[0])}</a><br>'
                     f"{e(letter.action[1])}</p>")
    for words, url in letter.extra_links:
        parts.append(f'<p><a href="{e(url)}">{e(words)}</a></p>')
    parts.append("<hr><p>Westmoor practice library</p>")
    if letter.unsubscribe:
        parts.append(f'<p><a href="{e(letter.unsubscribe)}">Stop these e-mails</a></p>')
    return ("<!doctype html><html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
            f"<title>{e(one_line(letter.subject))}</title></head><body>"
            + "\n".join(parts) + "</body></html>\n")


def sender_address(mail_from: str) -> Address:
    """The From address of KB_MAIL_FROM ("Name <addr>" or a bare address)."""
    name, addr = parseaddr(mail_from)
    if "@" not in addr:
        raise BadInputError(f"setting KB_MAIL_FROM: {mail_from!r} has no e-mail address")
    user, domain = addr.rsplit("@", 1)
    return Address(display_name=one_line(name), username=user, domain=domain)


def build_message(letter: Letter, mail_from: str) -> EmailMessage:
    """The e-mail for a letter, with a Message-ID fixed now (a retry resends these bytes)."""
    sender = sender_address(mail_from)
    user, _, domain = letter.to.rpartition("@")
    if not user or not domain or _CONTROL.search(letter.to):
        raise BadInputError(f"{letter.to[:80]!r} is not an e-mail address")
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = Address(display_name=one_line(letter.to_name), username=user, domain=domain)
    msg["Subject"] = one_line(letter.subject, 180)
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid(domain=sender.domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-KB-Kind"] = letter.kind
    if letter.unsubscribe:
        msg["List-Unsubscribe"] = f"<{letter.unsubscribe}>"
    msg.set_content(_text_body(letter))
    msg.add_alternative(_html_body(letter), subtype="html")
    return msg
