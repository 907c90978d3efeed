package focus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Amount is an exact decimal read from a cost column. Most amounts have at
// most 18 significant digits and 18 digits after the point; those are held
// as an int64 coefficient and a scale with no allocation. Anything else
// (more digits, large exponents) falls back to an arbitrary-precision apd
// decimal. Binary floating point is never used (docs/rules.md#identifiers-and-time).
type Amount struct {
	coef  int64 // value = coef × 10^-scale, on the fast path
	scale int32
	big   *apd.Decimal // non-nil when the value does not fit the fast path
}

// maxScale is the fixed scale of Sum's fast path: 18 digits after the point.
const maxScale = 18

var pow10 = func() [19]uint64 {
	var p [19]uint64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// exact is the apd context for the slow path: precision 0 disables
// rounding, so additions are exact.
var exact = apd.Context{
	Precision:   0,
	MaxExponent: apd.MaxExponent,
	MinExponent: apd.MinExponent,
	Traps:       apd.DefaultTraps,
}

// ParseAmount parses a decimal number: an optional sign, digits with an
// optional point, and an optional exponent ("12.34", "-0.5", "1.5E-7").
// Empty text, NaN and infinities are refused.
func ParseAmount(b []byte) (Amount, error) {
	var a Amount
	if err := a.parse(b); err != nil {
		return Amount{}, err
	}
	return a, nil
}

// MustAmount parses s and panics if it is not a decimal; for tests and
// constants.
func MustAmount(s string) Amount {
	a, err := ParseAmount([]byte(s))
	if err != nil {
		panic(err)
	}
	return a
}

// wantAmount is what an amount column accepts, as error messages say it
// after "expected".
const wantAmount = "a decimal number such as 12.34, -0.5 or 1.5E-7, below 10^40 in magnitude and with at most 60 digits after the point"

// maxWhole and maxDecimals bound an amount: below 10^maxWhole in magnitude,
// with at most maxDecimals digits after the point once trailing zeros are
// dropped (docs/rules.md#amounts). Costs are far inside; the bound keeps
// exact sums cheap, since an amount such as 1E99999 beside 1E-99999 would
// need a sum of 200,000 digits.
const maxWhole, maxDecimals = 40, 60

var errAmount = errors.New("not a decimal number; expected " + wantAmount)

// parse sets a from b without allocating on the fast path.
func (a *Amount) parse(b []byte) error {
	a.big = nil
	i := 0
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	var coef uint64
	digits, scale := 0, 0
	sawDigit, sawPoint := false, false
	for ; i < len(b); i++ {
		c := b[i]
		if c >= '0' && c <= '9' {
			sawDigit = true
			if coef == 0 && c == '0' {
				// Leading zeros add no significant digit.
				if sawPoint {
					scale++
				}
				continue
			}
			if digits == 18 {
				return a.parseSlow(b)
			}
			coef = coef*10 + uint64(c-'0')
			digits++
			if sawPoint {
				scale++
			}
			continue
		}
		if c == '.' && !sawPoint {
			sawPoint = true
			continue
		}
		break
	}
	if !sawDigit {
		return errAmount
	}
	if i < len(b) {
		if b[i] != 'e' && b[i] != 'E' {
			return errAmount
		}
		return a.parseSlowExp(b, coef, neg, scale, i+1)
	}
	if scale > maxScale {
		return a.parseSlow(b)
	}
	a.coef = int64(coef)
	if neg {
		a.coef = -a.coef
	}
	a.scale = int32(scale)
	return nil
}

// parseSlowExp handles an exponent: it stays on the fast path when the
// result has a scale between 0 and 18 and fits.
func (a *Amount) parseSlowExp(b []byte, coef uint64, neg bool, scale, i int) error {
	eneg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		eneg = b[i] == '-'
		i++
	}
	if i == len(b) {
		return errAmount
	}
	exp := 0
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return errAmount
		}
		if exp > 100000 {
			return errAmount
		}
		exp = exp*10 + int(c-'0')
	}
	if eneg {
		exp = -exp
	}
	s := scale - exp
	for s < 0 && coef != 0 && coef < pow10[17] {
		coef *= 10
		s++
	}
	if coef == 0 {
		s = 0
	}
	if s < 0 || s > maxScale {
		return a.parseSlow(b)
	}
	a.coef = int64(coef)
	if neg {
		a.coef = -a.coef
	}
	a.scale = int32(s)
	return nil
}

