from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from oms.api import views

urlpatterns = [
    path("", include("orders.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("warehouse.api.urls")),
    path("", include("allocation.api.urls")),
    path("events/", views.EventFeedApi.as_view(), name="event-feed"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="oms/api_docs.html"
        ),
        name="docs",
    ),
]
