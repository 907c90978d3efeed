package powerplatform_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink"
	pp "github.com/partnerlink/partnerlink/powerplatform"
)

// activityGzip is a 50-row activity file, gzip-compressed with a flush
// after row 20; it returns the stream and the offset of the flush.
func activityGzip(t *testing.T) ([]byte, int) {
	t.Helper()
	var head, tail strings.Builder
	head.WriteString("Date,TenantId,ResourceId,UserId,Activity\n")
	for i := 0; i < 50; i++ {
		b := &head
		if i >= 20 {
			b = &tail
		}
		fmt.Fprintf(b, "2026-03-%02d,%s,app,%s,Use\n", i%28+1, tenant, user1)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(head.String()))
	w.Flush()
	at := gz.Len()
	w.Write([]byte(tail.String()))
	w.Close()
	return gz.Bytes(), at
}

// docs/rules.md "Usage input": an activity file whose gzip stream is cut
// short — at a flush point or at any byte — is an error naming the file.
func TestActivityReaderTruncatedGzip(t *testing.T) {
	gz, flush := activityGzip(t)
	a := pp.NewActivity()
	if err := a.ReadCSV("act.csv.gz", bytes.NewReader(gz)); err != nil || a.Rows() != 50 {
		t.Fatalf("whole file: %d rows, %v", a.Rows(), err)
	}
	const want = "act.csv.gz: the file ends early: its gzip stream is cut short (the file is truncated or was not completely written); a truncated file is refused whole, never read as a shorter one"
	err := pp.NewActivity().ReadCSV("act.csv.gz", bytes.NewReader(gz[:flush]))
	if err == nil || err.Error() != want || partnerlink.ErrorCode(err) != partnerlink.EINVALID {
		t.Fatalf("cut at the flush point: got %v\nwant %s", err, want)
	}
	for cut := 2; cut < len(gz); cut++ {
		err := pp.NewActivity().ReadCSV("act.csv.gz", bytes.NewReader(gz[:cut]))
		if err == nil || err.Error() != want {
			t.Fatalf("cut at byte %d of %d: got %v\nwant %s", cut, len(gz), err, want)
		}
	}
	bad := bytes.Clone(gz)
	bad[len(bad)-5] ^= 0xff // the CRC-32 in the trailer
	err = pp.NewActivity().ReadCSV("act.csv.gz", bytes.NewReader(bad))
	if want := "act.csv.gz: the gzip stream is corrupt (gzip: invalid checksum); the file is refused whole"; err == nil || err.Error() != want {
		t.Errorf("corrupt: got %v\nwant %s", err, want)
	}
}

// A row with a missing field says how many fields it has and which the
// header names; a quote error names the line where its record starts.
func TestActivityReaderMessages(t *testing.T) {
	const ok = "2026-03-01," + tenant + ",app," + user1 + ",Use\n"
	cases := []struct {
		name, file, want string
	}{
		{"missing field", "\ufeffDate,TenantId,ResourceId,UserId,Activity\n" + ok + "2026-03-01," + tenant + ",app," + user1 + "\n",
			"act.csv line 3: has 4 fields, expected 5 (Date,TenantId,ResourceId,UserId,Activity)"},
		{"extra column", "Date,TenantId,ResourceId,UserId,Activity,Note\n" + strings.TrimSuffix(ok, "\n") + ",x\n" + ok,
			"act.csv line 3: has 5 fields, expected 6 (Date,TenantId,ResourceId,UserId,Activity,Note)"},
		{"profiles", "Month,TenantId,ResourceId,UnifiedProfiles\n2026-03," + tenant + ",ci,5,6\n",
			"act.csv line 2: has 5 fields, expected 4 (Month,TenantId,ResourceId,UnifiedProfiles)"},
		// A 4-line file whose third line opens a quote that never closes.
		{"unclosed quote", "Date,TenantId,ResourceId,UserId,Activity\n" + ok + strings.Replace(ok, ",app,", `,"app,`, 1) + ok,
			"act.csv line 3: unclosed quote, or a closing quote followed by other text, in the record that starts on this line; quote whole fields and double quotes inside them"},
	}
	for _, c := range cases {
		err := pp.NewActivity().ReadCSV("act.csv", strings.NewReader(c.file))
		if err == nil || err.Error() != c.want || partnerlink.ErrorCode(err) != partnerlink.EINVALID {
			t.Errorf("%s:\ngot  %v\nwant %s", c.name, err, c.want)
		}
	}
}
