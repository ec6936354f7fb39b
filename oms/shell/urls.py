from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from oms.shell import views

admin.site.site_header = "OMS administration"
admin.site.site_title = "OMS admin"

# An error no view answered; the database being unreachable answers 503 (oms.outages).
handler500 = "oms.shell.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("trends/", views.trends, name="trends"),
    path("jobs/", views.jobs, name="jobs"),
    path("jobs/<int:pk>/", views.job, name="job"),
    path("webhooks/", views.webhooks_page, name="webhooks"),
    path("webhooks/deliveries/", views.deliveries, name="webhook_deliveries"),
    path("webhooks/deliveries/retry/", views.retry_deliveries, name="webhook_retry"),
    path("webhooks/deliveries/<int:pk>/", views.delivery_detail, name="webhook_delivery"),
    path("webhooks/deliveries/<int:pk>/retry/", views.retry_deliveries, name="webhook_retry_one"),
    path("orders/", include("orders.web.urls")),
    path("inventory/", include("warehouse.urls")),
    path("allocation/", include("allocation.urls")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("oms.api.urls", "api"), namespace="api")),
]
