"""Every error as ``application/problem+json`` (RFC 9457), so clients parse one error shape.

Routes raise :class:`Problem`; the handlers installed by :func:`install_handlers` turn it,
FastAPI's request validation errors and Starlette's HTTP errors (unknown route, wrong method)
into problem documents. Validation problems list each offending field and why.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"

#: Problem types are relative URIs; a client branches on them, not on the title text.
TYPE_BASE = "/problems/"


class FieldError(BaseModel):
    """One offending input: where it came from, its name, and why it was refused."""

    location: str = Field(description="`query`, `path`, `header` or `body`.")
    field: str = Field(description="The parameter's name (dotted for nested body fields).")
    reason: str


class ProblemDetails(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "/problems/invalid-request",
                    "title": "Invalid request",
                    "status": 422,
                    "detail": "1 parameter is invalid: limit",
                    "errors": [
                        {
                            "location": "query",
                            "field": "limit",
                            "reason": "Input should be less than or equal to 1000",
                        }
                    ],
                }
            ]
        }
    )

    type: str = Field(description="A URI reference naming the kind of problem.")
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(
        default=None, description="For invalid requests: each offending field and why."
    )


class Problem(Exception):
    """An error a route reports to the client as a problem document."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.errors = errors
        self.headers = headers

    @classmethod
    def invalid(cls, location: str, field: str, reason: str) -> Problem:
        """A 422 naming one query/path parameter, shaped like FastAPI's own validation errors."""
        return cls(
            422,
            "invalid-request",
            f"1 parameter is invalid: {field}",
            errors=[FieldError(location=location, field=field, reason=reason)],
        )


def problem_response(
    status: int,
    kind: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ProblemDetails(
        type=TYPE_BASE + kind,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def _field_errors(error: RequestValidationError) -> list[FieldError]:
    out = []
    for item in error.errors():
        location, *path = (str(part) for part in item.get("loc", ("request",)))
        out.append(
            FieldError(
                location=location,
                field=".".join(path) or location,
                reason=str(item.get("msg", "invalid")),
            )
        )
    return out


async def _on_problem(_request: Request, problem: Exception) -> JSONResponse:
    assert isinstance(problem, Problem)
    return problem_response(
        problem.status,
        problem.kind,
        problem.detail,
        errors=problem.errors,
        headers=problem.headers,
    )


async def _on_validation(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = _field_errors(error)
    names = ", ".join(dict.fromkeys(e.field for e in errors))
    noun = "parameter is" if len(errors) == 1 else "parameters are"
    return problem_response(
        422, "invalid-request", f"{len(errors)} {noun} invalid: {names}", errors=errors
    )


async def _on_http(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    kind = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "http-error")
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    if error.status_code == 404 and detail == "Not Found":
        detail = "No such endpoint; the API is under /api/v1 (see /docs)."
    return problem_response(
        error.status_code, kind, detail, headers=getattr(error, "headers", None)
    )


async def _on_unexpected(_request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=error)
    return problem_response(500, "internal-error", "The service failed; the error is logged.")


def install_handlers(app: FastAPI) -> None:
    """Route every error the app can produce through a problem document."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
    document_problem_media_type(app)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting the problem documents a route may return."""
    return {
        status: {"model": ProblemDetails, "description": HTTPStatus(status).phrase}
        for status in statuses
    }


def document_problem_media_type(app: FastAPI) -> None:
    """Describe error responses as ``application/problem+json``, the type they are sent as.

    FastAPI files every response model under the app's default ``application/json``; this
    moves the error ones so that the document does not contradict the responses.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    for status, response in operation.get("responses", {}).items():
                        content = response.get("content", {})
                        if status[:1] in "45" and "application/json" in content:
                            content[MEDIA_TYPE] = content.pop("application/json")
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
