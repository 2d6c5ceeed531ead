package caddymodule

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/hookgate/caddy-hookgate/limiter"
)

// bodyChunk is the most a body buffer allocates ahead of the bytes that
// arrived: the first segment, and every segment after it, is at most this
// large, and a new one is allocated only when the previous ones are full.
// A declared Content-Length only makes the first segment smaller, never
// larger, so what a caller declares costs nothing until it sends it.
const bodyChunk = 64 << 10

// chunkPool recycles full-size segments of bodies that nothing else
// references any more (refused bodies, and the parts of a long body once
// copied into one piece), so a flood of bodies that fail verification does
// not drive the garbage collector.
var chunkPool = sync.Pool{New: func() any { return new([bodyChunk]byte) }}

// readResult is how reading a body ended.
type readResult uint8

const (
	readDone       readResult = iota // the whole body arrived, within the limit
	readTooLarge                     // more than the limit arrived (413)
	readOverBudget                   // the instance's body budget has no room for what arrived (503)
	readFailed                       // the body could not be read: a timeout or a broken connection
)

// bodyBuffer holds one request body as it arrives, in segments of at most
// bodyChunk bytes, so that it never holds more than what arrived plus one
// segment, and never more than the limit plus one byte. The bytes it holds
// are taken from the instance's budget before they are allocated and given
// back by release. It is used by one request at a time.
type bodyBuffer struct {
	budget   *limiter.Budget // nil: no budget
	reserved int64           // bytes taken from budget
	segs     [][]byte        // full-length segments; the last may be partly filled
	fill     int             // bytes in the last segment
	n        int64           // bytes received
	whole    []byte          // the body in one piece once bytes handed it out
}

// reserve takes from the budget what a body of the declared length needs
// (nothing for an unknown length: its segments are taken as they are
// allocated) and reports whether it fit. A declared length over limit is
// the caller's 413, decided before.
func (b *bodyBuffer) reserve(declared, limit int64) bool {
	if declared < 0 || b.budget == nil {
		return true
	}
	need := min(declared, limit) + 1 // +1: the read that sees EOF
	if !b.budget.Acquire(need) {
		return false
	}
	b.reserved += need
	return true
}

// readFrom reads src to its end, passing every chunk to sink as it arrives
// (hashing while reading). progress, when set, is called with the bytes
// received so far before each segment is allocated, so a caller can move
// a deadline along with the body. It stops as soon as more than limit
// bytes arrived, or the budget has no room for the next segment.
func (b *bodyBuffer) readFrom(src io.Reader, declared, limit int64, sink io.Writer, progress func(received int64)) (readResult, error) {
	for {
		if len(b.segs) == 0 || b.fill == len(b.segs[len(b.segs)-1]) {
			if progress != nil {
				progress(b.n)
			}
			if !b.grow(declared, limit) {
				return readOverBudget, nil
			}
		}
		seg := b.segs[len(b.segs)-1]
		m, err := src.Read(seg[b.fill:])
		if m > 0 {
			chunk := seg[b.fill : b.fill+m]
			b.fill += m
			b.n += int64(m)
			if b.n > limit {
				return readTooLarge, nil
			}
			if sink != nil {
				_, _ = sink.Write(chunk)
			}
		}
		var maxErr *http.MaxBytesError
		switch {
		case err == io.EOF:
			return readDone, nil
		case errors.As(err, &maxErr):
			return readTooLarge, nil
		case err != nil:
			return readFailed, err
		}
	}
}

// grow allocates the next segment: at most bodyChunk bytes, no more than
// the declared length still needs (plus the byte that sees EOF), and never
// past limit+1 bytes in all. Bytes not yet reserved are taken from the
// budget first; grow reports false when they do not fit.
func (b *bodyBuffer) grow(declared, limit int64) bool {
	size := int64(bodyChunk)
	if declared >= 0 {
		if rest := declared + 1 - b.n; rest > 0 {
			size = min(size, rest)
		}
	}
	size = min(size, limit+1-b.n)
	allocated := b.n // every segment before this one is full
	if need := allocated + size - b.reserved; need > 0 && b.budget != nil {
		if !b.budget.Acquire(need) {
			return false
		}
		b.reserved += need
	}
	var seg []byte
	if size == bodyChunk {
		seg = chunkPool.Get().(*[bodyChunk]byte)[:]
	} else {
		seg = make([]byte, size)
	}
	b.segs = append(b.segs, seg)
	b.fill = 0
	return true
}

// bytes returns the body in one piece. A body that fit in one segment is
// that segment; a longer one is copied into one slice of its exact length
// and its segments are recycled. The result belongs to the caller: release
// never recycles it.
func (b *bodyBuffer) bytes() []byte {
	if b.whole != nil || b.n == 0 {
		if b.whole == nil {
			b.whole = []byte{}
		}
		return b.whole
	}
	if len(b.segs) == 1 {
		b.whole = b.segs[0][:b.fill]
		b.segs = nil
		return b.whole
	}
	out := make([]byte, 0, b.n)
	for i, seg := range b.segs {
		if i == len(b.segs)-1 {
			seg = seg[:b.fill]
		}
		out = append(out, seg...)
	}
	b.recycle()
	b.whole = out
	return out
}

// held is the bytes the buffer holds allocated now.
func (b *bodyBuffer) held() int64 {
	var n int64
	for _, s := range b.segs {
		n += int64(len(s))
	}
	return n + int64(len(b.whole))
}

// recycle hands full-size segments back to the pool and forgets them all.
func (b *bodyBuffer) recycle() {
	for i, seg := range b.segs {
		if len(seg) == bodyChunk {
			chunkPool.Put((*[bodyChunk]byte)(seg))
		}
		b.segs[i] = nil
	}
	b.segs, b.fill = nil, 0
}

// release gives the reserved bytes back to the budget and recycles the
// segments that bytes did not hand out. It is called once the request is
// answered.
func (b *bodyBuffer) release() {
	b.recycle()
	if b.budget != nil {
		b.budget.Release(b.reserved)
	}
	b.reserved = 0
}

// replayBody hands the already-read body to the next handler intact.
type replayBody struct{ bytes.Reader }

// Close implements io.Closer; there is nothing to release.
func (*replayBody) Close() error { return nil }
