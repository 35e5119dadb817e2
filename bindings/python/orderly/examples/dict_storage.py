"""A storage written in Python on plain dicts, held to the same conformance
suite as the C adapters (tests/test_conformance.py).

``DictStore`` is the store (what would be a database); each
``DictStorage(store)`` is one handle on it (what would be a connection).
Records and idempotency marks written in a transaction are buffered in it
and applied at commit, so other transactions never see them early and a
crash simply drops them; queue pushes and history appends are buffered the
same way, and the transaction's own reads see them. Claims, finishes and
resets act at once with an undo log, so two workers can never claim one
item. It implements the optional methods of storage version 3 too (order
history, read transactions, the next due instant). Not thread-safe: one
thread per store.
"""
import dataclasses
from typing import Dict, Iterator, List, Optional, Set, Tuple

import orderly
from orderly import (Conflict, Exists, HistoryItem, IdemRecord, InFlight, NotFound, QueueItem,
                     QueueStats)

READY, LEASED, DONE, DEAD = 0, 1, 2, 3
QUEUES = (1, 2, 3)


@dataclasses.dataclass
class _Txn:
    saves: Dict[str, Tuple[bytes, int, int]] = dataclasses.field(default_factory=dict)
    pushes: List[Tuple[int, QueueItem]] = dataclasses.field(default_factory=list)
    marks: Dict[str, IdemRecord] = dataclasses.field(default_factory=dict)
    undo: List[Tuple[QueueItem, Tuple[int, int, int, int, int]]] = dataclasses.field(
        default_factory=list)
    purged: List[Tuple[int, int]] = dataclasses.field(default_factory=list)
    history: Dict[Tuple[str, int], HistoryItem] = dataclasses.field(default_factory=dict)
    dead: bool = False


class DictStore:
    """The committed state shared by every handle."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Wipes everything (no transaction may be open)."""
        self.records: Dict[str, Tuple[bytes, int]] = {}
        self.queues: Dict[int, Dict[int, QueueItem]] = {q: {} for q in QUEUES}
        self.next_id: Dict[int, int] = {q: 0 for q in QUEUES}
        self.marks: Dict[str, IdemRecord] = {}
        self.history: Dict[Tuple[str, int], HistoryItem] = {}
        self.purged: Set[Tuple[int, int]] = set()   # (queue, id) purged by open transactions
        self.last_token = 0
        self.open: List[_Txn] = []

    def crash(self) -> None:
        """Every open transaction's work vanishes; commits stay."""
        for t in self.open:
            _discard(self, t)
            t.dead = True
        self.open = []


def _saved(it: QueueItem) -> Tuple[int, int, int, int, int]:
    return (it.state, it.attempts, it.due, it.lease_token, it.lease_until)


def _discard(store: DictStore, t: _Txn) -> None:
    for it, (state, attempts, due, token, until) in reversed(t.undo):
        it.state, it.attempts, it.due, it.lease_token, it.lease_until = (
            state, attempts, due, token, until)
    store.purged.difference_update(t.purged)
    t.undo.clear()
    t.purged.clear()


