package caddymodule

import (
	"bytes"
	"io"
)

// readBounded reads src to its end into a buffer sized from the declared
// length, passing every chunk to sink as it arrives (hashing while reading).
// It stops as soon as more than limit bytes arrived and reports tooLarge.
func readBounded(src io.Reader, declared, limit int64, sink io.Writer) (body []byte, tooLarge bool, err error) {
	size := int64(4096)
	if declared > 0 {
		size = min(declared, limit) + 1 // +1 so the read that sees EOF needs no growth
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, rerr := src.Read(buf[len(buf):cap(buf)])
		if n > 0 {
			chunk := buf[len(buf) : len(buf)+n]
			buf = buf[:len(buf)+n]
			if int64(len(buf)) > limit {
				return nil, true, nil
			}
			if sink != nil {
				_, _ = sink.Write(chunk)
			}
		}
		if rerr == io.EOF {
			return buf, false, nil
		}
		if rerr != nil {
			return nil, false, rerr
		}
	}
}

// replayBody hands the already-read body to the next handler intact.
type replayBody struct{ bytes.Reader }

// Close implements io.Closer; there is nothing to release.
func (*replayBody) Close() error { return nil }
