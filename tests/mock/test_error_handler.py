"""errors.py and error_handler.py: every error's type is the contract's; every exception becomes an ApiError."""

from __future__ import annotations

from typing import Any

import pytest
from connexion.exceptions import BadRequestProblem, ProblemException
from connexion.lifecycle import ConnexionRequest
from starlette.exceptions import HTTPException

from incident_contract.facts import error_types
from incident_mock.domain import errors
from incident_mock.domain.errors import ApiError, error_body
from incident_mock.http.error_handler import as_api_error


def _subclasses(cls: type[ApiError]) -> list[type[ApiError]]:
    return [cls, *(c for sub in cls.__subclasses__() for c in _subclasses(sub))]


def test_every_error_class_has_its_type_in_the_contract(spec: dict[str, Any]) -> None:
    types = error_types(spec)
    for cls in _subclasses(ApiError):
        assert cls.status in types, cls.__name__
        body = error_body(cls(errors.INTERNAL), "req-1", types)
        assert (body["type"], body["status"], body["request_id"]) == (types[cls.status], cls.status, "req-1")


def request(method: str, path: str) -> ConnexionRequest:
    return ConnexionRequest(
        {"type": "http", "method": method, "path": path, "headers": [], "query_string": b""}
    )


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (HTTPException(405), 405, "method_not_allowed"),
        (HTTPException(404), 404, "not_found"),
        (HTTPException(400, "no boundary"), 400, "invalid_request"),
        (ProblemException(status=415, title="Unsupported Media Type"), 400, "invalid_content_type"),
        (BadRequestProblem(detail="bad"), 400, "invalid_request"),
        (RuntimeError("boom"), 500, "api_error"),
    ],
)
def test_every_exception_becomes_an_api_error(
    spec: dict[str, Any], exc: Exception, status: int, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    err = as_api_error(exc, request("DELETE", "/v2/incidents"), spec)
    assert (err.status, err.code) == (status, code)
    assert "boom" not in err.errors[0]["message"]


def test_a_405_names_the_methods_the_path_offers(spec: dict[str, Any]) -> None:
    err = as_api_error(HTTPException(405), request("DELETE", "/v2/incidents"), spec)
    assert err.headers == {"Allow": "GET, POST"}
