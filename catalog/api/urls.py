from rest_framework.routers import SimpleRouter

from catalog.api import views

router = SimpleRouter()
router.register("items", views.ItemViewSet, basename="item")
router.register("kits", views.KitViewSet, basename="kit")

urlpatterns = router.urls
