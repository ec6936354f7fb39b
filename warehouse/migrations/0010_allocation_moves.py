"""Allocation (stock reserved for an order line) moved here from the allocation app, as
part of the stock ledger. It keeps its table, constraints and indexes: only Django's
state changes here."""

import django.db.models.deletion
from django.db import migrations, models


def move_content_type(apps, schema_editor, *, source="allocation", target="warehouse"):
    """The model's content type (and with it its permissions and the roles that hold
    them) follows it to its new app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=target, model="allocation").exists():
        ContentType.objects.filter(app_label=source, model="allocation").update(app_label=target)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, source="warehouse", target="allocation")


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0016_saved_views"),
        ("warehouse", "0009_release_updated_index"),
        ("allocation", "0002_engine"),
        ("contenttypes", "0002_remove_content_type_name"),
        # The roles were granted view_allocation while Allocation was in the allocation app.
        ("oms", "0002_roles"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Allocation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("quantity", models.PositiveIntegerField()),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("active", "Active"),
                                    ("issued", "Issued"),
                                    ("unreserved", "Given back to stock"),
                                ],
                                default="active",
                                max_length=16,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("ended_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "order_line",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="allocations",
                                to="orders.orderline",
                            ),
                        ),
                        (
                            "stock_level",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="allocations",
                                to="warehouse.stocklevel",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "allocation_allocation",
                        "ordering": ["order_line", "stock_level"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(("status", "active")),
                                fields=["stock_level"],
                                name="allocation_active_idx",
                            )
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("quantity__gt", 0)),
                                name="allocation_quantity_positive",
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(("status", "active")),
                                fields=("order_line", "stock_level"),
                                name="allocation_one_active_per_stock",
                            ),
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
