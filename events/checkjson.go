package events

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Every object of a body is checked for keys that name one member twice:
// the same key spelled alike or with other escapes (`"ref"`, `"r\u0065f"`),
// or keys that differ only in case (`"ref"`, `"REF"`), which decoders that
// match names case-insensitively (Go's encoding/json v1, and hookgate
// before issue 12) read as one. Where such keys exist, which one a reader
// takes differs from reader to reader (the first, the last, the
// exact-case one): hookgate would then read another body than the backend
// behind it, so no reading is offered.
//
// CheckJSON does it in its one pass: each key is folded (ASCII letters to
// upper case, other runes to the smallest of their case-fold orbit, as
// encoding/json v1 compares names) as it is met, and stands for itself
// when it is shorter than 8 bytes, else is hashed with a per-process
// random seed. A key is compared with the keys before it in its object
// when it arrives, through a 64-bit set of their hashes' bits, while the
// object has at most smallObject keys; a larger object is compared through
// a table when it closes. Equal hashes are confirmed on the decoded keys.
// The cost is linear in the body, whatever the sender chose its keys to be.

// checkTokens is CheckJSON's walk over the tokens of b, keys holding the
// keys of the objects still open, innermost last. Every `goto stop` is
// where b is not JSON. Each step looks at one byte where the body has no
// white space (most have none), and skips white space where it has.
func checkTokens(b []byte, keys []objectKey, ks *keyScratch) ([]objectKey, error) {
	var (
		depth int
		// Of the innermost container: whether it is an object, how many
		// keys it has so far (the last ones of keys) and the bloomBits of
		// the first smallObject of them; of the containers around it, in
		// saved.
		inObject bool
		nkeys    int
		bloom    uint64
		saved    [MaxDepth]struct {
			inObject bool
			nkeys    int
			bloom    uint64
		}
		c   byte
		end int
		h   uint64
		ok  bool
		err error
	)
	i := 0
value:
	if i >= len(b) {
		goto stop
	}
	if c = b[i]; c <= ' ' {
		if i = skipSpace(b, i); i >= len(b) {
			goto stop
		}
		c = b[i]
	}
	switch c {
	case '"':
		// To the next '"' not escaped by an odd run of backslashes, as
		// stringEnd, here in the walk (most values are strings).
		for j := i + 1; ; {
			k := bytes.IndexByte(b[j:], '"')
			if k < 0 {
				goto stop
			}
			q := j + k
			n := 0
			for p := q - 1; p > i && b[p] == '\\'; p-- {
				n++
			}
			if n%2 == 0 {
				i = q + 1
				break
			}
			j = q + 1
		}
	case '{', '[':
		if depth == MaxDepth {
			return keys, fmt.Errorf("%w: nested deeper than %d", ErrMalformed, MaxDepth)
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == c+2 { // {} or []
			i++
			break
		}
		saved[depth].inObject, saved[depth].nkeys, saved[depth].bloom = inObject, nkeys, bloom
		depth++
		if c == '[' {
			inObject = false
			goto value
		}
		inObject, nkeys, bloom = true, 0, 0
		goto key
	default:
		j := i
		for j < len(b) && scalarByte[b[j]] {
			j++
		}
		if j == i {
			goto stop
		}
		i = j
	}
	// After a value: a comma, or the end of its object or array, or of
	// the body.
	for {
		if i >= len(b) {
			if depth == 0 {
				return keys, nil
			}
			goto stop
		}
		if c = b[i]; c <= ' ' {
			if j := skipSpace(b, i); j > i {
				i = j
				continue
			}
			goto stop // a control character
		}
		if depth == 0 {
			goto stop // more than one value
		}
		switch c {
		case ',':
			i++
			if inObject {
				goto key
			}
			goto value
		case '}':
			if !inObject {
				goto stop
			}
			if nkeys > smallObject {
				if err := checkLargeObject(b, keys[len(keys)-nkeys:], ks); err != nil {
					return keys, err
				}
			}
			keys = keys[:len(keys)-nkeys]
		case ']':
			if inObject {
				goto stop
			}
		default:
			goto stop
		}
		depth--
		inObject, nkeys, bloom = saved[depth].inObject, saved[depth].nkeys, saved[depth].bloom
		i++
	}
key:
	if i >= len(b) {
		goto stop
	}
	if b[i] != '"' {
		if i = skipSpace(b, i); i >= len(b) || b[i] != '"' {
			goto stop
		}
	}
	// Most keys are plain ASCII and shorter than 8 bytes: one word holds
	// them and their closing quote, and their hash is the key itself
	// (keyHash). Longer ones go on in scanLongKey, and keys with escapes,
	// control characters or bytes that are not ASCII (or at the very end
	// of the body) in scanEscapedKey.
	ok = false
	if i+9 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i+1:])
		m, quotes := keyStops(w)
		low := m & -m
		switch {
		case low&quotes != 0:
			k := bits.TrailingZeros64(low) >> 3
			end, h, ok = i+1+k, upperASCII(w&(low>>7-1))|uint64(k)<<56, true
		case m == 0:
			end, h, ok = scanLongKey(b, i, mixKey(keySeed, upperASCII(w)))
		}
	}
	if !ok {
		if end, h, err = scanEscapedKey(b, i, ks); err != nil {
			goto stop
		}
	}
	keys = append(keys, objectKey{h: h, off: i})
	if nkeys++; nkeys <= smallObject {
		bit := bloomBit(h)
		if bloom&bit != 0 {
			if err := checkNewKey(b, keys[len(keys)-nkeys:]); err != nil {
				return keys, err
			}
		}
		bloom |= bit
	}
	if i = end + 1; i >= len(b) || b[i] != ':' {
		if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
			goto stop
		}
	}
	i++
	goto value
