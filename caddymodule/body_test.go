package caddymodule

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/hookgate/caddy-hookgate/limiter"
)

// readBounded reads src into a fresh bodyBuffer without a budget, as the
// handler does, for the tests that look at the outcome only.
func readBounded(src io.Reader, declared, limit int64, sink io.Writer) (body []byte, tooLarge bool, err error) {
	var b bodyBuffer
	defer b.release()
	res, err := b.readFrom(src, declared, limit, sink, nil)
	switch res {
	case readDone:
		return b.bytes(), false, nil
	case readTooLarge:
		return nil, true, nil
	}
	return nil, false, err
}

func TestReadBounded(t *testing.T) {
	const limit = 1000
	data := func(n int) []byte { return bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n] }
	for _, tc := range []struct {
		name     string
		n        int   // bytes the reader yields
		declared int64 // Content-Length; -1 unknown
		wrap     func(io.Reader) io.Reader
		tooLarge bool
	}{
		{"empty", 0, 0, nil, false},
		{"empty unknown length", 0, -1, nil, false},
		{"small", 10, 10, nil, false},
		{"exactly limit", limit, limit, nil, false},
		{"exactly limit, unknown length", limit, -1, nil, false},
		{"exactly limit, one byte reads", limit, limit, iotest.OneByteReader, false},
		{"exactly limit, data with EOF", limit, limit, iotest.DataErrReader, false},
		{"limit+1", limit + 1, limit + 1, nil, true},
		{"limit+1, unknown length", limit + 1, -1, nil, true},
		{"limit+1, declared limit", limit + 1, limit, nil, true},
		{"limit+1, one byte reads", limit + 1, -1, iotest.OneByteReader, true},
		{"far over limit, unknown length", 10 * limit, -1, nil, true},
		{"declared smaller than actual", 500, 10, nil, false},
		{"declared larger than actual", 10, 500, nil, false},
		{"declared far over limit, actual small", 10, 1 << 40, nil, false},
		{"unknown length over 4096 internal chunk", limit - 1, -1, iotest.HalfReader, false},
		{"declared smaller than actual, over limit", limit + 1, 10, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := data(tc.n)
			var src io.Reader = bytes.NewReader(in)
			if tc.wrap != nil {
				src = tc.wrap(src)
			}
			var sink bytes.Buffer
			body, tooLarge, err := readBounded(src, tc.declared, limit, &sink)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if tooLarge != tc.tooLarge {
				t.Fatalf("tooLarge = %v, want %v", tooLarge, tc.tooLarge)
			}
			if tc.tooLarge {
				if body != nil {
					t.Errorf("body of %d bytes returned with tooLarge", len(body))
				}
				if sink.Len() > limit || !bytes.HasPrefix(in, sink.Bytes()) {
					t.Errorf("sink got %d bytes, not a prefix within the limit", sink.Len())
				}
				return
			}
			if !bytes.Equal(body, in) {
				t.Errorf("body = %d bytes, want %d identical bytes", len(body), len(in))
			}
			if !bytes.Equal(sink.Bytes(), in) {
				t.Errorf("sink got %d bytes, want exactly the %d body bytes", sink.Len(), len(in))
			}
		})
	}
}

func TestReadBoundedLargeLimit(t *testing.T) {
	in := bytes.Repeat([]byte{0xAB}, 3*4096+17)
	body, tooLarge, err := readBounded(bytes.NewReader(in), -1, 25<<20, nil)
	if err != nil || tooLarge || !bytes.Equal(body, in) {
		t.Fatalf("readBounded = %d bytes, %v, %v", len(body), tooLarge, err)
	}
}

func TestReadBoundedNilSink(t *testing.T) {
	body, tooLarge, err := readBounded(strings.NewReader("hello"), 5, 10, nil)
	if err != nil || tooLarge || string(body) != "hello" {
		t.Fatalf("readBounded = %q, %v, %v", body, tooLarge, err)
	}
}

