"""Helpers for the email-alert tests: a real SMTP server (aiosmtpd) on 127.0.0.1, a
self-signed certificate made on the spot, and alerts in a real SQLite store."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from alerts.model import alert_from_hit
from alerts.sqlite_store import SQLiteAlertStore
from matcher.types import Hit, Reason, Subject


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost and its key, written as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    tls: bool
    login: str | None

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Handler:
    """Records what the server accepted; rules let a test refuse or stall."""

    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # address -> refusal
    data_reply: str | None = None  # refuse every message with this reply
    stall_rcpt: str | None = None  # block at RCPT for this address until `release`
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address == self.stall_rcpt:
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.data_reply:
            return self.data_reply
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        auth = getattr(session, "auth_data", None)
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content), tls, login)
        )
        return "250 2.0.0 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


class SmtpServer:
    """aiosmtpd in a thread on 127.0.0.1 with an ephemeral port; a context manager."""

    def __init__(
        self,
        handler: Handler,
        *,
        cert: tuple[Path, Path] | None = None,
        users: dict[str, str] | None = None,
        implicit_tls: bool = False,
        port: int | None = None,
    ) -> None:
        self.handler = handler
        self.port = port or free_port()
        kwargs: dict = {"hostname": "127.0.0.1", "port": self.port, "ready_timeout": 5.0}
        if cert:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*map(str, cert))
            if implicit_tls:
                kwargs["ssl_context"] = ctx
                kwargs["server_hostname"] = "localhost"
            else:
                kwargs["tls_context"] = ctx
                kwargs["require_starttls"] = True
        if users is not None:
            kwargs["auth_required"] = True
            # aiosmtpd only counts STARTTLS as TLS; with implicit TLS the whole session is encrypted.
            kwargs["auth_require_tls"] = not implicit_tls

            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = (
                    isinstance(auth_data, LoginPassword)
                    and users.get(auth_data.login.decode()) == auth_data.password.decode()
                )
                return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

            kwargs["authenticator"] = authenticator
        self.controller = Controller(handler, **kwargs)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.handler.release.set()
        self.controller.stop()


T0 = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)


def add_alert(
    store: SQLiteAlertStore,
    mark: str,
    text: str,
    *,
    score: float = 0.9,
    source: str = "qcc",
    kind: str = "enterprise",
    url: str | None = None,
    at: dt.datetime = T0,
    reasons: tuple[str, ...] = ("contains the mark",),
) -> str:
    """Store one alert the way the scan does (alert_from_hit + upsert); return its id."""
    hit = Hit(
        mark,
        f"{mark} owner",
        score,
        (0, len(mark)),
        mark,
        tuple(Reason(f"r{i}", f"原因{i}", r) for i, r in enumerate(reasons)),
    )
    subject = Subject(text, kind=kind)  # type: ignore[arg-type]
    alert = alert_from_hit(
        hit,
        subject,
        source=source,
        subject_key=text,
        item={"url": url} if url else {},
        evidence_id=None,
        now=at,
    )
    store.upsert([alert])
    return alert.id


MARKS_YAML = """
marks:
  - name: 一正
    owner: 吉林一正药业集团有限公司
    notify: [ip@yizheng.example, watch@agency.example]
  - name: 九阳
    owner: 九阳股份有限公司
    threshold: 0.7
    notify: [legal@joyoung.example, WATCH@agency.example]
  - name: 立白
    owner: 立白科技集团有限公司
    notify: [ip@liby.example]
"""


def settings_for(tmp: Path, *, smtp: dict | None = None, notify: dict | None = None):
    """Real markwatch Settings pointing every file into tmp."""
    from markwatch.config import Settings

    return Settings.model_validate(
        {
            "store": {"sqlite_path": str(tmp / "alerts.sqlite")},
            "marks": {"path": str(tmp / "marks.yaml")},
            "smtp": {"sender": "markwatch <alerts@markwatch.example>", "timeout": 5, **(smtp or {})},
            "notify": {"language": "en", **(notify or {})},  # the SMTP tests read English subjects
            "review": {"base_url": "https://review.example"},
        }
    )


def marks():
    from matcher.marksfile import parse_marks

    return parse_marks(MARKS_YAML, "marks.yaml")


KILLABLE_RUN = '''
import os, signal, sys
from markwatch.config import load_settings
from markwatch.services.notify_run import build_transport, notify
from alerts.notify.transport import SmtpTransport

settings = load_settings(sys.argv[1])
kill_after = sys.argv[2] if len(sys.argv) > 2 else None
base = build_transport(settings)


class KilledAfterDelivery(type(base)):
    """SIGKILL this process right after the server (or outbox) took the message for one
    address: the narrowest window, before the ledger records it."""

    def deliver(self, sender, recipient, message_id, raw):
        super().deliver(sender, recipient, message_id, raw)
        if recipient.lower() == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)


arg = settings.smtp if isinstance(base, SmtpTransport) else base.directory
t = KilledAfterDelivery(arg)
notify(settings, transport=t)
'''


def write_config(tmp: Path, smtp: dict | None = None) -> Path:
    """A markwatch.toml for a subprocess run, plus the marks file it names."""
    (tmp / "marks.yaml").write_text(MARKS_YAML, encoding="utf-8")
    lines = [
        "[store]",
        f'sqlite_path = "{tmp / "alerts.sqlite"}"',
        "[marks]",
        f'path = "{tmp / "marks.yaml"}"',
        "[review]",
        'base_url = "https://review.example"',
        "[notify]",
        'language = "en"',
        "[smtp]",
        'sender = "markwatch <alerts@markwatch.example>"',
        "timeout = 5",
    ]
    for k, v in (smtp or {}).items():
        lines.append(f"{k} = {v}" if isinstance(v, int) else f'{k} = "{v}"')
    path = tmp / "markwatch.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
