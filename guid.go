package partnerlink

import "crypto/rand"

// GUID is a GUID in binary form: a fixed-size map key that costs no
// allocation, for the readers that see one or two per row of large files.
type GUID [16]byte

// ParseGUIDBytes decodes the 8-4-4-4-12 hex form (any case) in one pass.
func ParseGUIDBytes[T string | []byte](s T) (GUID, bool) {
	var g GUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, false
	}
	// The groups have even lengths, so pairs of digits never straddle a dash.
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, lo := hexValue[s[i]], hexValue[s[i+1]]
		if (hi|lo)&0xf0 != 0 {
			return g, false
		}
		g[j] = hi<<4 | lo
		j++
		i += 2
	}
	return g, true
}

// hexValue is the value of each hexadecimal digit, and 0xff for every
// other byte: GUIDs are parsed for every id of a world and every usage
// row's subscription, and a table beats comparisons.
var hexValue = func() (t [256]byte) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = byte(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = byte(c-'a') + 10
		case 'A' <= c && c <= 'F':
			t[c] = byte(c-'A') + 10
		default:
			t[c] = 0xff
		}
	}
	return t
}()

// String writes g in the lower-case 8-4-4-4-12 form (docs/rules.md#identifiers-and-time).
func (g GUID) String() string {
	const hexd = "0123456789abcdef"
	b := make([]byte, 0, 36)
	for i, x := range g {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexd[x>>4], hexd[x&15])
	}
	return string(b)
}

// NewGUID returns a random (version 4, RFC 9562) GUID, for request ids and
// other identifiers the server makes up.
func NewGUID() GUID {
	var g GUID
	if _, err := rand.Read(g[:]); err != nil {
		panic("partnerlink: no randomness: " + err.Error()) // crypto/rand never fails on Linux
	}
	g[6] = g[6]&0x0f | 0x40 // version 4
	g[8] = g[8]&0x3f | 0x80 // RFC 9562 variant
	return g
}
