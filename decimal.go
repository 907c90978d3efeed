package partnerlink

import "github.com/cockroachdb/apd/v3"

// Amounts are exact decimals written as text, without exponent or trailing
// zeros ("0" for zero), as the reports and the CSV outputs write them
// (docs/api.md#attribution-csv).

var decimalContext = apd.BaseContext.WithPrecision(60)

// AddDecimal returns a+b; EINVALID when either is not a decimal.
func AddDecimal(a, b string) (string, error) { return decimalOp(a, b, decimalContext.Add) }

// SubDecimal returns a-b; EINVALID when either is not a decimal.
func SubDecimal(a, b string) (string, error) { return decimalOp(a, b, decimalContext.Sub) }

func decimalOp(a, b string, op func(z, x, y *apd.Decimal) (apd.Condition, error)) (string, error) {
	x, _, err := apd.NewFromString(a)
	if err != nil {
		return "", Errorf(EINVALID, "amount %q is not a decimal", a)
	}
	y, _, err := apd.NewFromString(b)
	if err != nil {
		return "", Errorf(EINVALID, "amount %q is not a decimal", b)
	}
	var z apd.Decimal
	if _, err := op(&z, x, y); err != nil {
		return "", err
	}
	return FormatDecimal(&z), nil
}

// FormatDecimal writes d without exponent or trailing zeros ("0" for zero).
func FormatDecimal(d *apd.Decimal) string {
	var z apd.Decimal
	z.Reduce(d)
	if z.IsZero() {
		return "0"
	}
	return z.Text('f')
}
