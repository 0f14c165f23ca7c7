"""Real network peers on 127.0.0.1: a webhook HTTP server and an SMTP server."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


class Webhook:
    """Records POST bodies; answers `status`, or hangs for `delay` seconds first."""

    def __init__(self, status: int = 200, delay: float = 0.0):
        self.status, self.delay = status, delay
        self.posts: list[dict] = []
        self.attempts = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                outer.attempts += 1
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.delay:
                    time.sleep(outer.delay)
                if outer.status == 200:
                    outer.posts.append(json.loads(body))
                try:
                    self.send_response(outer.status)
                    self.end_headers()
                    self.wfile.write(b"ok" if outer.status == 200 else b"error")
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/s3cretToken"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    """A port nothing listens on (bound once, then released)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}/hook"


class Mailbox:
    """An aiosmtpd server collecting messages."""

    def __init__(self):
        self.messages: list = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.messages.append(envelope)
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def mail_env(monkeypatch, port: int, recipients: str = "data-team@shop.example,oncall@shop.example") -> None:
    """Point the monitor's email alerts at the Mailbox on ``port``."""
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("ALERT_EMAIL_FROM", "monitor@shop.example")
    monkeypatch.setenv("ALERT_EMAIL_TO", recipients)
