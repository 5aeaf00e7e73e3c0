"""Who is calling and may they: the API key on a request and the role a route needs.

A key comes as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. No key, an unknown
key or a revoked key is 401 (with ``WWW-Authenticate``); a valid key of a role the route
does not allow is 403. ``admin`` passes every role check.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from calle.store import statement_connection
from service.dependencies import CachesDep, EngineDep
from service.keys import ApiKey, find_key, hash_key
from service.problems import Problem
from service.roles import Role

_CHALLENGE = 'Bearer realm="calle"'


def _unauthorized(detail: str, error: str | None = None) -> Problem:
    challenge = _CHALLENGE + (f', error="{error}"' if error else "")
    return Problem(401, "unauthorized", detail, headers={"WWW-Authenticate": challenge})


def _presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise _unauthorized(
                "Send the key as `Authorization: Bearer <key>`.", error="invalid_request"
            )
        return credentials.strip()
    key = request.headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


def authenticate(request: Request, engine: EngineDep, caches: CachesDep) -> ApiKey:
    """The caller's key record; 401 unless a valid, unrevoked key is presented (a key found
    is trusted for ``CALLE_KEY_CACHE_SECONDS``, so a revocation reaches a running service
    within that long)."""
    key = _presented_key(request)
    if key is None:
        raise _unauthorized(
            "An API key is required: `Authorization: Bearer <key>` (create one with "
            "`calle keys create`)."
        )

    def read() -> ApiKey | None:
        with statement_connection(engine) as connection:
            return find_key(connection, key)

    record = caches.keys.get(hash_key(key), read)
    if record is None:
        raise _unauthorized("The API key is not valid.", error="invalid_token")
    if record.revoked:
        raise _unauthorized(f"The API key {record.key_id} has been revoked.", error="invalid_token")
    return record


def require(*roles: Role) -> Callable[..., ApiKey]:
    """A dependency admitting keys of ``roles`` (and admins), refusing others with 403."""
    allowed = {*roles, Role.admin}

    def check(request: Request, engine: EngineDep, caches: CachesDep) -> ApiKey:
        record = authenticate(request, engine, caches)
        if record.role not in allowed:
            names = ", ".join(sorted(role.value for role in allowed))
            raise Problem(
                403,
                "forbidden",
                f"The role {record.role.value} may not use this endpoint; it needs: {names}.",
            )
        return record

    return check
