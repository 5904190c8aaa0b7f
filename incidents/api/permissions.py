"""Who may do what: anyone reads, editors write (API.md "Who may do what")."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from incidents.selectors import is_editor


class ReadAnyoneWriteEditors(BasePermission):
    """Safe methods for everyone; writes for editors. Without credentials DRF answers 401, else 403."""

    message = "Only editors may change the data."

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or is_editor(request.user)


class EditorsOnly(BasePermission):
    """Every method for editors only (history, geocoding)."""

    message = "Only editors may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return is_editor(request.user)
