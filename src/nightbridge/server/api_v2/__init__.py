"""API v2: authorization (JWTs, subjects, roles) and properties; v1 is also mounted here."""

from fastapi import APIRouter

from nightbridge.server.api_v2.authorization import router as authorization_router
from nightbridge.server.api_v2.properties import router as properties_router

router = APIRouter()
router.include_router(authorization_router)
router.include_router(properties_router)

__all__ = ["router"]
