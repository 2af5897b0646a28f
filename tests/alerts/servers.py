"""Real servers on 127.0.0.1 for the alerts tests: an HTTP webhook listener that fails on cue, and an SMTP server.

The listener records every request it reads and, separately, every message it accepted (answered 2xx), so a test
can tell "the receiver saw a retry" from "the receiver took the alert twice".
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def key(self) -> str:
        return self.headers.get("Idempotency-Key", "")

    def json(self) -> dict:
        return json.loads(self.body)


class WebhookListener:
    """Answers 200 "ok" unless told otherwise. Scripted answers are consumed in order, one per request:
    ("status", code, headers, body) | ("timeout", seconds) | ("accept_then_hang", seconds) | ("json", obj)."""

    def __init__(self):
        self.script: deque = deque()
        self.requests: list[Received] = []
        self.accepted: list[Received] = []
        self._lock = threading.Lock()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received = Received(self.path, dict(self.headers), body)
                with listener._lock:
                    listener.requests.append(received)
                    step = listener.script.popleft() if listener.script else ("status", 200, {}, b"ok")
                if step[0] in ("timeout", "accept_then_hang"):
                    if step[0] == "accept_then_hang":
                        listener.accepted.append(received)
                    time.sleep(step[1])  # longer than the client's timeout: the client gives up first
                    return
                if step[0] == "json":
                    step = ("status", 200, {"Content-Type": "application/json"}, json.dumps(step[1]).encode())
                _, code, headers, payload = step
                if 200 <= code < 300:
                    listener.accepted.append(received)
                self.send_response(code)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def start(self) -> "WebhookListener":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str = "hook") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def then(self, *steps: tuple) -> None:
        self.script.extend(steps)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, made with `cryptography` in the test (nothing shipped)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "costwarden-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Mailbox:
    """What the SMTP server accepted, parsed."""

    envelopes: list = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 <%s>: no such user" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list:
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


def start_smtp(security: str, tmp_path: Path, username: str = "", password: str = "", port: int = 0):
    """An aiosmtpd server on a free loopback port: starttls (required), implicit tls, or none; AUTH when a
    username is given. Returns (controller, mailbox, cert path or None)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    mailbox = Mailbox()
    kwargs: dict = {}
    cert = None
    if security != "none":
        cert, key = self_signed_cert(tmp_path)
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(cert, key)
        kwargs = {"ssl_context": server_context} if security == "tls" else \
            {"tls_context": server_context, "require_starttls": True}
    if username:
        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == username.encode() and auth_data.password == password.encode()
            return AuthResult(success=ok, handled=False)   # handled=False: the server answers 535 itself
        kwargs.update(authenticator=authenticate, auth_required=True, auth_require_tls=security != "none")
    controller = Controller(mailbox, hostname="127.0.0.1", port=port or free_port(), **kwargs)
    controller.start()
    return controller, mailbox, cert
