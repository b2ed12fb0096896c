"""The bounded cache behind loaded definitions and form classes."""

from forms_app.formdefs.cache import BoundedCache


def test_builds_once_per_key_and_evicts_the_least_recently_used():
    built = []
    cache = BoundedCache(size=2)

    def get(key):
        return cache.get_or_build(key, lambda: built.append(key) or key.upper())

    assert get("a") == "A"
    assert get("a") == "A"
    get("b")
    get("a")  # "a" is now the most recent
    get("c")  # evicts "b"
    get("a")
    get("b")
    assert built == ["a", "b", "c", "b"]
