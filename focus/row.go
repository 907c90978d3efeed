// Package focus reads FinOps FOCUS 1.0 cost and usage files (SPEC §8.2):
// CSV, gzip-compressed CSV and Parquet, detected by their first bytes. Rows
// are streamed to a callback, in parallel when asked, without keeping the
// file in memory.
package focus

import (
	"encoding/hex"
	"strings"
	"time"
)

// Column names of FOCUS 1.0 that the reader uses (SPEC §8.2). Headers are
// matched case-insensitively and in any order; other columns are ignored.
const (
	ColChargePeriodStart  = "ChargePeriodStart"
	ColChargePeriodEnd    = "ChargePeriodEnd"
	ColChargeCategory     = "ChargeCategory"
	ColResourceID         = "ResourceId"
	ColSubAccountID       = "SubAccountId"
	ColServiceName        = "ServiceName"
	ColBillingCurrency    = "BillingCurrency"
	ColEffectiveCost      = "EffectiveCost"
	ColBilledCost         = "BilledCost"
	ColEffectiveCostInUSD = "x_EffectiveCostInUsd" // Azure's extension, optional
)

// requiredColumns are mandatory in FOCUS 1.0 and in every file we read.
var requiredColumns = []string{
	ColChargePeriodStart, ColChargePeriodEnd, ColChargeCategory, ColResourceID,
	ColSubAccountID, ColServiceName, ColBillingCurrency, ColEffectiveCost, ColBilledCost,
}

// Column indexes inside Row handling.
const (
	iStart = iota
	iEnd
	iCategory
	iResource
	iSubAccount
	iService
	iCurrency
	iEffective
	iBilled
	iUSD
	nColumns
)

// GUID is a subscription id in binary form: a map key without allocation.
type GUID [16]byte

// String writes g in lower-case 8-4-4-4-12 form.
func (g GUID) String() string {
	var b [36]byte
	g.appendTo(b[:0])
	return string(b[:])
}

func (g GUID) appendTo(b []byte) []byte {
	var h [32]byte
	hex.Encode(h[:], g[:])
	b = append(b, h[0:8]...)
	b = append(b, '-')
	b = append(b, h[8:12]...)
	b = append(b, '-')
	b = append(b, h[12:16]...)
	b = append(b, '-')
	b = append(b, h[16:20]...)
	b = append(b, '-')
	return append(b, h[20:32]...)
}

// ParseGUID parses the text form of a GUID in any case.
func ParseGUID(s string) (GUID, bool) { return parseGUID([]byte(s)) }

func parseGUID(b []byte) (GUID, bool) {
	var g GUID
	if len(b) != 36 || b[8] != '-' || b[13] != '-' || b[18] != '-' || b[23] != '-' {
		return g, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := unhex(b[i])
		lo, ok2 := unhex(b[i+1])
		if !ok1 || !ok2 {
			return g, false
		}
		g[j] = hi<<4 | lo
		j++
		i += 2
	}
	return g, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Row is one usage row. Byte slices point into the reader's buffers and
// are valid only during the callback that receives the row; copy what you
// keep.
type Row struct {
	// Line is where the row is in its file: for CSV the line on which the
	// record starts (the header is line 1), for Parquet the row number
	// counted from 1. Rows of one file have increasing Line numbers.
	Line int64

	ChargePeriodStart time.Time
	ChargePeriodEnd   time.Time
	ChargeCategory    []byte
	// ResourceID is as written in the file (may be empty: the usage is
	// then the subscription's own).
	ResourceID []byte
	// Subscription is SubAccountId, given as /subscriptions/{guid} or a
	// bare GUID in the file.
	Subscription    GUID
	ServiceName     []byte
	BillingCurrency []byte
	EffectiveCost   Amount
	BilledCost      Amount
	// EffectiveCostInUSD is Azure's x_EffectiveCostInUsd, when the file has
	// that column (HasEffectiveCostInUSD).
	EffectiveCostInUSD    Amount
	HasEffectiveCostInUSD bool
}

// columnIndex maps a header to the positions of the columns we use; -1 for
// an absent column.
func columnIndex(header []string) [nColumns]int {
	var idx [nColumns]int
	for i := range idx {
		idx[i] = -1
	}
	names := append(append([]string{}, requiredColumns...), ColEffectiveCostInUSD)
	for pos, h := range header {
		h = strings.TrimSpace(h)
		for c, name := range names {
			if idx[c] < 0 && strings.EqualFold(h, name) {
				idx[c] = pos
			}
		}
	}
	return idx
}
