"""The ceiling: the least a Starlette app on uvicorn can do to answer GET /v1/severities.

It serves a fixed body (the mock's own answer, captured by bench/run.py) with no auth, no routing table
and no validation, on the same uvicorn settings as the mock, so mock/ceiling measures what the mock's own
work costs on this machine.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_app(body: bytes) -> Starlette:
    async def severities(_request: Request) -> Response:
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/v1/severities", severities, methods=["GET"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True, help="JSON file to serve")
    args = parser.parse_args()
    app = create_app(args.body.read_bytes())
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
