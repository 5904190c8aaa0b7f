"""Limit/offset paging that refuses bad values instead of silently using the default."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

from incidents.limits import MAX_OFFSET, MAX_PAGE_SIZE


class StrictLimitOffsetPagination(LimitOffsetPagination):
    """DRF treats `limit=0`, `limit=abc` and `limit=5000` as the default or the cap; API.md wants a 400."""

    default_limit = 50
    max_limit = MAX_PAGE_SIZE

    def get_limit(self, request) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        return self._parse(raw, self.limit_query_param, minimum=1, maximum=self.max_limit)

    def paginate_selection(self, request, selection) -> list[tuple[int, int]]:
        """The (id, version) pairs of the requested page of a `selectors.Selection`, counted and paged by
        its cheapest ways (the rollups, walking the ids)."""
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        self.count = selection.count()
        if self.count == 0 or self.offset > self.count:
            return []
        return selection.page(self.offset, self.limit, self.count)

    def get_offset(self, request) -> int:
        raw = request.query_params.get(self.offset_query_param)
        if raw is None:
            return 0
        return self._parse(raw, self.offset_query_param, minimum=0, maximum=MAX_OFFSET)

    @staticmethod
    def _parse(raw: str, name: str, *, minimum: int, maximum: int) -> int:
        try:
            value = int(raw) if len(raw) <= 20 else None  # longer cannot be in range (and int() of it is slow)
        except ValueError:
            value = None
        if value is None:
            raise ValidationError({name: [f"Enter a whole number; got {raw[:50]!r}."]})
        if not minimum <= value <= maximum:
            raise ValidationError({name: [f"Enter a number from {minimum} to {maximum}."]})
        return value
