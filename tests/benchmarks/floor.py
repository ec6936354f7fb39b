"""The floor: plain Django views (no DRF, no auth, no throttling) that return the same
rows and fields as the order list page and the order detail of the API."""

from django.http import Http404, JsonResponse

from orders.choices import ReasonCode
from orders.models import Order, OrderLine

PAGE_SIZE = 50

ORDER_FIELDS = [
    "number",
    "status",
    "order_type",
    "kind",
    "plan_type",
    "national_priority",
    "need_by",
    "gated",
    "gate_reason",
    "revision",
    "version",
    "reason_code",
    "updated_at",
]
PROJECT_FIELDS = {
    "project_id": "project__external_id",
    "site_code": "project__site_code",
    "name": "project__name",
    "market": "project__market__code",
    "region": "project__market__region__code",
    "status": "project__status",
}
DETAIL_FIELDS = [
    "id",
    "reason_text",
    "parent__number",
    "parent__status",
    "parent__kind",
    "correlation_id",
    "created_at",
    "status_changed_at",
    "approved_at",
]
LINE_FIELDS = {
    "id": "id",
    "item": "item__code",
    "description": "item__description",
    "unit": "item__unit",
    "quantity": "quantity",
    "source": "source",
    "kit": "kit__code",
    "replaces_item": "replaces_item__code",
    "allocated_quantity": "allocated_quantity",
    "released_quantity": "released_quantity",
    "returned_quantity": "returned_quantity",
}


def _order(row: dict) -> dict:
    data = {field: row[field] for field in ORDER_FIELDS}
    data["project"] = {key: row[field] for key, field in PROJECT_FIELDS.items()}
    return data


def order_list(request):
    rows = Order.objects.order_by("-updated_at", "-id").values(
        *ORDER_FIELDS, *PROJECT_FIELDS.values()
    )[:PAGE_SIZE]
    return JsonResponse({"results": [_order(row) for row in rows]})


def order_detail(request, number):
    row = (
        Order.objects.filter(number=number)
        .values(*ORDER_FIELDS, *PROJECT_FIELDS.values(), *DETAIL_FIELDS)
        .first()
    )
    if row is None:
        raise Http404
    lines = OrderLine.objects.filter(order_id=row["id"]).order_by("item__code")
    children = Order.objects.filter(parent_id=row["id"]).order_by("id")
    data = _order(row)
    code = row["reason_code"]
    data["reason"] = (
        {"code": code, "label": ReasonCode(code).label, "text": row["reason_text"]}
        if code
        else None
    )
    data["parent"] = (
        {
            "number": row["parent__number"],
            "status": row["parent__status"],
            "kind": row["parent__kind"],
        }
        if row["parent__number"]
        else None
    )
    data["children"] = list(children.values("number", "status", "kind"))
    data["lines"] = [
        {key: line[field] for key, field in LINE_FIELDS.items()}
        | {
            "outstanding_quantity": max(
                line["quantity"] - (line["released_quantity"] - line["returned_quantity"]), 0
            )
        }
        for line in lines.values(*LINE_FIELDS.values())
    ]
    for field in ("correlation_id", "created_at", "status_changed_at", "approved_at"):
        data[field] = row[field]
    return JsonResponse(data)
