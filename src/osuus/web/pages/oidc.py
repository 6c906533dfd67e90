"""(being written)"""

from __future__ import annotations

from fastapi import APIRouter

from osuus.web.app import PageRoute

router = APIRouter(route_class=PageRoute)
