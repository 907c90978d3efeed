package focus

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/apd/v3"
)

// docs/rules.md#identifiers-and-time, docs/api.md#attribution-csv: money is exact decimal; sums are exact and written
// without exponent or trailing zeros, "0" for zero.
func TestAmountParseAndFormat(t *testing.T) {
	cases := []struct{ in, want string }{
		{"4.20", "4.2"},
		{"1.005", "1.005"},
		{"0", "0"},
		{"-0.000", "0"},
		{"000123.4500", "123.45"},
		{"1.5E-7", "0.00000015"},
		{"1e3", "1000"},
		{"-2.5e+2", "-250"},
		{".5", "0.5"},
		{"7.", "7"},
		{"123456789012345678901234567890.123456789012345678901", "123456789012345678901234567890.123456789012345678901"},
		{"0.0000000000000000000001", "0.0000000000000000000001"},
		{"1E+30", "1000000000000000000000000000000"},
		// The bounds, docs/rules.md#amounts: below 10^40, at most 60 decimals
		// once trailing zeros are dropped; a zero of any exponent is zero.
		{"9999999999999999999999999999999999999999.5", "9999999999999999999999999999999999999999.5"},
		{"-1E-60", "-0." + strings.Repeat("0", 59) + "1"},
		{"1.5E-59", "0." + strings.Repeat("0", 58) + "15"},
		{"0." + strings.Repeat("0", 59) + "1" + strings.Repeat("0", 200), "0." + strings.Repeat("0", 59) + "1"},
		{"0E-99999", "0"},
		{"0." + strings.Repeat("0", 500), "0"},
		{"0.1" + strings.Repeat("0", 5000), "0.1"},
		{"12.5" + strings.Repeat("0", 600) + "E-3", "0.0125"},
		{"7." + strings.Repeat("0", 450), "7"},
	}
	for _, c := range cases {
		a, err := ParseAmount([]byte(c.in))
		if err != nil {
			t.Errorf("ParseAmount(%q): %v", c.in, err)
			continue
		}
		if got := a.String(); got != c.want {
			t.Errorf("ParseAmount(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"", "-", ".", "1,5", "abc", "1e", "NaN", "Infinity", "1.2.3", "1e-", " 1",
		"1E40", "-1E+40", "10000000000000000000000000000000000000000", "1E-61", "1.5E-60", "1E99999", "1E-99999",
		"0." + strings.Repeat("0", 60) + "1", "1" + strings.Repeat("0", 1000) + ".5"} {
		if _, err := ParseAmount([]byte(bad)); err == nil {
			t.Errorf("ParseAmount(%q) accepted", bad)
		}
	}
}

// docs/rules.md#identifiers-and-time: sums are exact, including past the fast path's range and with
// values the fast path cannot hold.
func TestSumExact(t *testing.T) {
	cases := []struct {
		name  string
		terms []string
		want  string
	}{
		{"tenths", repeat("0.1", 10), "1"},
		{"example", []string{"4.20", "4.20"}, "8.4"},
		{"cancel", []string{"1.005", "-1.005"}, "0"},
		{"negative", []string{"-3", "1.25"}, "-1.75"},
		{"overflow to big", repeat("99999999999999999.9", 3000), "299999999999999999700"},
		{"mixed big and small", []string{"0.0000000000000000000001", "1"}, "1.0000000000000000000001"},
		{"max scale", []string{"0.000000000000000001", "0.000000000000000001"}, "0.000000000000000002"},
	}
	for _, c := range cases {
		var s Sum
		for _, x := range c.terms {
			s.Add(MustAmount(x))
		}
		if got := s.String(); got != c.want {
			t.Errorf("%s: sum = %s, want %s", c.name, got, c.want)
		}
		// Merging partial sums gives the same total.
		var a, b Sum
		for i, x := range c.terms {
			if i%2 == 0 {
				a.Add(MustAmount(x))
			} else {
				b.Add(MustAmount(x))
			}
		}
		a.AddSum(b)
		if got := a.String(); got != c.want {
			t.Errorf("%s: merged sum = %s, want %s", c.name, got, c.want)
		}
	}
	var zero Sum
	if zero.String() != "0" || !zero.IsZero() {
		t.Errorf("zero Sum = %s", zero.String())
	}
}

func repeat(s string, n int) []string { return strings.Split(strings.Repeat(s+" ", n-1)+s, " ") }

// The hot path adds without allocating.
func TestSumAddDoesNotAllocate(t *testing.T) {
	a := MustAmount("12.345")
	var s Sum
	allocs := testing.AllocsPerRun(1000, func() {
		s.Add(a)
	})
	if allocs != 0 {
		t.Errorf("Sum.Add allocates %v times per call", allocs)
	}
	var b Amount
	in := []byte("1234.5678")
	allocs = testing.AllocsPerRun(1000, func() {
		_ = b.parse(in)
	})
	if allocs != 0 {
		t.Errorf("Amount.parse allocates %v times per call", allocs)
	}
}

// docs/api.md#attribution-csv: the fast text of a Sum (one 128-bit division) is the same as
// the exact decimal's, for values on both sides of every boundary of the
// fast path (2^64 units, 10^18 units, negative, trailing zeros); Append
// writes the same text.
func TestSumStringMatchesDecimal(t *testing.T) {
	values := []string{"0.000000000000000001", "18.446744073709551615", "18.446744073709551616", "1", "-1",
		"123456789.5", "-0.5", "1000000000000000000.000000000000000001", "99999999999999999999.999999999999999999",
		"-99999999999999999999.999999999999999999", "12.340000000000000000", "0.1"}
	check := func(s Sum, what string) {
		t.Helper()
		want := formatDecimal(s.Decimal())
		if got := s.String(); got != want {
			t.Errorf("%s: String() = %s, want %s", what, got, want)
		}
		// Append writes the same text after what the buffer holds.
		if got := string(s.Append([]byte("x,"))); got != "x,"+want {
			t.Errorf("%s: Append = %s, want x,%s", what, got, want)
		}
	}
	for _, v := range values {
		var s Sum
		s.Add(MustAmount(v))
		check(s, v)
	}
	// Fast-path amounts (at most 18 digits) doubled up to 70 times: totals
	// from a few units to past the fast path's range.
	rng := uint64(42)
	for range 3000 {
		rng = rng*6364136223846793005 + 1442695040888963407
		v := fmt.Sprintf("%d.%06d", rng>>44, rng%1_000_000)
		if rng&1 == 1 {
			v = "-" + v
		}
		var s Sum
		s.Add(MustAmount(v))
		doublings := int(rng>>20) % 71
		for range doublings {
			s.AddSum(s)
		}
		check(s, fmt.Sprintf("%s × 2^%d", v, doublings))
	}
}

// Amount.String's fast path writes what the decimal library writes.
func TestAmountStringFastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200000 {
		coef := rng.Int64N(1 << 62)
		if i%3 == 0 {
			coef = rng.Int64N(100000)
		}
		if rng.IntN(2) == 0 {
			coef = -coef
		}
		a := Amount{coef: coef, scale: int32(rng.IntN(maxScale + 1))}
		if got, want := a.String(), formatDecimal(a.Decimal()); got != want {
			t.Fatalf("Amount{%d, %d}.String() = %q, want %q", a.coef, a.scale, got, want)
		}
	}
	for _, a := range []Amount{{coef: math.MinInt64, scale: 3}, {coef: math.MaxInt64, scale: 18}, {coef: 0, scale: 5}, {coef: 1500, scale: 3}} {
		if got, want := a.String(), formatDecimal(a.Decimal()); got != want {
			t.Errorf("Amount{%d, %d}.String() = %q, want %q", a.coef, a.scale, got, want)
		}
	}
}

// A Fixed adds what a Sum's fast path holds, and refuses, unchanged, an
// amount or a total beyond it, which the caller then adds to its Sum.
func TestFixedKeepsTheFastPath(t *testing.T) {
	amount := func(s string) Amount {
		a, err := ParseAmount([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	var f Fixed
	var want Sum
	for _, s := range []string{"1.5", "-0.25", "0.000000000000000001", "99999999999999999.9"} {
		if !f.Add(amount(s)) {
			t.Fatalf("Fixed refused %s", s)
		}
		want.Add(amount(s))
	}
	if f.Sum().String() != want.String() {
		t.Errorf("Fixed sums to %s, want %s", f.Sum().String(), want.String())
	}
	before := f
	if f.Add(amount("0.0000000000000000001")) || f != before {
		t.Errorf("Fixed took an amount with 19 places: %s", f.Sum().String())
	}
	big := amount("100000000000000000")
	n := 0
	for f.Add(big) {
		n++
	}
	if n != 1700 || f.Sum().String() != "170100000000000000001.150000000000000001" { // 2^127 × 10^-18 is about 1.7014×10^20
		t.Errorf("Fixed took %d × 10^17 before it was full, at %s", n, f.Sum().String())
	}
}

// docs/rules.md (money is exact decimal): a binary float amount in a
// Parquet file reads as the shortest decimal that reads back as it; the
// arithmetic shortcut gives, for every float it takes, the Amount that
// strconv's text gives.
func TestShortestDecimalIsStrconvs(t *testing.T) {
	viaText := func(f float64) Amount {
		var a Amount
		if err := a.parse(strconv.AppendFloat(nil, f, 'g', -1, 64)); err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		return a
	}
	check := func(f float64) bool {
		var got Amount
		if !shortestDecimal(&got, f) {
			return false
		}
		if want := viaText(f); got.coef != want.coef || got.scale != want.scale || got.big != nil || want.big != nil {
			t.Fatalf("%v (%016x): shortestDecimal gives %d×10^-%d, strconv %d×10^-%d (%v)", f, math.Float64bits(f), got.coef, got.scale, want.coef, want.scale, want.big)
		}
		return true
	}
	r := rand.New(rand.NewPCG(1, 2))
	taken := 0
	edges := []float64{0, math.Copysign(0, -1), 1e-4, math.Nextafter(1e-4, 1), 0.1 + 0.2, 1.0 / 3, 2.0 / 3, 999999.9999999999,
		math.Nextafter(1e6, 0), 0.5, 0.125, 1, 2, 4096, 4096.000000000001, math.Nextafter(4096, 0), 123456.789, 0.000123}
	for _, f := range edges {
		for _, g := range []float64{f, -f} {
			if check(g) {
				taken++
			}
		}
	}
	for range 200000 {
		// Decimals as costs are written: up to 10 places.
		k := r.IntN(11)
		n := r.Int64N(int64(pow10[min(k+6, 18)]))
		f, err := strconv.ParseFloat(strconv.FormatInt(n, 10)+"e-"+strconv.Itoa(k), 64)
		if err != nil {
			t.Fatal(err)
		}
		if r.IntN(2) == 0 {
			f = -f
		}
		if check(f) {
			taken++
		}
		// Any float in the range, and its neighbours.
		g := math.Float64frombits(r.Uint64())
		for _, h := range []float64{g, math.Nextafter(f, 0), math.Nextafter(f, math.Inf(1)), f * 1.0000001} {
			if check(h) {
				taken++
			}
		}
	}
	if taken < 200000 {
		t.Errorf("the shortcut took only %d floats", taken)
	}
}

// A DECIMAL of up to 16 bytes reads on the fast path when it fits once
// its trailing decimal zeros are dropped (a DECIMAL(38,18) cost), and as
// the same value as the big decimal otherwise.
func TestSmallDecimalIsTheBigOne(t *testing.T) {
	bigOf := func(b []byte, scale int32) string {
		v := new(big.Int).SetBytes(b)
		if b[0]&0x80 != 0 {
			v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(len(b)*8)))
		}
		var c apd.BigInt
		c.SetMathBigInt(v)
		return formatDecimal(apd.NewWithBigInt(&c, -scale))
	}
	r := rand.New(rand.NewPCG(3, 4))
	fast := 0
	check := func(b []byte, scale int32) {
		var a Amount
		if !setBigEndianDecimal(&a, b, scale) {
			t.Fatalf("% x scale %d: not read", b, scale)
		}
		if a.big == nil {
			fast++
		}
		if got, want := a.String(), bigOf(b, scale); got != want {
			t.Fatalf("% x scale %d: %s, want %s", b, scale, got, want)
		}
	}
	// DECIMAL(38,18) costs with up to 6 places, both signs.
	for range 20000 {
		v := new(big.Int).Mul(big.NewInt(r.Int64N(1e12)), new(big.Int).Exp(big.NewInt(10), big.NewInt(12), nil))
		if r.IntN(2) == 0 {
			v.Neg(v)
		}
		b := make([]byte, 16)
		v.FillBytes(b) // magnitude; two's complement below
		if v.Sign() < 0 {
			u := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 128), v)
			u.FillBytes(b)
		}
		check(b, 18)
	}
	if fast < 20000 {
		t.Errorf("only %d of 20000 DECIMAL(38,18) costs read on the fast path", fast)
	}
	// Any bytes, any length and scale: the same value either way.
	for range 50000 {
		b := make([]byte, 1+r.IntN(16))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if r.IntN(3) == 0 {
			for i := len(b) / 2; i < len(b); i++ {
				b[i] = 0 // trailing zeros in binary make decimal ones likelier
			}
		}
		check(b, int32(r.IntN(30)))
	}
	for _, b := range [][]byte{{0x80}, {0x7f}, {0xff}, {0}, append([]byte{0x80}, make([]byte, 15)...), append([]byte{0x7f}, bytesOf(0xff, 15)...), bytesOf(0xff, 16)} {
		for _, s := range []int32{0, 1, 18, 19, 38} {
			check(b, s)
		}
	}
}

