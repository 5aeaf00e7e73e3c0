"""How settings and the store reach routes: FastAPI dependencies over ``app.state``.

The factory puts the settings and the lifespan puts the engine on ``app.state``; routes ask
for them through these functions, so nothing global exists at import and tests can build as
many independent apps as they like.
"""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request

from calle.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> sa.Engine:
    return request.app.state.engine


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[sa.Engine, Depends(get_engine)]
