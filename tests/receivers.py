"""Where alerts land in tests: a webhook receiver and an SMTP sink on 127.0.0.1 (real
sockets, real protocols), and the fixture that points the alert settings at them."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:  # the name http.server calls
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to take one message."""

    mails: ClassVar[list[bytes]] = []

    def handle(self) -> None:
        self.wfile.write(b"220 sink ready\r\n")
        data, in_data = b"", False
        for line in self.rfile:
            if in_data:
                if line == b".\r\n":
                    SmtpSink.mails.append(data)
                    in_data = False
                    self.wfile.write(b"250 queued\r\n")
                else:
                    data += line
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                in_data = True
                self.wfile.write(b"354 go on\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def receivers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[dict], list[bytes]]]:
    Receiver.received, SmtpSink.mails = [], []
    web = HTTPServer(("127.0.0.1", 0), Receiver)
    smtp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpSink)
    for server in (web, smtp):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("RXSTAFF_ALERT_WEBHOOK", f"http://127.0.0.1:{web.server_port}/hook")
    monkeypatch.setenv("RXSTAFF_ALERT_EMAIL_TO", "pharmacy-data@example.org")
    monkeypatch.setenv("RXSTAFF_ALERT_SMTP", f"127.0.0.1:{smtp.server_address[1]}")
    # the budget watch uses these channels too: its own tests turn it on
    monkeypatch.setenv("RXSTAFF_BUDGET_WATCH_DAYS", "off")
    yield Receiver.received, SmtpSink.mails
    web.shutdown()
    smtp.shutdown()
