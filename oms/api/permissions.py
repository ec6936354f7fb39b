from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rest_framework.permissions import BasePermission

from oms.models import ApiClient
from oms.scopes import PERSON_PERMISSION

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

    from oms.api.views import ApiMixin


class HasScope(BasePermission):
    """The view's scope for the method: held by the client, or by the person's role."""

    message = "You lack the scope this endpoint needs."

    def has_permission(self, request: Request, view: APIView) -> bool:
        assert request.method is not None, "a request being handled has its method"
        # Every API view is an ApiMixin (not imported here: DRF imports this module
        # while it loads its views).
        scope = cast("ApiMixin", view).scope_for(request.method)
        if not request.user or not request.user.is_authenticated:
            return False
        self.message = f"This endpoint needs the scope {scope}."
        if isinstance(request.auth, ApiClient):
            return scope in request.auth.scopes
        return request.user.is_active and request.user.has_perm(PERSON_PERMISSION[scope])
