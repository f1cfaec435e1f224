"""`python -m xero_sandbox --host 127.0.0.1 --port PORT --state FILE`: run the Xero sandbox.

Prints one line, `Xero sandbox ready at http://HOST:PORT`, once it accepts connections
(`--port 0` picks a free port; read it from that line).
"""

import argparse
import signal
import sys
from pathlib import Path

from xero_sandbox import demo
from xero_sandbox.limits import RateLimiter
from xero_sandbox.server import DEFAULT_READ_TIMEOUT, build
from xero_sandbox.store import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_NAME, DEFAULT_CLIENT_SECRET
from xero_sandbox.webhooks import Hook


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m xero_sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--state", type=Path, help="JSON file the state is kept in")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--client-name", default=DEFAULT_CLIENT_NAME)
    parser.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        help="a redirect URI of that app (repeatable; one value may hold several, space-separated)",
    )
    parser.add_argument("--seed", type=Path, help="JSON file of more apps and of contacts")
    parser.add_argument(
        "--rate-limits",
        choices=("xero", "off", "scaled"),
        default="xero",
        help="xero: Xero's limits; off: count but never refuse; scaled: windows 60x shorter",
    )
    parser.add_argument("--day-limit", type=int, help="calls per rolling day for every org")
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=DEFAULT_READ_TIMEOUT,
        help="seconds a connection may stay silent before it is closed",
    )
    parser.add_argument("--quiet", action="store_true", help="no request log")
    parser.add_argument("--webhook-url", default="", help="deliver that app's webhooks here")
    parser.add_argument("--webhook-key", default="", help="the key they are signed with")
    args = parser.parse_args(argv)
    if args.read_timeout <= 0:
        parser.error("--read-timeout must be positive")
    if bool(args.webhook_url) != bool(args.webhook_key):
        parser.error("--webhook-url and --webhook-key go together")
    return args


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    limiter = RateLimiter(
        enabled=args.rate_limits != "off",
        scale=60.0 if args.rate_limits == "scaled" else 1.0,
        day_override=args.day_limit,
    )
    client = {
        "client_id": args.client_id,
        "client_secret": args.client_secret,
        "name": args.client_name,
        "redirect_uris": [uri for value in args.redirect_uri for uri in value.split()],
    }
    try:
        seed = demo.load(args.seed, client)
    except demo.SeedError as error:
        sys.exit(f"xero_sandbox: {error}")
    if args.state:
        args.state.parent.mkdir(parents=True, exist_ok=True)
    server, sandbox = build(
        args.host,
        args.port,
        args.state,
        seed=seed,
        limiter=limiter,
        quiet=args.quiet,
        read_timeout=args.read_timeout,
    )
    if args.webhook_url:
        # No intent-to-receive check here: the receiver may not be listening yet.
        sandbox.webhooks.configure(
            Hook(client_id=args.client_id, url=args.webhook_url, key=args.webhook_key),
            intent=False,
        )
    # SIGTERM (make run's supervisor, test teardown) must still save the state.
    signal.signal(signal.SIGTERM, _interrupt)
    host, port = server.socket.getsockname()[:2]
    print(f"Xero sandbox ready at http://{host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sandbox.store.close()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
