"""The shared cache fails open: while Redis cannot be reached it is an empty cache, so
that nothing that only counts or merges in it (throttles, circuit breakers) fails."""

import logging

from django.core.cache import cache

from oms.cache import FailOpenRedisCache


def test_the_cache_works_through_redis_while_it_answers(redis_cache):
    assert cache.add("k", 1, timeout=30) is True
    assert cache.add("k", 2, timeout=30) is False
    assert cache.incr("k") == 2
    assert cache.get("k") == 2


def test_with_redis_down_the_cache_is_empty_and_every_write_succeeds(redis_cache, caplog):
    cache.set("kept", "before", timeout=30)
    redis_cache.stop()

    with caplog.at_level(logging.WARNING, logger="oms.outages"):
        assert cache.get("kept", "missing") == "missing"
        assert cache.get_many(["kept"]) == {}
        assert cache.has_key("kept") is False
        assert cache.add("k", 1, timeout=30) is True  # a throttle's first request: allowed
        assert cache.incr("k") == 1
        assert cache.set("k", 1) is None
        assert cache.get_or_set("g", "computed") == "computed"
        cache.delete("k")
        cache.delete_many(["k"])
        cache.clear()

    # one warning for the whole outage, not one per call
    warnings = [r for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert len(warnings) == 1
    assert "The cache (Redis)" in warnings[0].getMessage()


def test_the_cache_is_used_again_when_redis_is_back_and_the_end_of_the_outage_is_logged(
    redis_cache, caplog
):
    redis_cache.stop()
    assert cache.get("k") is None
    redis_cache.start()

    with caplog.at_level(logging.WARNING, logger="oms.outages"):
        assert cache.add("k", 1, timeout=30) is True
        assert cache.add("k", 1, timeout=30) is False

    assert any("answers again after" in r.getMessage() for r in caplog.records)
    assert FailOpenRedisCache.outage.down_since is None


def test_after_a_failure_redis_is_not_tried_again_until_the_retry_window_ends(
    redis_cache, settings
):
    settings.OMS_REDIS_RETRY_SECONDS = 60
    redis_cache.stop()
    assert cache.get("k") is None
    redis_cache.start()

    # Redis is back, but this process waits out its window: the cache stays empty
    assert cache.add("k", 1) is True
    assert cache.add("k", 1) is True
    assert cache.get("k") is None
