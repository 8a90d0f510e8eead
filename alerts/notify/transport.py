"""Ways a rendered digest leaves the building: an SMTP server, or an outbox folder.

Each transport says, on failure, whether the message was *certainly not* taken
(``definite``) — then its alerts go back to pending — or whether the outcome is
unknown because the connection broke after the data went out.
"""

from __future__ import annotations

import base64
import os
import re
import smtplib
import ssl
import tempfile
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

from alerts.notify.sanitize import header_text
from alerts.notify.settings import SmtpSettings


class DeliveryError(Exception):
    """A message was not delivered. `definite`: the server certainly did not accept it."""

    def __init__(self, message: str, *, definite: bool = True) -> None:
        super().__init__(header_text(message, 500))
        self.definite = definite


class ServerUnavailable(DeliveryError):
    """Nothing can be sent this run (unreachable, TLS or login failure): stop trying."""


class Transport(Protocol):
    name: str

    def deliver(self, sender: str, recipient: str, message_id: str, raw: bytes) -> None: ...

    def already_delivered(self, recipient: str, message_id: str) -> bool: ...

    def close(self) -> None: ...


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{exc.smtp_code} {text}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r}: {c} {m.decode('utf-8', 'replace')}" for r, (c, m) in exc.recipients.items())
    return f"{type(exc).__name__}: {exc}"


def _login(conn: smtplib.SMTP, user: str, password: str) -> None:
    """smtplib's login() only takes ASCII; AUTH PLAIN is UTF-8 by definition (RFC 4616)."""
    if (user + password).isascii():
        conn.login(user, password)
        return
    if not conn.has_extn("auth") or "PLAIN" not in conn.esmtp_features["auth"].upper().split():
        raise ServerUnavailable("non-ASCII SMTP credentials need AUTH PLAIN, which the server does not offer")
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode("ascii")
    code, resp = conn.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, resp)


class SmtpTransport:
    """One SMTP connection per run, reused for every recipient, reopened if it drops."""

    name = "smtp"

    def __init__(self, settings: SmtpSettings) -> None:
        if not settings.host:
            raise ValueError("SMTP host is not configured")
        self.settings = settings
        self._conn: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        s = self.settings
        ctx = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
        if not s.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def _connect(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        s = self.settings
        if not s.host:
            raise ServerUnavailable("no SMTP host configured ([smtp] host)")
        where = f"{s.host}:{s.effective_port}"
        try:
            if s.security == "tls":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host,
                    s.effective_port,
                    timeout=s.timeout,
                    context=self._context(),
                    local_hostname=s.local_hostname,
                )
            else:
                conn = smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout, local_hostname=s.local_hostname)
            try:
                conn.ehlo()
                if s.security == "starttls":
                    if not conn.has_extn("starttls"):
                        raise ServerUnavailable(f"{where}: server does not offer STARTTLS (refusing to send in clear)")
                    conn.starttls(context=self._context())
                    conn.ehlo()
                if s.user:
                    _login(conn, s.user, s.password.get_secret_value() if s.password else "")
            except BaseException:
                conn.close()
                raise
        except ServerUnavailable:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise ServerUnavailable(f"{where}: login refused: {_describe(exc)}") from None
        except (smtplib.SMTPException, OSError, ssl.SSLError, UnicodeError) as exc:
            raise ServerUnavailable(f"{where}: {_describe(exc)}") from None
        self._conn = conn
        return conn

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def deliver(self, sender: str, recipient: str, message_id: str, raw: bytes) -> None:
        conn = self._connect()
        env_from = parseaddr(sender)[1] or sender
        phase = "envelope"
        try:
            options: list[str] = []
            if not (env_from + recipient).isascii():
                if not conn.has_extn("smtputf8"):
                    raise DeliveryError(f"{recipient}: server lacks SMTPUTF8 for a non-ASCII address")
                options.append("SMTPUTF8")
            code, resp = conn.mail(env_from, options)
            if code != 250:
                conn.rset()
                raise DeliveryError(f"sender refused: {code} {resp.decode('utf-8', 'replace')}")
            code, resp = conn.rcpt(recipient)
            if code not in (250, 251):
                conn.rset()
                raise DeliveryError(f"{recipient} refused: {code} {resp.decode('utf-8', 'replace')}")
            phase = "data"
            code, resp = conn.data(raw)  # raises only if DATA itself is refused, not the message
            phase = "done"
            if code != 250:
                self._reset()
                raise DeliveryError(f"message refused: {code} {resp.decode('utf-8', 'replace')}")
        except DeliveryError:
            raise
        except smtplib.SMTPDataError as exc:  # the server answered "no"
            self._reset()
            raise DeliveryError(f"message refused: {_describe(exc)}") from None
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise DeliveryError(_describe(exc)) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            # Before DATA the server cannot have taken the message; during DATA it might have.
            raise DeliveryError(f"connection lost during {phase}: {_describe(exc)}", definite=phase != "data") from None

    def _reset(self) -> None:
        try:
            if self._conn is not None:
                self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def already_delivered(self, recipient: str, message_id: str) -> bool:
        return False  # SMTP offers no way to ask; the re-send keeps the same Message-ID

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (TimeoutError, smtplib.SMTPException, OSError):
                pass
            finally:
                self._drop()


_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


class OutboxTransport:
    """Writes each message as an .eml file: the default when no SMTP server is configured.

    The file name is derived from recipient and Message-ID and appears atomically
    (write, fsync, rename), so delivery here is exactly once even across kills.
    """

    name = "outbox"

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def path_for(self, recipient: str, message_id: str) -> Path:
        rcpt = _UNSAFE.sub("_", recipient.lower())[:100]
        mid = _UNSAFE.sub("_", message_id.strip("<>"))[:150]
        return self.directory / f"{rcpt}--{mid}.eml"

    def deliver(self, sender: str, recipient: str, message_id: str, raw: bytes) -> None:
        target = self.path_for(recipient, message_id)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".eml", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(raw)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            dfd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError as exc:
            raise ServerUnavailable(f"outbox {self.directory}: {exc}") from None

    def already_delivered(self, recipient: str, message_id: str) -> bool:
        return self.path_for(recipient, message_id).exists()

    def close(self) -> None:
        pass
