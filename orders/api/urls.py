from django.urls import path, register_converter
from rest_framework.routers import SimpleRouter

from orders.api import design_events, views


class OrderNumber:
    regex = views.NUMBER

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(OrderNumber, "order")

router = SimpleRouter(trailing_slash=True)
router.register("projects", views.ProjectViewSet, basename="project")

urlpatterns = [
    path("orders/", views.OrderListApi.as_view(), name="order-list"),
    path("orders/<order:number>/", views.OrderDetailApi.as_view(), name="order-detail"),
    path(
        "orders/<order:number>/timeline/", views.OrderTimelineApi.as_view(), name="order-timeline"
    ),
    path("orders/<order:number>/notes/", views.OrderNoteListApi.as_view(), name="order-notes"),
    path(
        "orders/<order:number>/revisions/",
        views.OrderRevisionListApi.as_view(),
        name="order-revisions",
    ),
    path("orders/<order:number>/approve/", views.OrderApproveApi.as_view(), name="order-approve"),
    path("orders/<order:number>/reject/", views.OrderRejectApi.as_view(), name="order-reject"),
    path("orders/<order:number>/cancel/", views.OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<order:number>/reopen/", views.OrderReopenApi.as_view(), name="order-reopen"),
    path("orders/<order:number>/release/", views.OrderReleaseApi.as_view(), name="order-release"),
    path(
        "orders/<order:number>/resolve-return/",
        views.OrderResolveReturnApi.as_view(),
        name="order-resolve-return",
    ),
    path("design-events/", design_events.DesignEventListApi.as_view(), name="design-event-list"),
    path(
        "design-events/<str:event_id>/",
        design_events.DesignEventDetailApi.as_view(),
        name="design-event-detail",
    ),
    path(
        "design-events/<str:event_id>/correct/",
        design_events.DesignEventCorrectApi.as_view(),
        name="design-event-correct",
    ),
    path(
        "design-events/<str:event_id>/reprocess/",
        design_events.DesignEventReprocessApi.as_view(),
        name="design-event-reprocess",
    ),
    *router.urls,
]
