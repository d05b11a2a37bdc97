package attack

import (
	crand "crypto/rand"
	"math"
	"math/rand/v2"
)

// idGen makes request ids and W3C trace contexts. Each worker owns one, so
// there is no shared lock; the stream is seeded from crypto/rand so ids from
// concurrent runs (or workers) do not collide.
type idGen struct {
	rng       *rand.ChaCha8
	unsampled uint64   // a draw below it sends flags 00; 0 never does
	id        [36]byte // xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx
	tp        [55]byte // 00-<32 hex trace id>-<16 hex span id>-01
}

// newIDGen makes a generator that marks unsampledPct percent of its trace
// contexts "not sampled".
func newIDGen(unsampledPct float64) *idGen {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // never returns an error since Go 1.24
	g := &idGen{rng: rand.NewChaCha8(seed)}
	switch {
	case unsampledPct >= 100:
		g.unsampled = math.MaxUint64
	case unsampledPct > 0:
		g.unsampled = uint64(unsampledPct / 100 * (1 << 64))
	}
	return g
}

// next returns a fresh UUIDv4 for x-request-id and a traceparent, sampled
// unless the draw says otherwise.
func (g *idGen) next() (id, traceparent string) {
	hi, lo := g.rng.Uint64(), g.rng.Uint64()
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	putHex(g.id[0:8], hi>>32, 8)
	g.id[8] = '-'
	putHex(g.id[9:13], hi>>16, 4)
	g.id[13] = '-'
	putHex(g.id[14:18], hi, 4)
	g.id[18] = '-'
	putHex(g.id[19:23], lo>>48, 4)
	g.id[23] = '-'
	putHex(g.id[24:36], lo, 12)

	// All-zero trace and span ids are invalid in W3C Trace Context.
	t1, t2, span := g.rng.Uint64(), g.rng.Uint64()|1, g.rng.Uint64()|1
	copy(g.tp[0:3], "00-")
	putHex(g.tp[3:19], t1, 16)
	putHex(g.tp[19:35], t2, 16)
	g.tp[35] = '-'
	putHex(g.tp[36:52], span, 16)
	copy(g.tp[52:55], "-01")
	if g.unsampled > 0 && g.rng.Uint64() < g.unsampled {
		g.tp[54] = '0'
	}
	return string(g.id[:]), string(g.tp[:])
}

// putHex writes the low n nibbles of v into dst[:n], most significant first.
func putHex(dst []byte, v uint64, n int) {
	const digits = "0123456789abcdef"
	for i := n - 1; i >= 0; i-- {
		dst[i] = digits[v&0xf]
		v >>= 4
	}
}