stop:
	// The small objects were checked key by key.
	for ; depth > 0; depth-- {
		if inObject {
			if nkeys > smallObject {
				if err := checkLargeObject(b, keys[len(keys)-nkeys:], ks); err != nil {
					return keys, err
				}
			}
			keys = keys[:len(keys)-nkeys]
		}
		inObject, nkeys = saved[depth-1].inObject, saved[depth-1].nkeys
	}
	return keys, nil
}

// skipSpace is the offset of the first byte from i on that is not JSON
// white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// scalarByte marks the bytes of numbers and of true, false and null (and
// of what else a sender may put there: the decoder judges them).
var scalarByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '+' || c == '.'
	}
	return t
}()

// Reasons the duplicate check gives (fixed phrases: the key itself is the
// sender's and never goes into a reason).
var (
	errDuplicateKey = fmt.Errorf("%w: duplicate key", ErrMalformed)
	errCaseVariant  = fmt.Errorf("%w: duplicate key (spelled in another case)", ErrMalformed)
	errNotJSON      = fmt.Errorf("%w: not JSON", ErrMalformed)
)

// objectKey is one key of an object still open in CheckJSON's scan.
type objectKey struct {
	h   uint64 // hash of the folded key
	off int    // offset of its opening quote in the body
}

// smallObject is the number of keys up to which an object's keys are
// compared as they arrive (through its 64-bit set), rather than through a
// table when it closes.
const smallObject = 16

// keyScratch is what one CheckJSON call needs beyond its stack: the keys of
// the open objects, the table for large objects and the folded form of
// keys with escapes or non-ASCII bytes. It is pooled; a call that needed
// much (a body of a million keys) does not keep it.
type keyScratch struct {
	keys  []objectKey
	table []uint32
	fold  []byte
}

var keyScratchPool = sync.Pool{New: func() any { return &keyScratch{keys: make([]objectKey, 0, 64)} }}

// maxPooledKeys bounds what a pooled keyScratch keeps between calls.
const maxPooledKeys = 1 << 14

func getKeyScratch() *keyScratch {
	return keyScratchPool.Get().(*keyScratch)
}

func putKeyScratch(ks *keyScratch) {
	if cap(ks.keys) > maxPooledKeys || cap(ks.table) > 4*maxPooledKeys || cap(ks.fold) > maxPooledKeys {
		return
	}
	ks.keys = ks.keys[:0]
	keyScratchPool.Put(ks)
}

// The key hash: a multiply-fold over 8-byte words (as the Go runtime's
// fallback map hash does), keyed by two random values chosen when the
// process starts, so a sender cannot pick keys whose hashes collide.
var (
	keySeed = rand.Uint64()
	keyMul  = rand.Uint64() | 1
)

