"""The HTTP server: one origin for identity, Connections, the Accounting API and control.

Standard library only (`ThreadingHTTPServer`), HTTP/1.1 keep-alive so the SDK's urllib3 pool
reuses connections, and every answer carries a Content-Length. A connection silent for
`read_timeout` seconds (half a request, or an idle keep-alive) is closed, freeing its
thread; a body over Xero's 3.5 MB is refused from its Content-Length, never read.
"""

import contextlib
import re
import socket
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from xero_sandbox import faults as fault_module
from xero_sandbox import identity, wire
from xero_sandbox.control import Control
from xero_sandbox.demo import Seed
from xero_sandbox.faults import Faults
from xero_sandbox.gateway import Gateway
from xero_sandbox.limits import RateLimiter
from xero_sandbox.store import Store
from xero_sandbox.web import Handler as Endpoint
from xero_sandbox.web import Request, RequestLog, Response, Router
from xero_sandbox.webhooks import Webhooks

# "A single POST is limited to 3.5 MB" (https://developer.xero.com/documentation/auth-and-limits/xero-api-limits)
XERO_MAX_BODY = 3_500_000
CONTROL_MAX_BODY = 64_000_000  # the control API's bulk seeding, never Xero's
DISCARD_SECONDS = 2.0  # how long a refused body is drained before the socket closes
DEFAULT_READ_TIMEOUT = 10.0
DIGITS = re.compile(r"^[0-9]+$")


class Sandbox:
    """Everything behind the socket: state, limits, faults and the three route tables."""

    def __init__(self, store: Store, limiter: RateLimiter, faults: Faults):
        self.store, self.limiter, self.faults = store, limiter, faults
        self.gateway = Gateway(store, limiter)
        self.requests = RequestLog()
        self.webhooks = Webhooks(store)
        self.control = Control(store, limiter, faults, self.requests, self.webhooks)
        self.identity = Router[Endpoint]()
        add = self.identity.add
        add("GET", "/identity/connect/authorize", lambda r: identity.authorize_page(store, r))
        add("POST", "/identity/connect/authorize", lambda r: identity.authorize_decision(store, r))
        add("POST", "/connect/token", lambda r: identity.token(store, r))
        add("POST", "/connect/revocation", lambda r: identity.revoke(store, r))
        add("GET", "/Connections", lambda r: identity.connections(store, r))
        add("DELETE", "/Connections/{id}", lambda r: identity.delete_connection(store, r))

    def dispatch(self, req: Request) -> Response:
        lowered = req.path.lower()
        if is_control(lowered):
            return self.control.handle(req)
        fault = self.faults.pick(req.method, req.path)
        if fault and fault.kind == "status":
            response = fault_module.status_response(fault)
            if lowered.startswith("/api.xro/"):
                # Injected failures are API answers too: current counts, not counted.
                response.headers.update(self.gateway.fault_headers(req))
            return response
        if fault and fault.kind == "drop":
            return Response(0, drop=True)
        # A hang does the work, then answers late: the client has timed out by then.
        delay = fault.seconds if fault and fault.kind == "hang" else 0.0
        response = self._xero(req, delay)
        if fault and fault.kind == "drop_after_commit":
            response.drop = True
        return response

    def _xero(self, req: Request, delay: float) -> Response:
        if req.path.lower().startswith("/api.xro/"):
            return self.gateway.handle(req, delay=delay)
        handler, params, known = self.identity.match(req.method, req.path)
        if handler is None:
            return Response.text(405, "Method not allowed") if known else Response.not_found()
        req.params = params
        response = handler(req)
        time.sleep(delay)
        return response


def is_control(path: str) -> bool:
    """The sandbox's own routes (control API and web UI), not Xero's."""
    lowered = path.lower()
    return lowered.startswith("/_sandbox") or lowered == "/" or lowered.startswith("/ui/")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "XeroSandbox/1.0"
    sandbox: Sandbox
    quiet = False
    timeout = DEFAULT_READ_TIMEOUT  # StreamRequestHandler sets it on the socket

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = self._content_length(
            XERO_MAX_BODY if not is_control(parts.path) else CONTROL_MAX_BODY
        )
        if length is None:
            return
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client went away mid-body: nobody to answer
            self.close_connection = True
            return
        req = Request(
            method=self.command,
            path=parts.path,
            query={k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            raw_query=parts.query,
        )
        started = time.monotonic()
        try:
            response = self.sandbox.dispatch(req)
        except Exception as error:  # a sandbox bug must look like Xero's 500, not a hang
            traceback.print_exception(error, file=sys.stderr)
            response = Response.json(500, wire.server_error())
        if not is_control(req.path):
            shown = f"{req.path}?{req.raw_query}" if req.raw_query else req.path
            self.sandbox.requests.add(
                req.method, shown[:300], 0 if response.drop else response.status, started
            )
        if response.drop:
            self._drop()
            return
        self._write(response)

    def _content_length(self, limit: int) -> int | None:
        """The body's length from its header, or None once a refusal has been sent.

        The body of a refused request is never read, so the connection is closed after it.
        """
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            # Xero's clients send a length; reading chunks would bypass the limit check.
            self._refuse(411, "Length Required", "Send the body with a Content-Length")
            return None
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not DIGITS.match(raw):
            self._refuse(400, "Bad Request", "Content-Length must be a whole number of bytes")
            return None
        if int(raw) > limit:
            detail = f"The request body is over the limit of {limit / 1_000_000:g} MB"
            self._refuse(413, "Request Entity Too Large", detail)
            return None
        return int(raw)

    def _refuse(self, status: int, title: str, detail: str) -> None:
        """Answer, then close; the body still arriving is discarded a chunk at a time first,
        or the client, busy sending it, would see a reset instead of the answer."""
        self.close_connection = True
        response = Response.json(status, wire.problem(status, title, detail))
        response.headers["Connection"] = "close"
        self._write(response)
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(DISCARD_SECONDS)
            deadline = time.monotonic() + DISCARD_SECONDS
            while time.monotonic() < deadline and self.rfile.read1(65536):
                pass

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        # Headers and body in one write: two small writes meet Nagle's algorithm and the
        # client's delayed ACK, which costs ~40 ms per keep-alive request.
        self._headers_buffer.append(  # type: ignore[attr-defined]  # private, not in typeshed
            b"\r\n" + (response.body if self.command != "HEAD" else b"")
        )
        self.flush_headers()

    def _drop(self) -> None:
        """Close the socket with nothing written: the client sees a dropped connection."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: object) -> None:
        if not self.quiet:
            sys.stderr.write(f"[sandbox] {self.address_string()} {format % args}\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def build(
    host: str,
    port: int,
    state_path: Path | None,
    *,
    seed: Seed,
    limiter: RateLimiter,
    quiet: bool = False,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
) -> tuple[Server, Sandbox]:
    store = Store(state_path, seed.prepare)
    sandbox = Sandbox(store, limiter, Faults())
    attributes = {"sandbox": sandbox, "quiet": quiet, "timeout": read_timeout}
    handler = type("BoundHandler", (Handler,), attributes)
    return Server((host, port), handler), sandbox
