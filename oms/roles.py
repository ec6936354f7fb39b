"""Roles are groups. The groups and their permissions are created by migrations
(oms/migrations/0002_roles.py and later ones); this names them."""

from django.db import models


class Role(models.TextChoices):
    # Coordinators also import planning files in the back office: they hold
    # orders.add_project and orders.change_project (orders/migrations/0011).
    COORDINATOR = "coordinator", "Coordinator"
    VIEWER = "viewer", "Viewer"
    CATALOG_ADMIN = "catalog_admin", "Catalog admin"


# The roles that work in the Django admin (is_staff): they administer reference data.
# Coordinators and viewers work in the back office only.
STAFF_ROLES = frozenset({Role.CATALOG_ADMIN})