func mixKey(h, w uint64) uint64 {
	hi, lo := bits.Mul64(h^w, keyMul)
	return hi ^ lo
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// upperASCII maps the lower-case ASCII letters of w, whose bytes are all
// ASCII, to upper case.
func upperASCII(w uint64) uint64 {
	geA := w + (0x80-'a')*lsb   // high bit set where the byte is >= 'a'
	gtZ := w + (0x80-'z'-1)*lsb // high bit set where the byte is > 'z'
	return w - ((geA &^ gtZ & msb) >> 2)
}

// scanLongKey reads on a plain key whose first 8 bytes (from b[i+1]) hold
// no quote and hashed to h: the offset of its closing quote and its hash
// (keyHash). ok is false when the key turns out not to be plain ASCII
// without escapes or control characters, or does not end 8 bytes before
// the body does: scanEscapedKey reads those.
func scanLongKey(b []byte, i int, h uint64) (end int, _ uint64, ok bool) {
	for p := i + 9; p+8 <= len(b); p += 8 {
		w := binary.LittleEndian.Uint64(b[p:])
		m, quotes := keyStops(w)
		if m == 0 {
			h = mixKey(h, upperASCII(w))
			continue
		}
		low := m & -m
		if low&quotes == 0 {
			return 0, 0, false
		}
		end = p + bits.TrailingZeros64(low)>>3
		return end, mixKey(h, upperASCII(w&(low>>7-1))|uint64(end-i-1)<<56), true
	}
	return 0, 0, false
}

// keyStops has a high bit at each byte of w where a plain key stops: a
// quote (its end), a backslash, a control character or a byte that is not
// ASCII; quotes has those of the quotes. Above the lowest flagged byte a
// byte may be flagged wrongly (a borrow); the lowest is exact.
func keyStops(w uint64) (m, quotes uint64) {
	q := w ^ ('"' * lsb)
	bs := w ^ ('\\' * lsb)
	quotes = (q - lsb) &^ q & msb
	return quotes | ((bs-lsb)&^bs|(w-0x20*lsb)&^w|w)&msb, quotes
}

// scanEscapedKey reads any key, whose opening quote is at b[i]: it decodes
// and folds it into ks.fold and hashes that (keyHash). An error says it is
// not a JSON string.
func scanEscapedKey(b []byte, i int, ks *keyScratch) (end int, h uint64, err error) {
	end = stringEnd(b, i)
	if end < 0 {
		return 0, 0, errNotJSON
	}
	fold, ok := appendKey(ks.fold[:0], b[i+1:end], true)
	ks.fold = fold
	if !ok {
		return 0, 0, errNotJSON
	}
	return end, keyHash(fold), nil
}

// keyHash is the hash of a folded key. A key shorter than 8 bytes is its
// own hash: its bytes, with its length in the top byte. A longer one is
// each of its whole 8-byte words mixed in turn, then the rest (0 to 7
// bytes) with the length in the top byte, so that no two keys give one
// sequence of words. checkTokens and scanLongKey compute the same for a
// plain key as they read it.
func keyHash(fold []byte) uint64 {
	h := keySeed
	p := 0
	for ; p+8 <= len(fold); p += 8 {
		h = mixKey(h, binary.LittleEndian.Uint64(fold[p:]))
	}
	var w uint64
	for k := len(fold) - 1; k >= p; k-- {
		w = w<<8 | uint64(fold[k])
	}
	if len(fold) < 8 {
		return w | uint64(len(fold))<<56
	}
	return mixKey(h, w|uint64(len(fold))<<56)
}

// stringEnd is the offset of the quote that closes the string whose
// opening quote is at b[i], or -1 when it does not close.
func stringEnd(b []byte, i int) int {
	// The next '"' not escaped by an odd run of backslashes. IndexByte is
	// vectorized, so long strings (commit messages, bodies) cost little.
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q
		}
		j = q + 1
	}
}

