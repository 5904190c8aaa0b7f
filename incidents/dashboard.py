"""The reference dashboard: a page that draws the public JSON (`stats/`, `countries/`, the incident list
and its GeoJSON) in the browser. The server only sends the page; every number on it comes from the API,
so the page is also a worked example for dashboard builders."""

from django.conf import settings
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.generic import TemplateView

from incidents import releases


class DashboardView(TemplateView):
    template_name = "dashboard/dashboard.html"
    embed = False

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "embed": self.embed,
            "latest_release": releases.latest(),
            "tile_url": settings.MAP_TILE_URL,
            # the map fetches at most this many incidents at once: an anonymous export's cap
            "points_max": settings.EXPORT_ANON_MAX_ROWS,
            "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
        }


dashboard = DashboardView.as_view()
# For iframes on other sites: no header or embed code, and framing allowed (the rest of the site denies it).
dashboard_embed = xframe_options_exempt(DashboardView.as_view(embed=True))