func (a *Amount) parseSlow(b []byte) error {
	// Zeros that end the digits after the point add nothing: dropped from
	// the text, they are no part of the coefficient setBig bounds
	// (docs/rules.md#amounts: "0.1000…0" with any number of zeros).
	if i := bytes.IndexByte(b, '.'); i >= 0 {
		end := len(b)
		if e := bytes.IndexAny(b, "eE"); e > i {
			end = e
		}
		j := end
		for j > i+1 && b[j-1] == '0' {
			j--
		}
		if j == i+1 {
			j = i // "5.000" is "5"
		}
		if j < end {
			b = append(append([]byte{}, b[:j]...), b[end:]...)
		}
	}
	d, _, err := apd.NewFromString(string(b))
	if err != nil || d.Form != apd.Finite {
		return errAmount
	}
	if !a.setBig(d) {
		return errAmount
	}
	return nil
}

// setBig sets a to d when d is within the bounds of maxWhole and
// maxDecimals (a zero of any exponent is the fast path's zero), and
// reports whether it was.
func (a *Amount) setBig(d *apd.Decimal) bool {
	*a = Amount{}
	if d.IsZero() {
		return true
	}
	// A coefficient this long cannot be in bounds but by trailing zeros
	// past any sensible writing; refusing it first keeps Reduce cheap.
	if d.NumDigits() > 4*(maxWhole+maxDecimals) {
		return false
	}
	var r apd.Decimal
	r.Reduce(d)
	if -int64(r.Exponent) > maxDecimals || r.NumDigits()+int64(r.Exponent) > maxWhole {
		return false
	}
	a.big = d
	return true
}

// IsZero reports whether a is zero.
func (a Amount) IsZero() bool {
	if a.big != nil {
		return a.big.IsZero()
	}
	return a.coef == 0
}

// Digits reports how many digits a's value has before the point and after
// it, trailing zeros after the point not counted (12.50: 2 and 1); ok is
// false for an amount of more than 18 digits, or 18 decimals, without its
// trailing zeros. The usage store picks the scale it stores a file's
// amounts at from them (docs/scale.md).
func (a Amount) Digits() (whole, decimals int, ok bool) {
	if a, ok = a.small(); !ok {
		return 0, 0, false
	}
	u, s := magnitude(a.coef), int(a.scale)
	for s > 0 && u%10 == 0 {
		u, s = u/10, s-1
	}
	for u /= pow10[s]; u > 0; u /= 10 {
		whole++
	}
	return whole, s, true
}

// Unscaled is a × 10^scale, the integer Parquet's INT64 DECIMAL(18, scale)
// stores a as; ok is false unless that is exact and below 10^18 in
// magnitude.
func (a Amount) Unscaled(scale int) (n int64, ok bool) {
	if a, ok = a.small(); !ok || scale < 0 || scale > maxScale {
		return 0, false
	}
	u, s := magnitude(a.coef), int(a.scale)
	for s > scale {
		if u%10 != 0 {
			return 0, false
		}
		u, s = u/10, s-1
	}
	if u >= pow10[18]/pow10[scale-s] {
		return 0, false
	}
	n = int64(u * pow10[scale-s])
	if a.coef < 0 {
		n = -n
	}
	return n, true
}

// small is a on the fast path, its trailing zeros dropped when it was
// read with more digits than the fast path holds (1.000000000000000000,
// 19 digits, is 1); ok is false when it does not fit even so.
func (a Amount) small() (Amount, bool) {
	if a.big == nil {
		return a, a.scale >= 0 && a.scale <= maxScale
	}
	var r apd.Decimal
	r.Reduce(a.big)
	if r.Form != apd.Finite || r.Exponent < -maxScale || r.Exponent > maxScale || !r.Coeff.IsInt64() {
		return Amount{}, false
	}
	c, e := r.Coeff.Int64(), int(r.Exponent)
	for ; e > 0 && c < int64(pow10[17]); e-- {
		c *= 10
	}
	if e > 0 || c >= int64(pow10[18]) {
		return Amount{}, false
	}
	if r.Negative {
		c = -c
	}
	return Amount{coef: c, scale: int32(-e)}, true
}

// AppendKey appends a key of a's value: equal values give equal keys
// (1.5 and 1.50 alike), without allocating on the fast path.
func (a Amount) AppendKey(b []byte) []byte {
	if s, ok := a.small(); ok {
		u, scale := magnitude(s.coef), s.scale
		for scale > 0 && u%10 == 0 {
			u, scale = u/10, scale-1
		}
		if u == 0 {
			scale = 0
		}
		b = append(b, 'f', byte(scale))
		if s.coef < 0 && u != 0 {
			b = append(b, '-')
		}
		return binary.LittleEndian.AppendUint64(b, u)
	}
	return append(append(b, 'b'), a.String()...)
}

