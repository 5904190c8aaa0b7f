"""Content negotiation that answers an unknown `?format=` with a 400 naming it (DRF answers 404)."""

from django.http import Http404
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation


class StrictFormatNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except Http404:
            known = ", ".join(renderer.format for renderer in renderers)
            raise ValidationError({"format": [f"Unknown format; this endpoint serves: {known}."]}) from None
