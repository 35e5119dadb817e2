//go:build cgo

package memstore

import (
	"fmt"
	"sort"
	"time"

	"orderly.dev/go/orderly"
)

// The optional methods of storage version 3.

type histItem struct {
	kind    uint32
	payload []byte
	created int64
}

// BeginRead opens a transaction the core only reads in. Transactions here
// are exclusive anyway, so it is Begin: a read waits for an open writer,
// and so always sees one committed state.
func (h *Handle) BeginRead() (orderly.Txn, error) { return h.Begin() }

// HistoryAppend keeps one event of an order's history; CodeExists when
// (Group, Seq) is already kept.
func (h *Handle) HistoryAppend(tx orderly.Txn, in *orderly.HistoryItem) error {
	t, err := h.live(tx)
	if err != nil {
		return err
	}
	defer h.st.mu.Unlock()
	group := h.st.history[in.Group]
	if _, ok := group[in.Seq]; ok {
		return orderly.NewError(orderly.CodeExists, fmt.Sprintf("history %s #%d is already kept", in.Group, in.Seq))
	}
	if group == nil {
		group = map[uint32]histItem{}
		h.st.history[in.Group] = group
	}
	group[in.Seq] = histItem{kind: in.Kind, payload: append([]byte(nil), in.Payload...), created: ms(in.Created)}
	t.undo = append(t.undo, func() { delete(group, in.Seq) })
	return nil
}

// HistoryScan walks up to max events of group with Seq >= fromSeq in Seq order.
func (h *Handle) HistoryScan(tx orderly.Txn, group string, fromSeq uint32, max int,
	fn func(*orderly.HistoryItem) error) (int, error) {
	if _, err := h.live(tx); err != nil {
		return 0, err
	}
	var seqs []uint32
	for seq := range h.st.history[group] {
		if seq >= fromSeq {
			seqs = append(seqs, seq)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	if len(seqs) > max {
		seqs = seqs[:max]
	}
	items := make([]orderly.HistoryItem, len(seqs))
	for i, seq := range seqs {
		it := h.st.history[group][seq]
		items[i] = orderly.HistoryItem{Group: group, Seq: seq, Kind: it.kind, Payload: it.payload, Created: at(it.created)}
	}
	h.st.mu.Unlock()
	for i := range items {
		if err := fn(&items[i]); err != nil {
			return i, err
		}
	}
	return len(items), nil
}

// QueueNextDue is the least due of the queue's READY items and lease end
// of its LEASED ones; ok false when it has neither.
func (h *Handle) QueueNextDue(tx orderly.Txn, q orderly.Queue) (time.Time, bool, error) {
	if _, err := h.live(tx); err != nil {
		return time.Time{}, false, err
	}
	defer h.st.mu.Unlock()
	qu, err := h.st.queue(q)
	if err != nil {
		return time.Time{}, false, err
	}
	var next int64
	found := false
	for _, it := range qu.items {
		var due int64
		switch it.state {
		case orderly.ItemReady:
			due = it.due
		case orderly.ItemLeased:
			due = it.leaseUntil
		default:
			continue
		}
		if !found || due < next {
			next, found = due, true
		}
	}
	return at(next), found, nil
}

var (
	_ orderly.HistoryStorage = (*Handle)(nil)
	_ orderly.ReadTxnStorage = (*Handle)(nil)
	_ orderly.NextDueStorage = (*Handle)(nil)
)
