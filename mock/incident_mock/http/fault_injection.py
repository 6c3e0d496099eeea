"""Stage 9, fault injection: fire the fault armed in the caller's sandbox for this operation (kit/faults.py).

It runs after admission, so the operation and the caller's sandbox are known and a request that fails
authentication (or its scope, size or rate limit) never meets a fault, and before request validation, so
that an `error`, `drop` or `delay` fault does not depend on the body. An `after_commit` fault lets the rest
(validation, the handler, its store) run and holds the answer: a 2xx is then replaced by a 500 or a cut
connection; any other answer is sent as it was and the fault is not spent.

A cut connection is `ConnectionCut`: under uvicorn the mock's protocol (transport.py) closes the connection
without an answer; in-process the exception reaches the client. Either way the stage logs one line, and the
journal records the request with its `fault` (journaling.py). A delay sleeps on the event loop (real time,
never the sandbox's clock), so other requests go on meanwhile; a request whose sandbox was deleted during
its delay is then answered 401, as its token now is. A sandbox without faults costs one test of
an empty list.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from incident_mock.domain.errors import ApiError, ConnectionCut, Internal, invalid_key
from incident_mock.kit.faults import ArmedFault, Faults
from incident_mock.wire.request_state import RequestState, request_state

__all__ = ["Injection", "injected_error"]

log = logging.getLogger("incident_mock")
INJECTED = "The mock answered {status} because of fault {id} armed in this sandbox"
LOST = "The operation succeeded and was stored, but fault {id} armed in this sandbox answers 500 instead"
CUT = "fault %s (%s): cut the connection of %s %s"
_CLASSES: dict[int, type[ApiError]] = {}


def injected_error(fault: ArmedFault) -> ApiError:
    """The error answer of an `error` fault: its status, in the contract's shape."""
    status = fault.status or 500
    kind = _CLASSES.get(status)
    if kind is None:
        kind = _CLASSES[status] = type(f"Injected{status}", (ApiError,), {"status": status})
    retry = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
    return kind(INJECTED.format(status=status, id=fault.id), code="injected_fault", headers=retry)


class Injection:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = request_state(scope) if scope["type"] == "http" else None
        caller = state.caller if state is not None else None
        if state is None or caller is None or not caller.sandbox.faults.armed or state.operation_id is None:
            await self.app(scope, receive, send)
            return
        faults = caller.sandbox.faults
        fault = faults.pick(state.operation_id)
        if fault is None:
            await self.app(scope, receive, send)
            return
        state.fault = fault.note()
        if fault.kind == "delay":
            seconds = fault.latency()
            state.fault["seconds"] = round(seconds, 6)
            await asyncio.sleep(seconds)
            if caller.sandbox.deleted:  # meanwhile: its tokens stopped working, its store was given back
                raise invalid_key()
            await self.app(scope, receive, send)
        elif fault.kind == "error":
            raise injected_error(fault)
        elif fault.kind == "drop":
            _cut(scope, fault)
        else:
            await self._after_commit(scope, receive, send, fault, faults, state)

    async def _after_commit(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        fault: ArmedFault,
        faults: Faults,
        state: RequestState,
    ) -> None:
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        try:
            await self.app(scope, receive, hold)
        except BaseException:  # an error answer on its way to the error handler: nothing was committed
            faults.refund(fault)
            state.fault = None
            raise
        status = held[0]["status"] if held else 0
        if not 200 <= status < 300:
            faults.refund(fault)
            state.fault = None
            for message in held:
                await send(message)
        elif fault.then == "cut":
            _cut(scope, fault)
        else:
            raise Internal(LOST.format(id=fault.id), code="injected_fault")


def _cut(scope: Scope, fault: ArmedFault) -> None:
    log.info(CUT, fault.id, fault.kind, scope["method"], scope["path"])
    raise ConnectionCut(f"fault {fault.id} ({fault.kind}) cut the connection")