// magnitude is |n| (n > math.MinInt64, as every fast-path coefficient).
func magnitude(n int64) uint64 {
	if n < 0 {
		return uint64(-n)
	}
	return uint64(n)
}

// Decimal returns a as an apd decimal (allocating).
func (a Amount) Decimal() *apd.Decimal {
	if a.big != nil {
		return new(apd.Decimal).Set(a.big)
	}
	return apd.New(a.coef, -a.scale)
}

// String writes a without exponent and without trailing zeros after the
// point; zero is "0" (docs/api.md#attribution-csv).
func (a Amount) String() string {
	if a.big == nil && a.scale >= 0 && a.scale <= maxScale {
		// The fast path needs no decimal library: summaries and the usage
		// store (for amounts it keeps as text) write amounts by the million.
		return fixedText(a.coef < 0, strconv.FormatUint(magnitude(a.coef), 10), int(a.scale))
	}
	return formatDecimal(a.Decimal())
}

// formatDecimal writes d in plain notation with trailing zeros removed.
func formatDecimal(d *apd.Decimal) string {
	if d.IsZero() {
		return "0"
	}
	var r apd.Decimal
	r.Reduce(d)
	s := r.Text('f')
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

// Sum is an exact running total of Amounts. Its fast path is a 128-bit
// integer count of 10^-18 units, so adding a fast-path Amount is a multiply
// and an add with no allocation; amounts outside the fast path, or a total
// that would overflow it (beyond about 1.7×10^20), move the sum to an
// arbitrary-precision apd decimal. The zero value is 0.
type Sum struct {
	hi  int64 // two's complement 128-bit value hi:lo
	lo  uint64
	big *apd.Decimal // non-nil once the sum has left the fast path
}

// Add adds a to s.
func (s *Sum) Add(a Amount) {
	if a.big == nil && s.big == nil {
		hi, lo := scaled(a.coef, a.scale)
		if s.add128(hi, lo) {
			return
		}
	}
	s.spill()
	if _, err := exact.Add(s.big, s.big, a.Decimal()); err != nil {
		// Exact addition of finite decimals cannot fail short of
		// exponents beyond ±10^8, which parsing refuses.
		panic(fmt.Sprintf("focus: exact decimal add: %v", err))
	}
}

// AddSum adds o to s.
func (s *Sum) AddSum(o Sum) {
	if o.big == nil && s.big == nil {
		if s.add128(o.hi, o.lo) {
			return
		}
	}
	s.spill()
	if _, err := exact.Add(s.big, s.big, o.Decimal()); err != nil {
		panic(fmt.Sprintf("focus: exact decimal add: %v", err))
	}
}

// add128 adds hi:lo to s's fast path and reports false (leaving s
// unchanged) on signed overflow.
func (s *Sum) add128(hi int64, lo uint64) bool {
	return add128(&s.hi, &s.lo, hi, lo)
}

// add128 adds hi:lo to the 128-bit value *shi:*slo and reports false
// (leaving it unchanged) on signed overflow.
func add128(shi *int64, slo *uint64, hi int64, lo uint64) bool {
	nlo, carry := bits.Add64(*slo, lo, 0)
	nhi, _ := bits.Add64(uint64(*shi), uint64(hi), carry)
	r := int64(nhi)
	if (*shi >= 0) == (hi >= 0) && (r >= 0) != (*shi >= 0) {
		return false
	}
	*shi, *slo = r, nlo
	return true
}

// Fixed is a Sum's fast path alone, without the pointer to its
// arbitrary-precision form: totals kept by the hundred thousand (the
// attribution's credits) are then memory the garbage collector never
// scans. The zero value is 0.
type Fixed struct {
	hi int64
	lo uint64
}

// Add adds a to f and reports true, or reports false and leaves f
// unchanged when the sum leaves the fast path (an amount beyond it, or a
// total beyond about 1.7×10^20): the caller then goes on with f.Sum().
func (f *Fixed) Add(a Amount) bool {
	if a.big != nil {
		return false
	}
	hi, lo := scaled(a.coef, a.scale)
	return add128(&f.hi, &f.lo, hi, lo)
}

// AddSum adds s to f and reports true, or reports false and leaves f
// unchanged when s or the total is beyond the fast path (as Add).
func (f *Fixed) AddSum(s Sum) bool {
	if s.big != nil {
		return false
	}
	return add128(&f.hi, &f.lo, s.hi, s.lo)
}

// Sum is f as a Sum.
func (f Fixed) Sum() Sum { return Sum{hi: f.hi, lo: f.lo} }

// scaled returns coef × 10^(18-scale) as a 128-bit two's complement value.
// |coef| < 10^18 and the factor ≤ 10^18, so the product is below 2^120.
func scaled(coef int64, scale int32) (int64, uint64) {
	neg := coef < 0
	hi, lo := bits.Mul64(magnitude(coef), pow10[maxScale-scale])
	if neg {
		lo = ^lo + 1
		hi = ^hi
		if lo == 0 {
			hi++
		}
	}
	return int64(hi), lo
}

// spill moves s to the apd slow path.
func (s *Sum) spill() {
	if s.big != nil {
		return
	}
	s.big = s.fastDecimal()
	s.hi, s.lo = 0, 0
}

func (s *Sum) fastDecimal() *apd.Decimal {
	v := new(big.Int).SetInt64(s.hi)
	v.Lsh(v, 64)
	v.Or(v, new(big.Int).SetUint64(s.lo))
	var c apd.BigInt
	c.SetMathBigInt(v)
	return apd.NewWithBigInt(&c, -maxScale)
}

// Decimal returns the total as an apd decimal (allocating).
func (s Sum) Decimal() *apd.Decimal {
	if s.big != nil {
		return new(apd.Decimal).Set(s.big)
	}
	return s.fastDecimal()
}

// IsZero reports whether the total is zero.
func (s Sum) IsZero() bool {
	if s.big != nil {
		return s.big.IsZero()
	}
	return s.hi == 0 && s.lo == 0
}

// String writes the total without exponent and without trailing zeros
// after the point; zero is "0" (docs/api.md#attribution-csv).
func (s Sum) String() string {
	if b, ok := s.appendFast(nil); ok {
		return string(b)
	}
	return s.slowString()
}

// Append appends String's text to b, without allocating on the fast path
// (writing the credits of 10M usage rows made 1.3M such texts).
func (s Sum) Append(b []byte) []byte {
	if out, ok := s.appendFast(b); ok {
		return out
	}
	return append(b, s.slowString()...)
}

// appendFast appends the text of a total whose magnitude is below 10^18
// (integer part) and reports false, appending nothing, for others.
func (s Sum) appendFast(b []byte) ([]byte, bool) {
	if s.big != nil {
		return b, false
	}
	neg, hi, lo := s.magnitude()
	if hi >= pow10[maxScale] {
		return b, false
	}
	// The quotient by 10^18 fits in 64 bits: integer and fraction digits
	// come from one 128-by-64-bit division, without big.Int.
	q, r := bits.Div64(hi, lo, pow10[maxScale])
	if neg {
		b = append(b, '-')
	}
	b = strconv.AppendUint(b, q, 10)
	if r != 0 {
		var frac [maxScale]byte
		for i := maxScale - 1; i >= 0; i-- {
			frac[i] = byte('0' + r%10)
			r /= 10
		}
		n := maxScale
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, '.')
		b = append(b, frac[:n]...)
	}
	return b, true
}

// magnitude splits the fast path's value into its sign and absolute value.
func (s Sum) magnitude() (neg bool, hi, lo uint64) {
	neg = s.hi < 0
	hi, lo = uint64(s.hi), s.lo
	if neg {
		lo = ^lo + 1
		hi = ^hi
		if lo == 0 {
			hi++
		}
	}
	return neg, hi, lo
}

// slowString is String for totals appendFast does not write.
func (s Sum) slowString() string {
	if s.big != nil {
		return formatDecimal(s.big)
	}
	neg, hi, lo := s.magnitude()
	var digits string
	if hi == 0 {
		digits = strconv.FormatUint(lo, 10)
	} else {
		v := new(big.Int).SetUint64(hi)
		v.Lsh(v, 64)
		v.Or(v, new(big.Int).SetUint64(lo))
		digits = v.String()
	}
	return fixedText(neg, digits, maxScale)
}

// fixedText writes the integer digits scaled by 10^-scale in plain
// notation without trailing zeros after the point.
func fixedText(neg bool, digits string, scale int) string {
	if digits == "0" {
		return "0"
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	intPart, frac := digits[:len(digits)-scale], strings.TrimRight(digits[len(digits)-scale:], "0")
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}