func TestReadBoundedReaderError(t *testing.T) {
	boom := errors.New("connection reset")
	for _, tc := range []struct {
		name string
		src  io.Reader
	}{
		{"error at once", iotest.ErrReader(boom)},
		{"error after data", io.MultiReader(strings.NewReader("partial"), iotest.ErrReader(boom))},
		{"error with data", iotest.TimeoutReader(strings.NewReader("partial body"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, tooLarge, err := readBounded(tc.src, -1, 1000, io.Discard)
			if err == nil {
				t.Fatalf("no error; body %q", body)
			}
			if tc.name != "error with data" && !errors.Is(err, boom) {
				t.Errorf("err = %v, want %v", err, boom)
			}
			if tc.name == "error with data" && !errors.Is(err, iotest.ErrTimeout) {
				t.Errorf("err = %v, want %v", err, iotest.ErrTimeout)
			}
			if body != nil || tooLarge {
				t.Errorf("body %q, tooLarge %v returned with an error", body, tooLarge)
			}
		})
	}
}

func TestReplayBody(t *testing.T) {
	rb := new(replayBody)
	rb.Reset([]byte("abc"))
	b, err := io.ReadAll(rb)
	if err != nil || string(b) != "abc" {
		t.Fatalf("ReadAll = %q, %v", b, err)
	}
	if err := rb.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// probeReader yields data in the chunk sizes cut gives and, before every
// read, checks the buffer's promise: it holds no more than what arrived
// plus one segment, no more than limit+1 bytes, and no more than it took
// from the budget.
type probeReader struct {
	t     *testing.T
	data  []byte
	off   int
	cut   []byte
	i     int
	buf   *bodyBuffer
	limit int64
}

func (p *probeReader) Read(q []byte) (int, error) {
	held := p.buf.held()
	if held > int64(p.off)+bodyChunk {
		p.t.Fatalf("holds %d bytes after %d arrived: more than one segment ahead", held, p.off)
	}
	if held > p.limit+1 {
		p.t.Fatalf("holds %d bytes under a limit of %d", held, p.limit)
	}
	if p.buf.budget != nil && held > p.buf.reserved {
		p.t.Fatalf("holds %d bytes but took %d from the budget", held, p.buf.reserved)
	}
	if p.off == len(p.data) {
		return 0, io.EOF
	}
	n := len(q)
	if len(p.cut) > 0 {
		n = min(n, 1+int(p.cut[p.i%len(p.cut)])*97)
		p.i++
	}
	n = copy(q, p.data[p.off:min(len(p.data), p.off+n)])
	p.off += n
	return n, nil
}

// FuzzBodyBuffer checks the bounded reader for any declared length,
// chunking, limit and budget: it never holds more than what arrived plus
// the first chunk (probeReader), never passes more than the limit to the
// hash or the caller, returns exactly the body when it fits, and gives
// every byte back to the budget.
func FuzzBodyBuffer(f *testing.F) {
	f.Add(int64(-1), uint32(1000), uint32(100), uint32(1<<20), []byte{3, 0, 200})
	f.Add(int64(25<<20), uint32(300<<10), uint32(200<<10), uint32(256<<10), []byte{255, 1})
	f.Add(int64(10), uint32(1000), uint32(500), uint32(0), []byte(nil))
	f.Add(int64(0), uint32(10), uint32(0), uint32(100), []byte{0})
	f.Add(int64(1<<40), uint32(70<<10), uint32(70<<10), uint32(80<<10), []byte{7})
	f.Add(int64(bodyChunk), uint32(bodyChunk), uint32(bodyChunk), uint32(2*bodyChunk), []byte{})
	f.Fuzz(func(t *testing.T, declared int64, limit32, n32, budget32 uint32, cut []byte) {
		limit := int64(limit32 % (512 << 10))
		n := int(n32 % (600 << 10))
		data := bytes.Repeat([]byte("hookgate"), n/8+1)[:n]
		b := bodyBuffer{}
		if budget32 != 0 {
			b.budget = limiter.NewBudget(int64(budget32 % (1 << 21)))
		}
		if declared > limit {
			return // the handler answers 413 before reading
		}
		if !b.reserve(declared, limit) {
			if b.budget.InFlight() != 0 {
				t.Fatal("a refused reservation took bytes")
			}
			return
		}
		var sink bytes.Buffer
		src := &probeReader{t: t, data: data, cut: cut, buf: &b, limit: limit}
		res, err := b.readFrom(src, declared, limit, &sink, nil)
		if int64(sink.Len()) > limit {
			t.Fatalf("the hash saw %d bytes under a limit of %d", sink.Len(), limit)
		}
		switch res {
		case readDone:
			if err != nil || int64(n) > limit {
				t.Fatalf("done with %d bytes under limit %d, err %v", n, limit, err)
			}
			if got := b.bytes(); !bytes.Equal(got, data) || !bytes.Equal(sink.Bytes(), data) {
				t.Fatalf("body %d bytes, hashed %d, sent %d", len(got), sink.Len(), n)
			}
		case readTooLarge:
			if int64(n) <= limit {
				t.Fatalf("too large with %d bytes under limit %d", n, limit)
			}
		case readOverBudget:
			if b.budget == nil {
				t.Fatal("over budget without a budget")
			}
		default:
			t.Fatalf("read failed: %v", err)
		}
		b.release()
		if b.budget != nil && b.budget.InFlight() != 0 {
			t.Fatalf("%d bytes not given back to the budget", b.budget.InFlight())
		}
	})
}

// TestBodyBufferIgnoresDeclaredLength is the attack of a caller that
// declares 25 MiB and sends nothing: the buffer holds one small segment,
// and a long body is held in segments, never in one allocation sized
// from what was declared.
func TestBodyBufferIgnoresDeclaredLength(t *testing.T) {
	var b bodyBuffer
	defer b.release()
	res, err := b.readFrom(strings.NewReader(""), 25<<20, 25<<20, nil, nil)
	if res != readDone || err != nil {
		t.Fatalf("read = %v, %v", res, err)
	}
	if held := b.held(); held > bodyChunk {
		t.Fatalf("holds %d bytes for an empty body declared as 25 MiB", held)
	}
	var long bodyBuffer
	defer long.release()
	data := bytes.Repeat([]byte{1}, 5*bodyChunk+3)
	calls := 0
	if res, _ := long.readFrom(bytes.NewReader(data), int64(len(data)), 25<<20, nil, func(int64) { calls++ }); res != readDone {
		t.Fatalf("read = %v", res)
	}
	if calls != 6 {
		t.Errorf("progress called %d times for 6 segments", calls)
	}
	if got := long.bytes(); !bytes.Equal(got, data) {
		t.Fatalf("body of %d bytes came back as %d", len(data), len(got))
	}
}

// TestBodyBufferOverBudget: a body of unknown length that outgrows the
// budget is cut, and every byte comes back.
func TestBodyBufferOverBudget(t *testing.T) {
	budget := limiter.NewBudget(3 * bodyChunk)
	b := bodyBuffer{budget: budget}
	res, _ := b.readFrom(bytes.NewReader(make([]byte, 4*bodyChunk)), -1, 25<<20, nil, nil)
	if res != readOverBudget {
		t.Fatalf("read = %v, want over budget", res)
	}
	if got := budget.InFlight(); got != 3*bodyChunk {
		t.Fatalf("in flight %d, want the whole budget %d", got, 3*bodyChunk)
	}
	b.release()
	if budget.InFlight() != 0 {
		t.Fatalf("%d bytes not given back", budget.InFlight())
	}
}
