package caddymodule

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// writeGrace is how long the answer to a body that timed out may take to
// write, past whatever write deadline the server had set.
const writeGrace = 5 * time.Second

// bodyDeadline moves a request's read deadline along with its body, so a
// body's time is bounded by hookgate itself whatever the server's own
// timeouts are: timeout for any body, plus one second for every rate bytes
// received and for the segment being read. A body that trickles in slower
// than rate on average falls behind and is cut, even when no single read
// stalls. Through Caddy's idle-timeout reader a handler's deadline can
// only tighten the server's, never loosen it.
type bodyDeadline struct {
	rc      *http.ResponseController
	start   time.Time
	timeout time.Duration
	rate    int64
	armed   bool // a deadline was set and must be cleared
	failed  bool // the writer cannot set read deadlines
}

// progress arms the deadline for the bytes received so far and the next
// segment. It is bodyBuffer's progress callback.
func (d *bodyDeadline) progress(received int64) {
	if d.failed {
		return
	}
	credit := time.Duration(float64(received+bodyChunk) / float64(d.rate) * float64(time.Second))
	if err := d.rc.SetReadDeadline(d.start.Add(d.timeout + credit)); err != nil {
		d.failed = true
		return
	}
	d.armed = true
}

// clear removes the deadline once the body is read, so that it cannot fire
// while the next handler works (an HTTP/2 read deadline fails the stream
// even with no read in flight).
func (d *bodyDeadline) clear() {
	if d.armed {
		_ = d.rc.SetReadDeadline(time.Time{})
		d.armed = false
	}
}

// readBody reads the admitted delivery's body into in.buf, hashing it
// into in.check as it arrives, bounded by max_body, the body budget and
// the body deadline. It answers the caller itself when the body does not
// come whole: 413 over max_body, 503 over the budget, 408 past the
// deadline (or the connection closes when not even that can be written),
// 400 for a broken body.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, repl *caddy.Replacer, in *inbound, closing bool) (answered bool, err error) {
	dl := bodyDeadline{
		rc:      http.NewResponseController(w),
		start:   time.Now(),
		timeout: time.Duration(h.app.BodyTimeout),
		rate:    h.app.BodyMinRate,
	}
	sink := writerOrNil(in.check)
	res, rerr := in.buf.readFrom(r.Body, r.ContentLength, h.app.MaxBody, sink, dl.progress)
	dl.clear()
	if dl.failed {
		h.logger.Debug("the response writer sets no read deadline; the body is bounded by the server's timeouts only")
	}
	vendor, id := in.vendor, in.rec.ID
	switch res {
	case readDone:
		return false, nil
	case readTooLarge:
		err := h.refuse(w, repl, http.StatusRequestEntityTooLarge, "body over max_body", vendor, id)
		lingerUnread(w, r, closing)
		return true, err
	case readOverBudget:
		err := h.overBudget(w, repl, vendor, id)
		lingerUnread(w, r, closing)
		return true, err
	}
	if errors.Is(rerr, os.ErrDeadlineExceeded) {
		_ = dl.rc.SetWriteDeadline(time.Now().Add(writeGrace))
		h.logger.Info("body deadline passed", zap.String("integration", id), zap.Int64("received", in.buf.n))
		return true, h.refuse(w, repl, http.StatusRequestTimeout, "body did not arrive within the body deadline", vendor, id)
	}
	return true, h.refuse(w, repl, http.StatusBadRequest, "reading body failed", vendor, id)
}

// Lingering after a refusal of an unread body over HTTP/1.
const (
	// lingerBytes is the most of a refused body hookgate reads, and
	// throws away, after the answer went out.
	lingerBytes = 256 << 10
	// lingerTime is the longest it waits for those bytes.
	lingerTime = 500 * time.Millisecond
)

// lingerUnread, after a refusal answered before the body was read whole
// over HTTP/1 (closing), sends the answer on its way and then reads and
// throws away a bounded part of the rest, for a bounded time, before the
// connection closes. Closing a connection with unread bytes makes the
// kernel reset it, and a client still writing its body (most send it all
// before reading) would see the reset instead of the answer. Go's server
// does the same for a body of its own, but not through the body reader
// Caddy puts in front of it. The bytes go nowhere: this costs a caller
// time it spends sending, never memory.
func lingerUnread(w http.ResponseWriter, r *http.Request, closing bool) {
	if !closing || r.ContentLength == 0 || r.Body == nil {
		return
	}
	rc := http.NewResponseController(w)
	if rc.Flush() != nil {
		return
	}
	_ = rc.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, r.Body, lingerBytes)
}
