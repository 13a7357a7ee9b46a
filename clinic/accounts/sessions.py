"""Sessions kept in PostgreSQL and read through the Redis cache.

PostgreSQL stays the record (durable, and what sign-out everywhere deletes); Redis saves the
session query on every page. A Redis outage must neither take pages down (sign-in and sign-out
included) nor bring an ended session back once Redis returns, so, unlike Django's own cached_db
store, every cache operation here is guarded: a cache that cannot be read, checked or written is
skipped (logged, without the key) and the database answers.

Ending a session while Redis is unreachable deletes the row but cannot remove the cached copy,
which would be served again, signed in, as soon as Redis is back (after a network partition, or
a Redis that keeps its data across a restart). Three designs were weighed:

- a table of keys whose copies still need removing, drained when Redis returns: every page
  would have to ask PostgreSQL whether the table is empty before trusting the cache, which is
  the very query the cache exists to save; drained by a job instead, a copy is served until
  the job runs;
- checking each cached copy against its database row: the same query on every page;
- a counter on the user row, `User.session_generation`, bumped in the transaction that deletes
  the row, and mixed into the user's session auth hash (see User.get_session_auth_hash).

The third is what this store does. Django already loads the user and compares the session's
stored hash with the user's on every request, so the check costs no query at all; a stale copy
fails it whatever way it got back into Redis (a partition, a flapping connection, a copy written
by a slow reader after the delete), and Django then flushes it, which removes it from the cache
now that Redis answers. The price: ending one session during an outage ends all of that user's
sessions, which is what Myelin's sign-out does anyway (LogoutView ends them everywhere). A copy
of an anonymous session (no user) holds nothing that grants access, so it needs no counter.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbStore
from django.contrib.sessions.backends.db import SessionStore as DbStore
from django.core.cache.backends.base import BaseCache
from django.db import connection, transaction
from django.db.models import F

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

    def exists(self, session_key: str | None) -> bool:
        # Asked for every new session key (sign-in rotates the key). A key with a cached copy
        # counts as taken even if its row is gone, so a new session never inherits a stale copy.
        if not session_key:
            return False
        try:
            if (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception:
            logger.warning("Session cache unavailable; checking the session key in the database")
        return DbStore.exists(self, session_key)

    def save(self, must_create: bool = False) -> None:
        DbStore.save(self, must_create)
        try:
            self._cache.set(self.cache_key, self._session, self.get_expiry_age())  # type: ignore[attr-defined]
        except Exception:
            # A copy left in the cache from before is older than the row: at worst it shows a
            # session as it was a moment ago (an earlier clock, a step of MFA still to do).
            logger.warning("Session cache unavailable; the session was saved to the database only")

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        owner_id = self._owner_of(session_key)
        DbStore.delete(self, session_key)
        self._evict(session_key, owner_id)
        if connection.in_atomic_block:
            # A reader that missed the cache may have read the row before our delete commits
            # and cached it again; take that copy out too once the delete is visible.
            transaction.on_commit(lambda: self._evict(session_key, owner_id))

    def _owner_of(self, session_key: str) -> int | None:
        """The user a session is signed in as, read from its row before the row goes."""
        data = (
            self.model.objects.filter(session_key=session_key)
            .values_list("session_data", flat=True)
            .first()
        )
        if data is None:
            return None
        user_id = self.decode(data).get(SESSION_KEY)
        return int(user_id) if user_id is not None else None

    def _evict(self, session_key: str, owner_id: int | None) -> None:
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:
            if owner_id is None:
                logger.warning(
                    "Session cache unavailable; a copy of a session with no user remains"
                )
                return
            # The copy stays in Redis; a new generation makes its auth hash stale, so it can
            # never sign anyone in again (see the module docstring).
            from clinic.accounts.models import User

            User.objects.filter(pk=owner_id).update(session_generation=F("session_generation") + 1)
            logger.warning(
                "Session cache unavailable; user %s's cached sessions were revoked by generation",
                owner_id,
            )
