"""Limit/offset paging that refuses bad values instead of silently using the default."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_PAGE_SIZE = 1000


class StrictLimitOffsetPagination(LimitOffsetPagination):
    """DRF treats `limit=0`, `limit=abc` and `limit=5000` as the default or the cap; API.md wants a 400."""

    default_limit = 50
    max_limit = MAX_PAGE_SIZE

    def get_limit(self, request) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        return self._parse(raw, self.limit_query_param, minimum=1, maximum=self.max_limit)

    def get_offset(self, request) -> int:
        raw = request.query_params.get(self.offset_query_param)
        if raw is None:
            return 0
        return self._parse(raw, self.offset_query_param, minimum=0, maximum=None)

    @staticmethod
    def _parse(raw: str, name: str, *, minimum: int, maximum: int | None) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError({name: [f"Enter a whole number; got {raw[:50]!r}."]}) from None
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
            raise ValidationError({name: [f"Enter a number {bounds}."]})
        return value
