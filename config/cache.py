"""The Redis cache backend: Django's, with two costs of the hot paths taken out.

1. Django's client builds a new `redis.Redis` for every cache call (`get_client`); with
   redis-py 5+ that object is costly to make (~0.4 ms, more than the round trip it wraps on
   loopback), and a landing page makes several calls. One client per connection pool serves
   them all (clients are thread-safe; the pool keeps the connections).
2. `count_hits` counts a request against several rate-limit windows in one round trip (a Lua
   script: INCR and EXPIRE per window), where `add` + `incr` cost three per window (`incr`
   checks EXISTS first).

And one thing Django's cache API has no word for: `take_slot`, a sliding-window slot shared by
every process (the Discord REST clients' share of the bot token's global rate limit).
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

# KEYS: the window (a sorted set of send times in ms). ARGV: limit, window ms, a unique member.
# Redis's own clock, so every process counts on the same one. Returns 0 (a slot was taken) or
# the ms until the oldest slot frees.
_TAKE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _OneClientPerPool
        self._scripts = {}

    def _script(self, source: str):
        client = self._cache.get_client(None, write=True)
        key = (id(client), source)
        script = self._scripts.get(key)
        if script is None:
            script = self._scripts[key] = client.register_script(source)
        return script, client

    def take_slot(self, key: str, limit: int, seconds: float, member: str) -> float:
        """Take one of `limit` slots in a sliding window of `seconds` shared through Redis:
        0.0, or the seconds until one frees. `member` must be unique per call."""
        script, client = self._script(_TAKE_SLOT)
        keys = [self.make_and_validate_key(key)]
        waited = script(keys=keys, args=[limit, int(seconds * 1000), member], client=client)
        return int(waited) / 1000

    def count_hits(self, windows: list[tuple[str, int, int]]) -> list[int]:
        """Add one to each (key, limit, seconds) window counter in order, each kept `seconds`,
        stopping after the first that goes over its limit (the later ones are not counted, as
        with one `incr` after another); the counts, in one round trip."""
        script, client = self._script(_COUNT_HITS)
        keys = [self.make_and_validate_key(key) for key, _, _ in windows]
        args = [value for _, limit, seconds in windows for value in (limit, seconds)]
        return [int(count) for count in script(keys=keys, args=args, client=client)]
