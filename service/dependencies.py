"""How settings and the store reach routes: FastAPI dependencies over ``app.state``.

The factory puts the settings and the lifespan puts the engine on ``app.state``; routes ask
for them through these functions, so nothing global exists at import and tests can build as
many independent apps as they like.
"""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request

from calle.offices import OfficeAreas
from calle.settings import Settings
from service.model_follower import ModelFollower
from service.peer_rate_cache import PeerRateCache
from service.read_cache import ServiceCaches
from service.reasons_on_read import ReasonsOnRead


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> sa.Engine:
    return request.app.state.engine


def get_model_follower(request: Request) -> ModelFollower:
    return request.app.state.model_follower


def get_peer_rates(request: Request) -> PeerRateCache:
    return request.app.state.peer_rates


def get_reasons_on_read(request: Request) -> ReasonsOnRead:
    state = request.app.state
    return ReasonsOnRead(
        state.engine,
        state.model_follower,
        state.snapshot_peer_rates,
        state.snapshot_feature_chunks,
        state.reasons_writer,
    )


def get_caches(request: Request) -> ServiceCaches:
    return request.app.state.caches


def get_office_areas(request: Request) -> OfficeAreas | None:
    return request.app.state.office_areas


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[sa.Engine, Depends(get_engine)]
FollowerDep = Annotated[ModelFollower, Depends(get_model_follower)]
PeerRatesDep = Annotated[PeerRateCache, Depends(get_peer_rates)]
ReasonsOnReadDep = Annotated[ReasonsOnRead, Depends(get_reasons_on_read)]
CachesDep = Annotated[ServiceCaches, Depends(get_caches)]
OfficeAreasDep = Annotated[OfficeAreas | None, Depends(get_office_areas)]