func bytesOf(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}

// docs/scale.md, "The usage store": the store keeps a file's amounts as
// INT64 decimals of one scale when every amount fits 18 digits at it.
func TestAmountDigitsAndUnscaled(t *testing.T) {
	for _, c := range []struct {
		in              string
		whole, decimals int
		ok              bool
		scale           int
		unscaled        int64
		fits            bool
	}{
		{"0", 0, 0, true, 6, 0, true},
		{"12.50", 2, 1, true, 6, 12500000, true},
		{"-0.000123", 0, 6, true, 6, -123, true},
		{"-0.000123", 0, 6, true, 5, 0, false}, // would lose a digit
		{"1.5E-7", 0, 8, true, 8, 15, true},
		{"1.5E+3", 4, 0, true, 2, 150000, true},
		{"123456789012.345678", 12, 6, true, 6, 123456789012345678, true},
		{"123456789012.345678", 12, 6, true, 7, 0, false}, // 19 digits
		{"999999999999999999", 18, 0, true, 0, 999999999999999999, true},
		{"0.000000000000000001", 0, 18, true, 18, 1, true},
		{"1.000000000000000000", 1, 0, true, 17, 100000000000000000, true},
		{"1.000000000000000000", 1, 0, true, 18, 0, false},
		{"-2.5000000000000000000000", 1, 1, true, 3, -2500, true}, // read beyond the fast path, reduced
		{"1E+17", 18, 0, true, 0, 100000000000000000, true},
		{"1E+20", 0, 0, false, 0, 0, false},
		{"0.0000000000000000001", 0, 0, false, 18, 0, false}, // beyond the fast path
		{"12345678901234567890", 0, 0, false, 0, 0, false},
	} {
		a := MustAmount(c.in)
		whole, decimals, ok := a.Digits()
		if whole != c.whole || decimals != c.decimals || ok != c.ok {
			t.Errorf("%s.Digits() = %d, %d, %v; want %d, %d, %v", c.in, whole, decimals, ok, c.whole, c.decimals, c.ok)
		}
		n, fits := a.Unscaled(c.scale)
		if n != c.unscaled || fits != c.fits {
			t.Errorf("%s.Unscaled(%d) = %d, %v; want %d, %v", c.in, c.scale, n, fits, c.unscaled, c.fits)
		}
		// What Digits allows, Unscaled does, and reads back as the amount.
		if ok && whole+decimals <= 18 {
			n, fits := a.Unscaled(decimals)
			if back := (Amount{coef: n, scale: int32(decimals)}); !fits || back.String() != a.String() {
				t.Errorf("%s at its own scale %d: %d, %v", c.in, decimals, n, fits)
			}
		}
	}
}

// A Parquet DECIMAL beyond the bounds of docs/rules.md#amounts is refused
// as text beyond them is: 20 bytes hold 10^45, and a scale of 61 puts a
// digit past the 60th decimal.
func TestBigEndianDecimalBounds(t *testing.T) {
	ten45 := new(big.Int).Exp(big.NewInt(10), big.NewInt(45), nil).FillBytes(make([]byte, 20))
	one := []byte{0, 0, 0, 1}
	for _, c := range []struct {
		b     []byte
		scale int32
		ok    bool
		want  string
	}{
		{ten45, 0, false, ""},
		{ten45, 5, false, ""}, // 10^40
		{ten45, 6, true, "1" + strings.Repeat("0", 39)},
		{ten45, 10, true, "100000000000000000000000000000000000"},
		{one, 60, true, "0." + strings.Repeat("0", 59) + "1"},
		{one, 61, false, ""},
	} {
		var a Amount
		if ok := setBigEndianDecimal(&a, c.b, c.scale); ok != c.ok || ok && a.String() != c.want {
			t.Errorf("%x scale %d: %v %s, want %v %s", c.b, c.scale, ok, a.String(), c.ok, c.want)
		}
	}
}
