"""Per-owner storage for templates, RAG files (+ their text and chunks) and batches.

Records are plain JSON-able dicts kept in memory. With a data directory, every change is also written
through to SQLite (stdlib ``sqlite3``) and everything is loaded back at start-up, so a restarted
gateway still knows its files, templates and batches. In memory mode nothing touches the disk.

Ordering: every record remembers an insertion sequence number (``_seq``) so listings can be "newest
first" even when several records share a creation second.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
from typing import Any, Dict, List, Optional, Tuple

Record = Dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    owner TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class DataDirInUseError(RuntimeError):
    """Another gateway process (or ``Store``) already uses this data directory."""


class DataDirLock:
    """An exclusive, non-blocking lock on ``<data_dir>/gateway.lock`` that holds the owner's pid.

    The operating system drops the lock when its holder exits, even on a crash, so a stale file left
    behind never blocks a new gateway; only a live holder does.
    """

    def __init__(self, fd: int) -> None:
        self._fd: Optional[int] = fd

    @classmethod
    def acquire(cls, data_dir: str) -> DataDirLock:
        path = os.path.join(data_dir, LOCK_FILE)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock_fd(fd)
        except OSError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"pid {holder}" if holder else "another process"
            raise DataDirInUseError(
                f"the data directory {data_dir!r} is already in use by another local gateway ({who}); "
                "stop that gateway or pass a different --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode("ascii"))
        return cls(fd)

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.ftruncate(fd, 0)
            except OSError:  # pragma: no cover - nothing useful to do
                pass
            os.close(fd)  # closing the descriptor releases the lock


LOCK_FILE = "gateway.lock"


def _lock_fd(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _read_pid(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode("ascii", "replace").strip()
    except OSError:  # pragma: no cover - e.g. the byte range is locked on Windows
        return ""
    return text if text.isdigit() else ""


class Store:
    """Records by kind (``"template"``, ``"file"``, ``"file_text"``, ``"chunks"``, ``"batch"``)."""

    def __init__(self, data_dir: Optional[str] = None) -> None:
        self._lock = threading.RLock()
        self._kinds: Dict[str, Dict[str, Tuple[str, Record]]] = {}
        self._meta: Dict[str, str] = {}
        self._seq = 0
        self._db: Optional[sqlite3.Connection] = None
        self._dir_lock: Optional[DataDirLock] = None
        if data_dir is not None:
            os.makedirs(data_dir, exist_ok=True)
            self._dir_lock = DataDirLock.acquire(data_dir)
            try:
                self._db = sqlite3.connect(os.path.join(data_dir, "gateway.sqlite3"), check_same_thread=False)
                self._db.executescript(_SCHEMA)
                self._load()
            except BaseException:
                self.close()
                raise

    @property
    def persistent(self) -> bool:
        return self._db is not None

    def _load(self) -> None:
        assert self._db is not None
        for kind, ident, owner, seq, data in self._db.execute(
            "SELECT kind, id, owner, seq, data FROM records ORDER BY seq"
        ):
            record = json.loads(data)
            record["_seq"] = seq
            self._kinds.setdefault(kind, {})[ident] = (owner, record)
            self._seq = max(self._seq, seq)
        self._meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            if self._dir_lock is not None:
                self._dir_lock.release()
                self._dir_lock = None

    # -- records ------------------------------------------------------------------------------------
    def put(self, kind: str, owner: str, ident: str, record: Record) -> Record:
        """Insert or replace a record (the same dict object is kept and returned)."""
        with self._lock:
            table = self._kinds.setdefault(kind, {})
            if "_seq" not in record:
                previous = table.get(ident)
                if previous is not None and "_seq" in previous[1]:
                    record["_seq"] = previous[1]["_seq"]
                else:
                    self._seq += 1
                    record["_seq"] = self._seq
            table[ident] = (owner, record)
            if self._db is not None:
                data = json.dumps({k: v for k, v in record.items() if k != "_seq"})
                self._db.execute(
                    "INSERT OR REPLACE INTO records (kind, id, owner, seq, data) VALUES (?, ?, ?, ?, ?)",
                    (kind, ident, owner, record["_seq"], data),
                )
                self._db.commit()
            return record

    def get(self, kind: str, ident: str) -> Optional[Tuple[str, Record]]:
        """``(owner, record)`` whoever owns it, or ``None``."""
        with self._lock:
            return self._kinds.get(kind, {}).get(ident)

    def get_owned(self, kind: str, owner: str, ident: str) -> Optional[Record]:
        found = self.get(kind, ident)
        if found is None or found[0] != owner:
            return None
        return found[1]

    def list(self, kind: str, owner: str) -> List[Record]:
        """The owner's records of a kind, newest first."""
        with self._lock:
            items = [r for o, r in self._kinds.get(kind, {}).values() if o == owner]
        items.sort(key=lambda r: r["_seq"], reverse=True)
        return items

    def delete(self, kind: str, ident: str) -> None:
        with self._lock:
            self._kinds.get(kind, {}).pop(ident, None)
            if self._db is not None:
                self._db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (kind, ident))
                self._db.commit()

    def clear(self) -> int:
        """Forget every record of every owner (templates, files, batches); returns how many.

        The meta values (the signing key) stay.
        """
        with self._lock:
            count = sum(len(table) for table in self._kinds.values())
            self._kinds.clear()
            if self._db is not None:
                self._db.execute("DELETE FROM records")
                self._db.commit()
            return count

    # -- meta ---------------------------------------------------------------------------------------
    def meta(self, key: str) -> Optional[str]:
        with self._lock:
            return self._meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._meta[key] = value
            if self._db is not None:
                self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
                self._db.commit()


def public(record: Record) -> Record:
    """A record without its private (underscore) keys, ready to send."""
    return {k: v for k, v in record.items() if not k.startswith("_")}
