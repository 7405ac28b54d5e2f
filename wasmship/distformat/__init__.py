"""The dist format, owned in one place: names, digests, the typed manifest, publish and lock.

Everything else reads and writes a dist through this package; it depends only on `errors`.
"""
