"""Test data. Model factories write inside an actor context (every audited write has an
actor); orders and stock are made through the services, as in production."""

import datetime
import importlib

import factory
from django.contrib.auth.models import Group, Permission
from factory.django import DjangoModelFactory

from catalog.choices import ItemCategory, ItemLifecycle
from catalog.models import Item
from oms import audit
from oms.actors import Actor
from oms.roles import STAFF_ROLES
from orders import services
from orders.choices import OrderStatus, OrderType, PlanType, ReasonCode
from orders.models import Market, Project, Region
from warehouse.integration.releases import release_order
from warehouse.ledger.models import Warehouse, WarehouseMarket
from warehouse.ledger.services import stock_receive

SETUP = Actor.system("test-setup")


class AuditedFactory(DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with audit.acting(SETUP):
            return super()._create(model_class, *args, **kwargs)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = "auth.User"
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("secret-pass-123")
    is_superuser = False
    # Only those who administer are staff: superusers, and the roles in STAFF_ROLES.
    is_staff = factory.LazyAttribute(lambda user: user.is_superuser)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        """Staff (admin access) as the role gives it, as create_user does."""
        if create and extracted:
            self.groups.add(role_group(extracted))
            if extracted in STAFF_ROLES and not self.is_staff:
                self.is_staff = True
                self.save(update_fields=["is_staff"])


# Permissions whose model moved to another app since the migration that granted them
# (Allocation moved to the stock ledger: warehouse/migrations/0010).
MOVED_PERMISSIONS = {"allocation.view_allocation": "warehouse.view_allocation"}


def role_group(name: str) -> Group:
    """The role's group as the roles migration makes it (made again if a transactional
    test's flush removed it)."""
    group, created = Group.objects.get_or_create(name=name)
    if created:
        roles = importlib.import_module("oms.migrations.0002_roles").ROLES
        grants = importlib.import_module("oms.migrations.0005_webhooks").GRANTS
        more = importlib.import_module("allocation.migrations.0002_engine").ROLE_PERMISSIONS
        imports = importlib.import_module(
            "orders.migrations.0013_coordinators_import_projects"
        ).ROLE_PERMISSIONS
        for perm in [
            *roles[name],
            *grants.get(name, []),
            *more.get(name, []),
            *imports.get(name, []),
        ]:
            app_label, codename = MOVED_PERMISSIONS.get(perm, perm).split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return group


class RegionFactory(AuditedFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "EAST"
    name = "East"


class MarketFactory(AuditedFactory):
    class Meta:
        model = Market
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"MKT{n}")
    name = factory.LazyAttribute(lambda o: f"Market {o.code}")
    region = factory.SubFactory(RegionFactory)


class ProjectFactory(AuditedFactory):
    class Meta:
        model = Project

    external_id = factory.Sequence(lambda n: f"PRJ-{n:05d}")
    site_code = factory.Sequence(lambda n: f"SITE{n:04d}")
    market = factory.SubFactory(MarketFactory)
    plan_type = PlanType.NEW_BUILD
    site_acquired_on = datetime.date(2026, 1, 10)
    design_complete_on = datetime.date(2026, 2, 10)


class ItemFactory(AuditedFactory):
    class Meta:
        model = Item

    code = factory.Sequence(lambda n: f"ITM-{n:05d}")
    description = factory.LazyAttribute(lambda o: f"Test item {o.code}")
    category = ItemCategory.RADIO
    lifecycle = ItemLifecycle.ACTIVE


class WarehouseFactory(AuditedFactory):
    class Meta:
        model = Warehouse

    code = factory.Sequence(lambda n: f"WH{n:02d}")
    name = factory.LazyAttribute(lambda o: f"Warehouse {o.code}")


def serve(warehouse: Warehouse, market: Market, rank: int = 1) -> WarehouseMarket:
    with audit.acting(SETUP):
        return WarehouseMarket.objects.create(warehouse=warehouse, market=market, rank=rank)


def stock(warehouse: Warehouse, item: Item, quantity: int):
    return stock_receive(
        warehouse=warehouse, item=item, quantity=quantity, reason="test receipt", actor=SETUP
    )


def make_kit(code: str, components, *, effective_from=None, name: str = ""):
    """A kit with one live version, in effect from `effective_from` (a year ago when not
    given); components are (item, quantity) pairs."""
    from catalog import services as catalog_services
    from catalog.models import Kit

    with audit.acting(SETUP):
        kit = Kit.objects.create(code=code, name=name or f"Kit {code}")
    start = effective_from or datetime.date.today() - datetime.timedelta(days=365)
    version = catalog_services.kit_version_draft(kit=kit, effective_from=start, actor=SETUP)
    catalog_services.kit_version_set_components(
        version=version, components=list(components), actor=SETUP
    )
    catalog_services.kit_version_publish(version=version, actor=SETUP)
    return kit


def make_order(*, project=None, lines=None, actor=SETUP, **kwargs):
    """A DRAFT order made through order_create; lines are (item, quantity) pairs."""
    project = project or ProjectFactory()
    lines = lines if lines is not None else [(ItemFactory(), 5)]
    return services.order_create(
        project=project,
        order_type=kwargs.pop("order_type", OrderType.RADIO),
        plan_type=kwargs.pop("plan_type", PlanType.NEW_BUILD),
        national_priority=kwargs.pop("national_priority", 3),
        need_by=kwargs.pop("need_by", datetime.date(2026, 12, 31)),
        lines=[services.LineSpec(item=item, quantity=qty) for item, qty in lines],
        actor=actor,
        **kwargs,
    )


def order_in(status: OrderStatus, *, warehouse=None, **kwargs):
    """An order driven through the real services to the given status. Stock for it is
    received in `warehouse` (made if not given)."""
    order = make_order(**kwargs)
    if status == OrderStatus.DRAFT:
        return order
    if status == OrderStatus.CANCELLED:
        return services.order_cancel(
            order=order, actor=SETUP, reason_code=ReasonCode.NO_LONGER_NEEDED, reason_text="test"
        )
    order = services.order_approve(order=order, actor=SETUP)
    if status == OrderStatus.APPROVED:
        return order
    warehouse = warehouse or WarehouseFactory()
    for line in order.lines.all():
        stock(warehouse, line.item, line.quantity)
    order = services.order_allocate(order=order, warehouse=warehouse, actor=SETUP)
    if status == OrderStatus.ALLOCATED:
        return order
    order = release_order(order=order, actor=SETUP)
    if status == OrderStatus.RELEASED:
        return order
    order = services.order_complete(order=order, actor=SETUP)
    if status == OrderStatus.CLOSED:
        return order
    line = order.lines.first()
    quantity = line.released_quantity if status == OrderStatus.FULLY_RETURNED else 1
    if status == OrderStatus.FULLY_RETURNED:
        specs = [
            services.ReturnSpec(
                line=ln, quantity=ln.released_quantity, condition="good", reason="test"
            )
            for ln in order.lines.all()
        ]
    else:
        specs = [services.ReturnSpec(line=line, quantity=quantity, condition="good", reason="t")]
    services.order_record_return(order=order, warehouse=warehouse, lines=specs, actor=SETUP)
    order.refresh_from_db()
    assert order.status == status, (order.status, status)
    return order
