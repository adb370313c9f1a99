"""The Redis cache backend: Django's, with two costs of the hot paths taken out.

1. Django's client builds a new `redis.Redis` for every cache call (`get_client`); with
   redis-py 5+ that object is costly to make (~0.4 ms, more than the round trip it wraps on
   loopback), and a landing page makes several calls. One client per connection pool serves
   them all (clients are thread-safe; the pool keeps the connections).
2. `count_hits` counts a request against several rate-limit windows in one round trip (a Lua
   script: INCR and EXPIRE per window), where `add` + `incr` cost three per window (`incr`
   checks EXISTS first).
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _OneClientPerPool(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


# KEYS: window counters. ARGV: limit and seconds per key, in the same order.
_COUNT_HITS = """
local counts = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[2 * i])
  counts[i] = count
  if count > tonumber(ARGV[2 * i - 1]) then break end
end
return counts
"""


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _OneClientPerPool
        self._scripts = {}

    def count_hits(self, windows: list[tuple[str, int, int]]) -> list[int]:
        """Add one to each (key, limit, seconds) window counter in order, each kept `seconds`,
        stopping after the first that goes over its limit (the later ones are not counted, as
        with one `incr` after another); the counts, in one round trip."""
        client = self._cache.get_client(None, write=True)
        script = self._scripts.get(id(client))
        if script is None:
            script = self._scripts[id(client)] = client.register_script(_COUNT_HITS)
        keys = [self.make_and_validate_key(key) for key, _, _ in windows]
        args = [value for _, limit, seconds in windows for value in (limit, seconds)]
        return [int(count) for count in script(keys=keys, args=args, client=client)]
