package caddymodule

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

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
