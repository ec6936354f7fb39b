"""Roles are groups. The groups and their permissions are created by migrations
(oms/migrations/0002_roles.py and later ones); this names them."""

from django.db import models


class Role(models.TextChoices):
    COORDINATOR = "coordinator", "Coordinator"
    VIEWER = "viewer", "Viewer"
    CATALOG_ADMIN = "catalog_admin", "Catalog admin"
