from django.urls import path

from orders.web import imports as import_views
from orders.web import views

app_name = "orders"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("export.csv", views.queue_export, {"fmt": "csv"}, name="export_csv"),
    path("export.xlsx", views.queue_export, {"fmt": "xlsx"}, name="export_xlsx"),
    path("live/", views.queue_live, name="queue_live"),
    path("bulk/", views.bulk, name="bulk"),
    path("views/", views.saved_views, name="saved_views"),
    path("views/<int:pk>/", views.saved_view_change, name="saved_view_change"),
    path("items/search/", views.item_search, name="item_search"),
    path("returns/", views.returns_queue, name="returns"),
    path("returns/<int:pk>/resolve/", views.resolve_return, name="resolve_return"),
    path("design-events/", views.design_events, name="design_events"),
    path("design-events/<str:event_id>/", views.design_event, name="design_event"),
    path("projects/import/", import_views.import_projects, name="import_projects"),
    path("projects/import/<int:pk>/", import_views.import_run, name="import_run"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/lines/", views.lines, name="lines"),
    path("<str:number>/lines.csv", views.lines_export, {"fmt": "csv"}, name="lines_csv"),
    path("<str:number>/lines.xlsx", views.lines_export, {"fmt": "xlsx"}, name="lines_xlsx"),
    path("<str:number>/header/", views.edit_header, name="header"),
    path("<str:number>/notes/", views.add_note, name="add_note"),
    path("<str:number>/timeline/", views.timeline, name="timeline"),
    path("<str:number>/live/", views.order_live, name="live"),
    path("<str:number>/assign/", views.assign, name="assign"),
    path(
        "<str:number>/releases/<uuid:release_id>/resend/",
        views.resend_release,
        name="resend_release",
    ),
    path("<str:number>/<str:name>/", views.transition, name="transition"),
]
