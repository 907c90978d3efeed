package partnerlink

import (
	"encoding/binary"
	"strings"
)

// ToLower is strings.ToLower, taking ASCII text 8 bytes at a time: scopes
// and ids are lower-cased for every role assignment of a world, and most
// have upper-case letters ("resourceGroups"), where strings.ToLower copies
// byte by byte (docs/performance.md, "What makes it fast").
func ToLower(s string) string {
	switch nonASCII, upper := letterCase(s); {
	case nonASCII:
		return strings.ToLower(s) // Unicode's rules
	case !upper:
		return s
	}
	n := len(s) &^ 7
	var b strings.Builder
	b.Grow(len(s))
	var word [8]byte
	for i := 0; i < n; i += 8 {
		w := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		binary.LittleEndian.PutUint64(word[:], LowerWord(w))
		b.Write(word[:])
	}
	for i := n; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// HasUpperASCII reports whether s has a letter A-Z.
func HasUpperASCII(s string) bool {
	nonASCII, upper := letterCase(s)
	if nonASCII {
		return strings.ContainsFunc(s, func(r rune) bool { return 'A' <= r && r <= 'Z' })
	}
	return upper
}

// letterCase reports whether s has a byte ≥ 0x80 and whether it has a letter
// A-Z, 8 bytes at a time.
func letterCase(s string) (nonASCII, upper bool) {
	n := len(s) &^ 7
	var high, marks uint64
	for i := 0; i < n; i += 8 {
		w := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		high |= w & HighBits
		marks |= upperASCII(w)
	}
	for i := n; i < len(s); i++ {
		c := s[i]
		high |= uint64(c & 0x80)
		if 'A' <= c && c <= 'Z' {
			marks = 1
		}
	}
	// A word with a byte ≥ 0x80 may be marked wrongly; the caller then
	// goes by nonASCII.
	return high != 0, marks != 0
}

// HighBits are the high bits of the 8 bytes of a word.
const HighBits = 0x8080808080808080

// LowerWord lower-cases the A-Z bytes of x, whose bytes are all < 0x80.
func LowerWord(x uint64) uint64 { return x | upperASCII(x)>>2 }

// upperASCII marks the A-Z bytes of x, whose bytes are all < 0x80, with
// their high bit: adding 0x3f sets a byte's high bit from 'A' up, adding
// 0x25 from 'Z'+1 up (neither carries into the next byte), so their
// difference marks A-Z, and the mark moved to bit 5 is the case bit.
func upperASCII(x uint64) uint64 {
	const ones = 0x0101010101010101
	return (x + 0x3f*ones) &^ (x + 0x25*ones) & HighBits
}
