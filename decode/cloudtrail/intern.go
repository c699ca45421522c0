package cloudtrail

import (
	"encoding/binary"
	"unsafe"
)

// internSlots is the size of the per-decoder string cache (a power of two).
const (
	internBits  = 12
	internSlots = 1 << internBits
	internWays  = 4
)

// internMaxLen is the longest string the cache keeps; longer ones are
// allocated every time.
const internMaxLen = 512

// internCache is a 4-way set-associative cache of strings: a lookup hashes
// the bytes to a set of four slots and returns the string held there when one
// is equal, so a repeated value costs no allocation. A miss allocates the
// string and evicts the oldest of the set, so the cache is bounded
// (internSlots entries) and follows the values a stream currently uses.
type internCache struct {
	slots []string
}

func (c *internCache) get(b []byte) string {
	n := len(b)
	if n == 0 {
		return ""
	}
	if n > internMaxLen {
		return string(b)
	}
	if c.slots == nil {
		c.slots = make([]string, internSlots)
	}
	h := uint64(n) * 0x9E3779B97F4A7C15
	if n >= 8 {
		h ^= binary.LittleEndian.Uint64(b) * 0xC2B2AE3D27D4EB4F
		h ^= binary.LittleEndian.Uint64(b[n-8:]) * 0x165667B19E3779F9
		if n >= 24 {
			h ^= binary.LittleEndian.Uint64(b[n/2-4:]) * 0x27D4EB2F165667C5
		}
	} else {
		for _, c := range b {
			h = (h ^ uint64(c)) * 0x100000001B3
		}
	}
	// Fold the high bits down, then multiply and take the top bits, which
	// depend on every input bit.
	h = (h ^ h>>32) * 0x9E3779B97F4A7C15
	set := c.slots[(h>>(64-internBits))&^(internWays-1):][:internWays]
	for _, v := range set {
		if v == string(b) {
			return v
		}
	}
	// The newest value goes first; the oldest of the set is evicted.
	v := string(b)
	copy(set[1:], set[:internWays-1])
	set[0] = v
	return v
}

// borrow returns b as a string without copying. The string is only valid
// while b is not overwritten, which for this package means until the next
// call to Next.
func borrow(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
