"""The HTTP server: one origin for identity, Connections, the Accounting API and control.

Standard library only (`ThreadingHTTPServer`), HTTP/1.1 keep-alive so the SDK's urllib3 pool
reuses connections, and every answer carries a Content-Length.
"""

import contextlib
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
from xero_sandbox.faults import Faults
from xero_sandbox.gateway import Gateway
from xero_sandbox.limits import RateLimiter
from xero_sandbox.store import Store
from xero_sandbox.web import Handler as Endpoint
from xero_sandbox.web import Request, Response, Router

MAX_BODY = 8 * 1024 * 1024


class Sandbox:
    """Everything behind the socket: state, limits, faults and the three route tables."""

    def __init__(self, store: Store, limiter: RateLimiter, faults: Faults):
        self.store, self.limiter, self.faults = store, limiter, faults
        self.gateway = Gateway(store, limiter)
        self.control = Control(store, limiter, faults)
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
        if lowered.startswith("/_sandbox") or lowered == "/" or lowered.startswith("/ui/"):
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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "XeroSandbox/1.0"
    sandbox: Sandbox
    quiet = False

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._write(Response.text(413, "Request body too large"))
            return
        body = self.rfile.read(length) if length else b""
        req = Request(
            method=self.command,
            path=parts.path,
            query={k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            raw_query=parts.query,
        )
        try:
            response = self.sandbox.dispatch(req)
        except Exception as error:  # a sandbox bug must look like Xero's 500, not a hang
            traceback.print_exception(error, file=sys.stderr)
            response = Response.json(500, wire.server_error())
        if response.drop:
            self._drop()
            return
        self._write(response)

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
    client_id: str,
    client_secret: str,
    limiter: RateLimiter,
    quiet: bool = False,
) -> tuple[Server, Sandbox]:
    store = Store(state_path, client_id, client_secret)
    sandbox = Sandbox(store, limiter, Faults())
    handler = type("BoundHandler", (Handler,), {"sandbox": sandbox, "quiet": quiet})
    return Server((host, port), handler), sandbox
