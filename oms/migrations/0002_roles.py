"""Create the role groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = [
    "catalog.view_item",
    "catalog.view_kit",
    "catalog.view_kitversion",
    "catalog.view_kitcomponent",
    "orders.view_region",
    "orders.view_market",
    "orders.view_project",
    "orders.view_order",
    "orders.view_orderline",
    "orders.view_orderrevision",
    "warehouse.view_warehouse",
    "warehouse.view_warehousemarket",
    "warehouse.view_stocklevel",
    "warehouse.view_stockmovement",
    "warehouse.view_release",
    "warehouse.view_return",
    "warehouse.view_returnline",
    "allocation.view_allocation",
    "oms.view_jobrun",
]

ROLES = {
    "viewer": VIEW,
    "coordinator": VIEW
    + [
        "orders.approve_order",
        "orders.reject_order",
        "orders.cancel_order",
        "orders.allocate_order",
        "orders.release_order",
        "orders.resolve_return",
        "orders.enrich_order",
    ],
    "catalog_admin": VIEW
    + [
        f"{app}.{action}_{model}"
        for app, model in [
            ("catalog", "item"),
            ("catalog", "kit"),
            ("catalog", "kitversion"),
            ("catalog", "kitcomponent"),
            ("warehouse", "warehouse"),
            ("warehouse", "warehousemarket"),
            ("orders", "market"),
            ("orders", "region"),
        ]
        for action in ("add", "change")
    ]
    + ["warehouse.adjust_stock", "warehouse.change_stocklevel"],
}


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("oms", "0001_initial"),
        ("catalog", "0001_initial"),
        ("orders", "0001_initial"),
        ("warehouse", "0001_initial"),
        ("allocation", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
