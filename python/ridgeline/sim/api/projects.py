"""Projects: ``/api/projects``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post

from ridgeline.platform.context import Service
from ridgeline.sim.api import schemas, store
from ridgeline.sim.api.bodies import JSONBody
from ridgeline.sim.api.service import SimService, new_id, now
from ridgeline.sim.api.validation import strict_body


@post("/api/projects", summary="Create project", tags=["sim"], status_code=201)
async def create_project(
    request: Request[Any, Any, Any],
    svc: Service[SimService],
    data: Annotated[schemas.ProjectCreate, JSONBody],
) -> schemas.Project:
    body = await strict_body(request, schemas.ProjectCreate)
    p = schemas.Project(id=new_id(), name=body.name, description=body.description, created_at=now())
    await store.insert(svc.ctx.db, store.projects, msgspec.to_builtins(p, builtin_types=(datetime,)))
    return p


@get("/api/projects", summary="List projects", tags=["sim"])
async def list_projects(svc: Service[SimService]) -> schemas.ProjectList:
    items = [
        schemas.Project(id=r.id, name=r.name, description=r.description, created_at=r.created_at)
        for r in await store.list_projects(svc.ctx.db)
    ]
    return schemas.ProjectList(projects=items, count=len(items))


ROUTES = [create_project, list_projects]
