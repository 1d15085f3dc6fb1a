"""The object store: SQLite in the state folder (or in memory), safe for concurrent request threads.

Three tables hold everything the vault knows:

* ``objects`` - one row per named object of a kind (``"secrets"``, ``"certificates"``...), with its
  soft-delete lifecycle and a JSON ``meta`` dict for whatever the API module needs;
* ``versions`` - the versions of an object, in creation order, each a JSON dict;
* ``documents`` - single JSON documents by kind and key (contacts, issuers, pending operations).

Names are case-insensitive, as in the service. All access goes through :meth:`Store.transaction`,
which serialises writers and commits atomically (or rolls back on any exception), so a request that
fails half-way or a client that disconnects never leaves partial state behind.
"""

import contextlib
import dataclasses
import json
import sqlite3
import threading

ACTIVE = "active"
RECOVERING = "recovering"
DELETING = "deleting"
DELETED = "deleted"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, deleted INTEGER NOT NULL DEFAULT 0, meta TEXT NOT NULL,
    PRIMARY KEY (kind, name));
CREATE TABLE IF NOT EXISTS versions (
    kind TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, version TEXT NOT NULL COLLATE NOCASE, seq INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (kind, name, version));
CREATE INDEX IF NOT EXISTS versions_in_order ON versions (kind, name, seq);
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL, key TEXT NOT NULL COLLATE NOCASE, data TEXT NOT NULL,
    PRIMARY KEY (kind, key));
"""


@dataclasses.dataclass
class StoredObject:
    """A named object; ``meta`` carries lifecycle times (``deletedDate``, ``scheduledPurgeDate``...) and API data."""

    kind: str
    name: str
    deleted: bool
    meta: dict

    def state(self, now):
        """ACTIVE, RECOVERING, DELETING or DELETED: deletion and recovery finish a configured delay after they start."""
        if self.deleted:
            return DELETING if now < self.meta.get("deletion_done_at", 0) else DELETED
        return RECOVERING if now < self.meta.get("recovery_done_at", 0) else ACTIVE


@dataclasses.dataclass
class StoredVersion:
    name: str
    version: str
    seq: int
    data: dict


class Store:
    """Open with a database path, or ``":memory:"`` for an ephemeral vault."""

    def __init__(self, path):
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._depth = 0
        if path != ":memory:":
            self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=FULL")
        self._connection.executescript(_SCHEMA)

    @contextlib.contextmanager
    def transaction(self):
        """Yield a :class:`Transaction`; nested use in the same thread joins the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield Transaction(self._connection)
                finally:
                    self._depth -= 1
                return
            self._connection.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield Transaction(self._connection)
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            else:
                self._connection.execute("COMMIT")
            finally:
                self._depth = 0

    def close(self):
        # Taking the lock waits for a transaction another thread is in the middle of.
        with self._lock:
            self._connection.close()