class DictStorage:
    """One handle on a DictStore, implementing orderly.Storage."""

    def __init__(self, store: Optional[DictStore] = None) -> None:
        self.store = store if store is not None else DictStore()

    # ---- transactions ----

    def begin(self) -> _Txn:
        t = _Txn()
        self.store.open.append(t)
        return t

    def _check(self, t: _Txn) -> None:
        if t.dead:
            raise orderly.StorageError("transaction lost in a crash")

    def commit(self, t: _Txn) -> None:
        s = self.store
        try:
            self._check(t)
            for key, (_, _, expected) in t.saves.items():
                have = s.records[key][1] if key in s.records else 0
                if have != expected:
                    raise Conflict("record '%s' changed since it was read" % key)
            for key in t.marks:
                if key in s.marks:
                    raise Conflict("idempotency key '%s' committed concurrently" % key)
        except BaseException:
            self.rollback(t)
            raise
        for key, (data, version, _) in t.saves.items():
            s.records[key] = (data, version)
        for queue, it in t.pushes:
            s.queues[queue][it.id] = it
        s.marks.update(t.marks)
        s.history.update(t.history)
        for queue, id in t.purged:
            del s.queues[queue][id]
        s.purged.difference_update(t.purged)
        s.open.remove(t)

    def rollback(self, t: Optional[_Txn]) -> None:
        if t is None or t.dead:
            return
        _discard(self.store, t)
        if t in self.store.open:
            self.store.open.remove(t)

    # ---- records ----

    def load(self, t: _Txn, key: str) -> Tuple[bytes, int]:
        self._check(t)
        if key in t.saves:
            data, version, _ = t.saves[key]
            return data, version
        if key not in self.store.records:
            raise NotFound("no record '%s'" % key)
        return self.store.records[key]

    def save(self, t: _Txn, key: str, data: bytes, expected_version: int) -> None:
        self._check(t)
        if key in t.saves:
            have, first = t.saves[key][1], t.saves[key][2]
        else:
            have = self.store.records[key][1] if key in self.store.records else 0
            first = expected_version
        if have != expected_version:
            raise Conflict("record '%s' is at version %d, expected %d"
                           % (key, have, expected_version))
        t.saves[key] = (data, expected_version + 1, first)

    def scan(self, t: _Txn, after: str, max: int) -> Iterator[Tuple[str, bytes, int]]:
        self._check(t)
        keys = sorted(k for k in self.store.records if k > after)[:max]
        return ((k,) + self.store.records[k] for k in keys)  # type: ignore[misc]

    # ---- queues ----

    def _queue(self, queue: int) -> Dict[int, QueueItem]:
        if queue not in QUEUES:
            raise orderly.InvalidArgument("unknown queue %d" % queue)
        return self.store.queues[queue]

    def _live(self, queue: int, it: QueueItem) -> bool:
        return (queue, it.id) not in self.store.purged

    def _view(self, t: _Txn, queue: int) -> Dict[int, QueueItem]:
        """The queue as t sees it: the committed items and its own pushes."""
        q = self._queue(queue)
        own = [it for qq, it in t.pushes if qq == queue]
        if not own:
            return q
        view = dict(q)
        view.update((it.id, it) for it in own)
        return view

    def _item(self, t: _Txn, queue: int, id: int) -> QueueItem:
        it = self._view(t, queue).get(id)
        if it is None or not self._live(queue, it):
            raise NotFound("no item %d in queue %d" % (id, queue))
        return it

    def queue_push(self, t: _Txn, queue: int, item: QueueItem) -> int:
        self._check(t)
        self._queue(queue)
        self.store.next_id[queue] += 1
        new = dataclasses.replace(item, id=self.store.next_id[queue], state=READY, attempts=0,
                                  lease_token=0, lease_until=0)
        t.pushes.append((queue, new))
        return new.id

    def queue_claim(self, t: _Txn, queue: int, now: int, max: int, max_attempts: int,
                    lease_until: int) -> Tuple[int, List[QueueItem]]:
        self._check(t)
        q = self._view(t, queue)
        token = self.store.last_token + 1
        blocked = set()
        out: List[QueueItem] = []
        for id in sorted(q):
            if len(out) >= max:
                break
            it = q[id]
            if not self._live(queue, it) or it.state not in (READY, LEASED):
                continue
            due = it.due <= now if it.state == READY else it.lease_until <= now
            if not due or it.group in blocked:
                if it.group:
                    blocked.add(it.group)
                continue
            t.undo.append((it, _saved(it)))
            claimed_from = it.state
            it.state, it.lease_token, it.lease_until = LEASED, token, lease_until
            if it.attempts < max_attempts:
                it.attempts += 1
            self.store.last_token = token
            out.append(dataclasses.replace(it, state=claimed_from))
        return (token if out else 0), out

    def queue_finish(self, t: _Txn, queue: int, id: int, token: int, state: int, due: int,
                     attempts: int) -> None:
        self._check(t)
        if state not in (READY, DONE, DEAD):
            raise orderly.InvalidArgument("finish state %d is not READY, DONE or DEAD" % state)
        it = self._item(t, queue, id)
        if it.state != LEASED or it.lease_token != token:
            raise Conflict("item %d: stale lease token %d" % (id, token))
        t.undo.append((it, _saved(it)))
        it.state, it.due, it.attempts = state, due, attempts

    def queue_reset(self, t: _Txn, queue: int, id: int, state: int, due: int) -> None:
        self._check(t)
        if not READY <= state <= DEAD:
            raise orderly.InvalidArgument("unknown item state %d" % state)
        it = self._item(t, queue, id)
        t.undo.append((it, _saved(it)))
        it.state, it.due = state, due
        if state == READY:
            it.attempts = 0

    def queue_get(self, t: _Txn, queue: int, id: int) -> QueueItem:
        self._check(t)
        return self._item(t, queue, id)

    def queue_scan(self, t: _Txn, queue: int, state: int, after_id: int,
                   max: int) -> List[QueueItem]:
        self._check(t)
        q = self._view(t, queue)
        out: List[QueueItem] = []
        for id in sorted(q):
            it = q[id]
            if id <= after_id or not self._live(queue, it) or (state >= 0 and it.state != state):
                continue
            if len(out) >= max:
                break
            out.append(it)
        return out

    def queue_purge(self, t: _Txn, queue: int, before: int, max: int) -> int:
        self._check(t)
        q = self._queue(queue)
        n = 0
        for id in sorted(q):
            it = q[id]
            if n >= max:
                break
            if self._live(queue, it) and it.state == DONE and it.due <= before:
                self.store.purged.add((queue, id))
                t.purged.append((queue, id))
                n += 1
        return n

    def queue_stats(self, t: _Txn, queue: int, now: int) -> QueueStats:
        self._check(t)
        st = QueueStats()
        for it in self._view(t, queue).values():
            if not self._live(queue, it):
                continue
            if it.state == READY:
                st.ready += 1
                st.due += it.due <= now
            elif it.state == LEASED:
                if it.lease_until > now:
                    st.leased += 1
                else:
                    st.lease_expired += 1
            elif it.state == DONE:
                st.done += 1
            else:
                st.dead += 1
            if it.state in (READY, LEASED) and (st.oldest_pending == 0
                                                or it.created < st.oldest_pending):
                st.oldest_pending = it.created
        return st

    def queue_next_due(self, t: _Txn, queue: int) -> Optional[int]:
        self._check(t)
        dues = [it.due if it.state == READY else it.lease_until
                for it in self._view(t, queue).values()
                if self._live(queue, it) and it.state in (READY, LEASED)]
        return min(dues) if dues else None

    # ---- read transactions and history (storage version 3) ----

    def begin_read(self) -> _Txn:
        """One store, one thread: a read transaction is a transaction in
        which the core writes nothing, so it never holds anything back."""
        return self.begin()

    def history_append(self, t: _Txn, item: HistoryItem) -> None:
        self._check(t)
        key = (item.group, item.seq)
        if key in t.history or key in self.store.history:
            raise Exists("history %s #%d is already kept" % key)
        t.history[key] = item

    def history_scan(self, t: _Txn, group: str, from_seq: int, max: int) -> List[HistoryItem]:
        self._check(t)
        seqs = sorted({seq for g, seq in list(self.store.history) + list(t.history)
                       if g == group and seq >= from_seq})[:max]
        return [t.history.get((group, seq)) or self.store.history[(group, seq)] for seq in seqs]

    # ---- idempotency ----

    def _held_elsewhere(self, t: _Txn, key: str) -> bool:
        return any(o is not t and key in o.marks for o in self.store.open)

    def idem_get(self, t: _Txn, key: str, now: int) -> IdemRecord:
        self._check(t)
        rec = t.marks.get(key)
        if rec is None:
            rec = self.store.marks.get(key)
            if rec is not None and rec.expires <= now:
                rec = None
        if rec is None:
            if self._held_elsewhere(t, key):
                raise InFlight("key '%s' is held by an open transaction" % key)
            raise NotFound("no mark '%s'" % key)
        return rec

    def idem_put(self, t: _Txn, key: str, now: int, rec: IdemRecord) -> None:
        self._check(t)
        old = self.store.marks.get(key)
        if key in t.marks or (old is not None and old.expires > now):
            raise Exists("key '%s' already marked" % key)
        if self._held_elsewhere(t, key):
            raise InFlight("key '%s' is held by an open transaction" % key)
        if old is not None:
            del self.store.marks[key]
        t.marks[key] = rec

    def idem_purge(self, t: _Txn, now: int, max: int) -> int:
        self._check(t)
        victims = [k for k, r in self.store.marks.items() if r.expires <= now][:max]
        for k in victims:
            del self.store.marks[k]
        return len(victims)


class DictTarget:
    """The conformance target for DictStorage (orderly.conformance.Target)."""

    def __init__(self) -> None:
        self.store = DictStore()

    def open(self) -> DictStorage:
        return DictStorage(self.store)

    def crash(self, storage: DictStorage) -> DictStorage:
        self.store.crash()
        return storage

    def close(self, storage: DictStorage) -> None:
        pass

    def reset(self) -> None:
        self.store.reset()
