"""Routes of /api/v1/."""

from rest_framework.routers import DefaultRouter

from incidents.api.views import IncidentViewSet

router = DefaultRouter()
router.register("incidents", IncidentViewSet, basename="incident")

urlpatterns = router.urls
