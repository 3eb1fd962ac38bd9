"""``python -m maas.serving --model-dir DIR --port N``: serve a packaged model over HTTP.

The serving container's entry point, and what the local runtime starts behind an endpoint.
The server listens at once and loads the model in the background (``/ping`` is 503 until it
is loaded); if the model cannot be loaded the traceback is logged and the process exits 1,
as a container that fails its health check.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path

from transformers.utils import logging as transformers_logging

from maas.serving.server import InferenceServer

logger = logging.getLogger("maas.serving")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m maas.serving", description=__doc__)
    parser.add_argument(
        "--model-dir", type=Path, default=Path("/opt/ml/model"), help="the packaged model"
    )
    parser.add_argument("--host", default="0.0.0.0", help="the address to listen on")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080")),
        help="the port to listen on (SAGEMAKER_BIND_TO_PORT, else 8080)",
    )
    parser.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help="exit when standard input closes, so the server never outlives its parent",
    )
    return parser.parse_args(argv)


def _load_or_shut_down(server: InferenceServer) -> None:
    try:
        server.load()
    except Exception:
        logger.exception("the model in %s could not be loaded", server.model_dir)
        server.shutdown()


def _shut_down_at_end_of_input(server: InferenceServer) -> None:
    sys.stdin.read()
    logger.info("standard input closed: shutting down")
    server.shutdown()


def main(argv: list[str] | None = None) -> int:
    """Run the server until it is shut down; 1 when the model could not be loaded."""
    arguments = _arguments(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Progress bars and advice about generation settings would fill the endpoint's log.
    transformers_logging.set_verbosity(logging.ERROR)
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    server = InferenceServer(arguments.model_dir, arguments.host, arguments.port)
    logger.info("listening on %s:%d", arguments.host, server.port)
    threading.Thread(target=_load_or_shut_down, args=(server,), daemon=True).start()
    if arguments.exit_with_stdin:
        threading.Thread(target=_shut_down_at_end_of_input, args=(server,), daemon=True).start()
    server.serve_forever()
    return 0 if server.service is not None else 1


if __name__ == "__main__":
    sys.exit(main())