class Transaction:
    """Reads and writes inside one atomic transaction. JSON values are copied in and out."""

    def __init__(self, connection):
        self._db = connection

    def get_object(self, kind, name):
        row = self._db.execute("SELECT name, deleted, meta FROM objects WHERE kind = ? AND name = ?", (kind, name)).fetchone()
        return None if row is None else StoredObject(kind, row[0], bool(row[1]), json.loads(row[2]))

    def list_objects(self, kind):
        """Every object of a kind, deleted or not, ordered by name (case-insensitively)."""
        rows = self._db.execute("SELECT name, deleted, meta FROM objects WHERE kind = ? ORDER BY name", (kind,)).fetchall()
        return [StoredObject(kind, row[0], bool(row[1]), json.loads(row[2])) for row in rows]

    def create_object(self, kind, name, meta=None):
        self._db.execute("INSERT INTO objects (kind, name, deleted, meta) VALUES (?, ?, 0, ?)", (kind, name, json.dumps(meta or {})))
        return StoredObject(kind, name, False, dict(meta or {}))

    def update_meta(self, kind, name, meta):
        self._db.execute("UPDATE objects SET meta = ? WHERE kind = ? AND name = ?", (json.dumps(meta), kind, name))

    def mark_deleted(self, kind, name, now, delay_seconds, retention_days):
        """Soft-delete: the object becomes DELETING, then DELETED ``delay_seconds`` later. Returns its meta."""
        meta = self.get_object(kind, name).meta
        meta.pop("recovery_done_at", None)
        meta.update(deletedDate=int(now), scheduledPurgeDate=int(now) + retention_days * 86400, deletion_done_at=now + delay_seconds)
        self._db.execute("UPDATE objects SET deleted = 1, meta = ? WHERE kind = ? AND name = ?", (json.dumps(meta), kind, name))
        return meta

    def mark_recovered(self, kind, name, now, delay_seconds):
        """Undo a soft-delete: the object is RECOVERING, then ACTIVE ``delay_seconds`` later. Returns its meta."""
        meta = self.get_object(kind, name).meta
        for key in ("deletedDate", "scheduledPurgeDate", "deletion_done_at"):
            meta.pop(key, None)
        meta["recovery_done_at"] = now + delay_seconds
        self._db.execute("UPDATE objects SET deleted = 0, meta = ? WHERE kind = ? AND name = ?", (json.dumps(meta), kind, name))
        return meta

    def purge(self, kind, name):
        """Remove an object and all its versions for good."""
        self._db.execute("DELETE FROM versions WHERE kind = ? AND name = ?", (kind, name))
        self._db.execute("DELETE FROM objects WHERE kind = ? AND name = ?", (kind, name))

    def add_version(self, kind, name, version, data):
        """Append a version (the object must exist); it becomes the latest."""
        row = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM versions WHERE kind = ? AND name = ?", (kind, name)).fetchone()
        self._db.execute("INSERT INTO versions (kind, name, version, seq, data) VALUES (?, ?, ?, ?, ?)",
                         (kind, name, version, row[0] + 1, json.dumps(data)))
        return StoredVersion(name, version, row[0] + 1, dict(data))

    def replace_version(self, kind, name, version, data):
        self._db.execute("UPDATE versions SET data = ? WHERE kind = ? AND name = ? AND version = ?", (json.dumps(data), kind, name, version))

    def get_version(self, kind, name, version):
        row = self._db.execute("SELECT name, version, seq, data FROM versions WHERE kind = ? AND name = ? AND version = ?",
                               (kind, name, version)).fetchone()
        return None if row is None else StoredVersion(row[0], row[1], row[2], json.loads(row[3]))

    def latest_version(self, kind, name):
        row = self._db.execute("SELECT name, version, seq, data FROM versions WHERE kind = ? AND name = ? ORDER BY seq DESC LIMIT 1",
                               (kind, name)).fetchone()
        return None if row is None else StoredVersion(row[0], row[1], row[2], json.loads(row[3]))

    def list_versions(self, kind, name):
        """All versions, oldest first."""
        rows = self._db.execute("SELECT name, version, seq, data FROM versions WHERE kind = ? AND name = ? ORDER BY seq",
                                (kind, name)).fetchall()
        return [StoredVersion(row[0], row[1], row[2], json.loads(row[3])) for row in rows]

    def get_document(self, kind, key):
        row = self._db.execute("SELECT data FROM documents WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return None if row is None else json.loads(row[0])

    def put_document(self, kind, key, data):
        self._db.execute("INSERT INTO documents (kind, key, data) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data",
                         (kind, key, json.dumps(data)))

    def delete_document(self, kind, key):
        self._db.execute("DELETE FROM documents WHERE kind = ? AND key = ?", (kind, key))

    def list_documents(self, kind):
        """``[(key, data)]`` ordered by key."""
        rows = self._db.execute("SELECT key, data FROM documents WHERE kind = ? ORDER BY key", (kind,)).fetchall()
        return [(row[0], json.loads(row[1])) for row in rows]
