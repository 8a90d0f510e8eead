"""Trusted timestamps (RFC 3161): proof from a time-stamping authority that some bytes existed then.

Courts weigh electronic evidence by signatures, trusted timestamps, hashes and deposit services
(SPC provisions on internet courts, 2018, art. 11); a SHA-256 in a manifest the rights holder's
own tool wrote is the weakest form. With ``[evidence] tsa_url`` set, each capture (after a scan)
and each exported dossier (its manifest, or the PDF) is sent to the TSA as a SHA-256 imprint, and
the reply (``TimeStampResp``, DER) is kept beside it: in the evidence store, and in a dossier as
``<file>.tsr``. ``verify_reply`` checks a reply against the bytes and the TSA's root certificate.

The protocol is ``rfc3161-client`` (Trail of Bits); this module never touches the network: the
request is sent by whoever calls ``stamp`` with a ``post`` function (the app sends it through the
crawler: ``crawler.spiders.lookup.TimestampSpider``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

# post(queries: {id: DER query}) -> {id: (reply DER or None, reason when None)}
Post = Callable[[dict[str, bytes]], dict[str, tuple[bytes | None, str]]]


class TimestampError(Exception):
    """A reply that is not a granted, matching time-stamp token."""


@dataclass(frozen=True)
class Stamp:
    """A checked reply: when the TSA says the bytes existed, which TSA, and the reply itself."""

    reply: bytes
    gen_time: datetime
    serial: int
    tsa: str
    sha256: str

    def describe(self) -> str:
        return f"{self.gen_time.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC, TSA {self.tsa}, serial {self.serial}"


def query_for(data: bytes) -> tuple[bytes, int | None]:
    """A DER TimeStampReq over SHA-256(data) with a fresh nonce, asking for the TSA's certificate."""
    req = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256).build()
    return req.as_bytes(), req.nonce


def _tsa_name(reply) -> str:
    try:
        return reply.tst_info.name.value.rfc4514_string()
    except Exception:  # noqa: BLE001 - the name is optional in a token
        certs = reply.signed_data.certificates
        if certs:
            try:
                return x509.load_der_x509_certificate(next(iter(certs))).subject.rfc4514_string()
            except ValueError:
                pass
        return "(unnamed TSA)"


def read_reply(reply: bytes, data: bytes, *, nonce: int | None = None) -> Stamp:
    """Parse a reply and check that it is granted and stamps SHA-256(*data*) (no trust chain here)."""
    try:
        resp = decode_timestamp_response(reply)
    except Exception as exc:  # noqa: BLE001 - the library raises ValueError or its own errors
        raise TimestampError(f"not a time-stamp reply: {str(exc)[:120]}") from None
    if PKIStatus(resp.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError(f"the TSA did not grant the stamp (status {resp.status}: {resp.status_string})")
    digest = hashlib.sha256(data).digest()
    if resp.tst_info.message_imprint.message != digest:
        raise TimestampError("the token stamps other bytes than these")
    if nonce is not None and resp.tst_info.nonce != nonce:
        raise TimestampError("the token's nonce is not the one asked for")
    return Stamp(reply, resp.tst_info.gen_time, resp.tst_info.serial_number, _tsa_name(resp), digest.hex())


def stamp(items: dict[str, bytes], post: Post) -> tuple[dict[str, Stamp], dict[str, str]]:
    """Stamp each of *items* (id → bytes): the checked stamps, and the reason for each that failed."""
    queries: dict[str, bytes] = {}
    nonces: dict[str, int | None] = {}
    for k, data in items.items():
        queries[k], nonces[k] = query_for(data)
    replies = post(queries) if queries else {}
    ok: dict[str, Stamp] = {}
    failed: dict[str, str] = {}
    for k, data in items.items():
        reply, why = replies.get(k, (None, "no answer from the TSA"))
        if reply is None:
            failed[k] = why
            continue
        try:
            ok[k] = read_reply(reply, data, nonce=nonces[k])
        except TimestampError as exc:
            failed[k] = str(exc)
    return ok, failed


def load_roots(path: Path) -> list[x509.Certificate]:
    """The PEM certificates in *path* (a TSA's root, possibly with intermediates)."""
    return x509.load_pem_x509_certificates(Path(path).read_bytes())


def verify_reply(reply: bytes, data: bytes, roots: list[x509.Certificate]) -> Stamp:
    """A reply that stamps *data*, signed by a TSA certificate chaining to one of *roots*; else TimestampError."""
    st = read_reply(reply, data)
    if not roots:
        raise TimestampError("no TSA root certificate to check the signature against ([evidence] tsa_ca_file)")
    builder = VerifierBuilder()
    for cert in roots:
        if cert.subject == cert.issuer:
            builder = builder.add_root_certificate(cert)
        else:
            builder = builder.add_intermediate_certificate(cert)
    try:
        builder.build().verify_message(decode_timestamp_response(reply), data)
    except (VerificationError, ValueError) as exc:
        raise TimestampError(f"the token's signature does not verify: {str(exc)[:160]}") from None
    return st
