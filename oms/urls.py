from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from oms import views

admin.site.site_header = "OMS administration"
admin.site.site_title = "OMS admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("jobs/", views.jobs, name="jobs"),
    path("jobs/<int:pk>/", views.job, name="job"),
    path("orders/", include("orders.urls")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("oms.api.urls", "api"), namespace="api")),
]
