package attribution

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// A large input is credited in passes, one part of the subscriptions at a
// time (Options.Part), each writing its CSV aside; MergeCSV then writes
// the run's CSV from theirs. Memory holds one part's resources, not all
// (docs/performance.md, "Memory as rows grow").

// keyFields are the columns of the attribution CSV that order its lines
// (CompareCredits): partner, tenant, subscription, resource, currency.
const keyFields = 5

// MergeCSV writes to w the attribution CSV (docs/api.md#attribution-csv)
// of a run read in parts, from the parts' CSV as Result.WriteCSV wrote
// them: every line once, in a Result's order. Parts hold different
// subscriptions, so no two lines share a key (one that does is refused);
// each line is copied as it is.
func MergeCSV(w io.Writer, parts []io.Reader) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.WriteString(CSVHeader + "\n"); err != nil {
		return err
	}
	var open []*csvPart
	for i, r := range parts {
		p := &csvPart{n: i, r: bufio.NewReaderSize(r, 1<<20)}
		header, err := p.r.ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("part %d: %w", i, err)
		}
		if header != CSVHeader+"\n" {
			return fmt.Errorf("part %d does not start with the attribution CSV header: %q", i, header)
		}
		ok, err := p.next()
		if err != nil {
			return err
		}
		if ok {
			open = append(open, p)
		}
	}
	for len(open) > 0 {
		// A handful of parts: the least line by a look at each.
		m := 0
		for i := 1; i < len(open); i++ {
			if c := compareKeys(&open[i].key, &open[m].key); c < 0 {
				m = i
			} else if c == 0 {
				return fmt.Errorf("parts %d and %d both credit %q", open[m].n, open[i].n, open[i].line)
			}
		}
		p := open[m]
		if _, err := bw.Write(p.line); err != nil {
			return err
		}
		ok, err := p.next()
		if err != nil {
			return err
		}
		if !ok {
			open = append(open[:m], open[m+1:]...)
		}
	}
	return bw.Flush()
}

// csvPart is one part's CSV, read a line at a time.
type csvPart struct {
	n    int
	r    *bufio.Reader
	line []byte            // the current line, its newline included
	key  [keyFields][]byte // its key fields, unquoted
	buf  []byte            // the unquoted fields of a line with quotes
}

// next reads the part's next line; false at its end.
func (p *csvPart) next() (bool, error) {
	p.line = p.line[:0]
	for {
		chunk, err := p.r.ReadSlice('\n')
		p.line = append(p.line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF && len(p.line) == 0 {
			return false, nil
		}
		if err != nil && err != io.EOF {
			return false, fmt.Errorf("part %d: %w", p.n, err)
		}
		// A quoted field may hold a newline: the record ends where the
		// quotes balance.
		if bytes.Count(p.line, []byte{'"'})%2 == 1 && err == nil {
			continue
		}
		break
	}
	if bytes.IndexByte(p.line, '"') < 0 {
		rest := bytes.TrimSuffix(p.line, []byte{'\n'})
		for i := range keyFields {
			j := bytes.IndexByte(rest, ',')
			if j < 0 {
				return false, fmt.Errorf("part %d: a line has fewer than %d fields: %q", p.n, keyFields+1, p.line)
			}
			p.key[i], rest = rest[:j], rest[j+1:]
		}
		return true, nil
	}
	rec, err := csv.NewReader(bytes.NewReader(p.line)).Read()
	if err != nil || len(rec) <= keyFields {
		return false, fmt.Errorf("part %d: a line does not read as attribution CSV (%v): %q", p.n, err, p.line)
	}
	p.buf = p.buf[:0]
	var ends [keyFields]int
	for i := range keyFields {
		p.buf = append(p.buf, rec[i]...)
		ends[i] = len(p.buf)
	}
	from := 0
	for i := range keyFields {
		p.key[i], from = p.buf[from:ends[i]], ends[i]
	}
	return true, nil
}

// compareKeys orders lines as CompareCredits does.
func compareKeys(a, b *[keyFields][]byte) int {
	for i := range keyFields {
		if c := bytes.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}
