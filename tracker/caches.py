"""The local shared cache: diskcache's Django backend, kept open between requests.

Django closes every cache when a request ends; diskcache's backend then closes its SQLite connections, and
the next request opens and configures them again (a millisecond a request, more than the cache operations
themselves). Its connections are per thread and safe to keep, as a Redis client keeps its pool.
"""

from diskcache import DjangoCache


class PersistentDiskCache(DjangoCache):
    def close(self, **kwargs):
        """Keep the connections: they are reused by this thread's next request."""