// appendKey decodes the contents of a JSON string (between its quotes,
// valid UTF-8) as encoding/json does, a lone surrogate escape becoming
// U+FFFD, and appends it, folded when fold is set: ASCII letters in upper
// case, every other rune the smallest of its case-fold orbit. ok is false
// when raw is not the inside of a JSON string.
func appendKey(dst, raw []byte, fold bool) (_ []byte, ok bool) {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c < 0x20 || c == '"':
			return dst, false
		case c < utf8.RuneSelf && c != '\\':
			dst = appendRune(dst, rune(c), fold)
			i++
			continue
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(raw[i:])
			dst = appendRune(dst, r, fold)
			i += n
			continue
		}
		// An escape.
		if i+1 >= len(raw) {
			return dst, false
		}
		r, n := rune(raw[i+1]), 2
		switch r {
		case '"', '\\', '/':
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'u':
			if r = hex4(raw[i+2:]); r < 0 {
				return dst, false
			}
			n = 6
			if utf16.IsSurrogate(r) {
				// A pair, or U+FFFD for the first half alone (the next
				// escape is then read on its own).
				r2 := rune(-1)
				if j := i + 6; j+1 < len(raw) && raw[j] == '\\' && raw[j+1] == 'u' {
					r2 = hex4(raw[j+2:])
				}
				if r = utf16.DecodeRune(r, r2); r != unicode.ReplacementChar {
					n = 12
				}
			}
		default:
			return dst, false
		}
		dst = appendRune(dst, r, fold)
		i += n
	}
	return dst, true
}

// hex4 reads four hex digits, or -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

func appendRune(dst []byte, r rune, fold bool) []byte {
	if r < utf8.RuneSelf {
		if fold && 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return append(dst, byte(r))
	}
	if fold {
		r = foldRune(r)
	}
	return utf8.AppendRune(dst, r)
}

// foldRune is the smallest rune of r's case-fold orbit (encoding/json's
// foldRune), so two names fold alike exactly when bytes.EqualFold says
// they are equal.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// bloomBit is the bit of a key's hash in its object's 64-bit set. The
// multiplier is secret: a sender cannot choose keys that share a bit
// (which would cost only comparisons of hashes anyway).
func bloomBit(h uint64) uint64 {
	return 1 << ((h * keyMul) >> 58)
}

// checkNewKey compares the last of keys, those of one object so far, with
// the keys before it: one of them has its bloomBit.
func checkNewKey(b []byte, keys []objectKey) error {
	k := keys[len(keys)-1]
	for _, o := range keys[:len(keys)-1] {
		if o.h == k.h {
			if err := confirmDuplicate(b, o.off, k.off); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkLargeObject reports whether keys, those of one object with more
// than smallObject keys, name a member twice.
func checkLargeObject(b []byte, keys []objectKey, ks *keyScratch) error {
	size := 4 * smallObject
	for size < 2*len(keys) {
		size <<= 1
	}
	if cap(ks.table) < size {
		ks.table = make([]uint32, size)
	}
	table := ks.table[:size]
	clear(table)
	mask := uint64(size - 1)
	for i, k := range keys {
		// A short key's hash is the key itself: mixed with the secret
		// seed, the slots it picks cannot be chosen by the sender.
		for s := mixKey(k.h, keySeed) & mask; ; s = (s + 1) & mask {
			e := table[s]
			if e == 0 {
				table[s] = uint32(i + 1)
				break
			}
			if o := keys[e-1]; o.h == k.h {
				if err := confirmDuplicate(b, o.off, k.off); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// confirmDuplicate decodes the keys whose opening quotes are at b[i] and
// b[j], whose hashes are equal: the error for the body when they name one
// member, nil when the hashes collided.
func confirmDuplicate(b []byte, i, j int) error {
	x, okx := decodeKey(b, i)
	y, oky := decodeKey(b, j)
	switch {
	case !okx || !oky:
		return errNotJSON
	case bytes.Equal(x, y):
		return errDuplicateKey
	case bytes.EqualFold(x, y):
		return errCaseVariant
	}
	return nil
}

// decodeKey decodes the key whose opening quote is at b[i], unfolded.
func decodeKey(b []byte, i int) ([]byte, bool) {
	end := stringEnd(b, i)
	if end < 0 {
		return nil, false
	}
	return appendKey(nil, b[i+1:end], false)
}
