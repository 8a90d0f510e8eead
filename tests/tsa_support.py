"""A real RFC 3161 time-stamping authority on loopback: `openssl ts -reply` behind a tiny HTTP server.

The CA and the TSA certificate (critical EKU id-kp-timeStamping, as RFC 3161 §2.3 asks) are made
in the test with `cryptography`; the replies are OpenSSL's own.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CONF = """
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5.6
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "markwatch tests")]
    )


def make_pki(folder: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, tsa.pem, tsa.key) under *folder*."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Test Root CA"))
        .issuer_name(_name("Test Root CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = (
        x509.CertificateBuilder()
        .subject_name(_name("Test TSA"))
        .issuer_name(ca.subject)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "tsa.pem").write_bytes(tsa.public_bytes(pem))
    (folder / "tsa.key").write_bytes(
        tsa_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "ca.pem", folder / "tsa.pem", folder / "tsa.key"


class LocalTSA:
    """``with LocalTSA() as tsa:`` → ``tsa.url`` (POST a TimeStampReq), ``tsa.ca`` (root PEM), ``tsa.hits``."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="markwatch-tsa-")
        self.dir = Path(self._tmp.name)
        self.ca, self.cert, self.key = make_pki(self.dir)
        (self.dir / "serial").write_text("01\n")
        (self.dir / "tsa.cnf").write_text(CONF.format(dir=self.dir))
        self.hits = 0
        self.lock = threading.Lock()  # openssl's serial file is not safe for concurrent replies
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def do_POST(self):  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                query = self.rfile.read(min(n, 1 << 16))
                tsa.hits += 1
                with tsa.lock, tempfile.TemporaryDirectory(dir=tsa.dir) as t:
                    q, r = Path(t) / "q.tsq", Path(t) / "r.tsr"
                    q.write_bytes(query)
                    proc = subprocess.run(
                        [
                            "openssl",
                            "ts",
                            "-reply",
                            "-config",
                            str(tsa.dir / "tsa.cnf"),
                            "-queryfile",
                            str(q),
                            "-signer",
                            str(tsa.cert),
                            "-inkey",
                            str(tsa.key),
                            "-out",
                            str(r),
                        ],
                        capture_output=True,
                        check=False,
                    )
                    body = r.read_bytes() if proc.returncode == 0 and r.exists() else b""
                self.send_response(200 if body else 500)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/tsa"

    def __enter__(self) -> LocalTSA:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._tmp.cleanup()
