"""Sessions kept in PostgreSQL and read through the Redis cache.

PostgreSQL stays the record (durable, and what sign-out everywhere deletes); Redis saves the
session query on every page. A Redis outage must neither take pages down nor bring an ended
session back, so, unlike Django's own cached_db store:

- a cache that cannot be read or written is skipped (logged) and the database answers;
- ending a session removes the cached copy first: if Redis cannot be reached the sign-out
  fails visibly and the session is still whole, rather than the database row going while a
  stale cached copy lives on to be served again once Redis is back.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbStore
from django.contrib.sessions.backends.db import SessionStore as DbStore
from django.core.cache.backends.base import BaseCache

logger = logging.getLogger(__name__)


class SessionStore(CachedDbStore):
    _cache: BaseCache  # set by Django's cached_db store; not in its type stubs

    def load(self) -> dict[str, Any]:
        try:
            data = self._cache.get(self.cache_key)
        except Exception:
            logger.warning("Session cache unavailable; reading the session from the database")
            data = None
        if data is not None:
            return data  # type: ignore[no-any-return]
        stored = self._get_session_from_db()  # type: ignore[attr-defined]
        if stored is None:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception:
            logger.warning("Session cache unavailable; the session was not cached")
        return data  # type: ignore[no-any-return]

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self._cache.delete(self.cache_key_prefix + session_key)  # raises if Redis is down
        DbStore.delete(self, session_key)
