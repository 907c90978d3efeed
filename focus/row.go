// Package focus reads FinOps FOCUS 1.0 cost and usage files (docs/api.md#focus-usage):
// CSV, gzip-compressed CSV and Parquet, detected by their first bytes. Rows
// are streamed to a callback, in parallel when asked, without keeping the
// file in memory.
package focus

import (
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// Column names of FOCUS 1.0 that the reader uses (docs/api.md#focus-usage). Headers are
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
type GUID = partnerlink.GUID

// ParseGUID parses the text form of a GUID in any case.
func ParseGUID(s string) (GUID, bool) { return partnerlink.ParseGUIDBytes(s) }

func parseGUID(b []byte) (GUID, bool) { return partnerlink.ParseGUIDBytes(b) }

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
	// ResourceRef, when not zero, names ResourceID's entry in a Parquet
	// dictionary: rows with the same ResourceRef have the same ResourceID,
	// so a reader may resolve an entry once (a row group's rows of one
	// resource share it). Zero: no such hint.
	ResourceRef uint64
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

// repeatedColumn refuses a header where a column the reader uses appears
// twice (in any case): which of the two holds the usage cannot be told.
func repeatedColumn(name string, header []string) error {
	names := append(append([]string{}, requiredColumns...), ColEffectiveCostInUSD)
	for _, col := range names {
		first := -1
		for pos, h := range header {
			if !strings.EqualFold(strings.TrimSpace(h), col) {
				continue
			}
			if first >= 0 {
				return partnerlink.Errorf(partnerlink.EINVALID, "%s: column %s appears twice (columns %d and %d); a usage file has each FOCUS column once",
					name, col, first+1, pos+1)
			}
			first = pos
		}
	}
	return nil
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
