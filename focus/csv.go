package focus

import (
	"bytes"
	"errors"
)

// This file is a CSV record splitter for RFC 4180 files that agrees with
// encoding/csv (FieldsPerRecord = -1, LazyQuotes = false): "\r\n" and "\n"
// end records, blank lines are skipped, quoted fields may hold commas,
// doubled quotes and newlines, and a quote inside an unquoted field is an
// error. It exists because the hot path of attribution is reading usage:
// records without quotes (almost all of them) are split in place with
// bytes.IndexByte, and fields are slices of the input, not copies.

var (
	errBareQuote = errors.New(`a quote (") appears inside an unquoted field; quote the whole field and double quotes inside it`)
	errUnclosed  = errors.New(`unclosed quote: the quoted field that starts on this line has no closing quote (") before the end of the file`)
	errQuote     = errors.New(`a quoted field's closing quote (") is followed by something other than a comma or the end of the line; double quotes inside a quoted field`)
)

// splitter splits records out of a buffer holding whole records.
type splitter struct {
	fields  [][]byte
	scratch []byte // unescaped copies of quoted fields that need it
	spans   []span
}

// next splits the record that starts at data[pos:]. It returns the fields
// (valid until the next call), the position after the record, and the
// number of newlines the record spanned (its own included). A blank line
// yields no fields and ok=false. lineErr reports, for an error, how many
// lines into the record it happened.
func (s *splitter) next(data []byte, pos int) (fields [][]byte, end, lines int, ok bool, lineErr int, err error) {
	rest := data[pos:]
	nl := bytes.IndexByte(rest, '\n')
	var line []byte
	if nl < 0 {
		line = rest
		end = len(data)
	} else {
		line = rest[:nl]
		end = pos + nl + 1
		lines = 1
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		// encoding/csv drops the \r of a final \r\n, and of a final \r
		// at the end of the input.
		line = line[:n-1]
	}
	if len(line) == 0 {
		return nil, end, lines, false, 0, nil
	}
	quotes := bytes.Count(line, quote)
	if quotes == 0 {
		s.fields = s.fields[:0]
		for {
			i := bytes.IndexByte(line, ',')
			if i < 0 {
				s.fields = append(s.fields, line)
				break
			}
			s.fields = append(s.fields, line[:i])
			line = line[i+1:]
		}
		return s.fields, end, lines, true, 0, nil
	}
	if fields, ok := s.quotedLine(line, quotes); ok {
		return fields, end, lines, true, 0, nil
	}
	return s.quoted(data, pos)
}

// quotedLine splits a one-line record with quoted fields that need no
// unescaping (FOCUS exports quote names such as ServiceName); the line
// holds quotes quote characters. It reports false for anything else — a
// quoted field that goes on past the line, a doubled quote, a quote inside
// an unquoted field — and quoted then decides, errors included. The quotes
// are counted once for the line: when the quoted fields account for all
// of them, no unquoted field holds one, which spares a search per field.
func (s *splitter) quotedLine(line []byte, quotes int) ([][]byte, bool) {
	s.fields = s.fields[:0]
	for {
		if len(line) > 0 && line[0] == '"' {
			j := bytes.IndexByte(line[1:], '"')
			if j < 0 {
				return nil, false
			}
			s.fields = append(s.fields, line[1:1+j])
			quotes -= 2
			line = line[2+j:]
			if len(line) == 0 {
				return s.fields, quotes == 0
			}
			if line[0] != ',' {
				return nil, false
			}
			line = line[1:]
			continue
		}
		i := bytes.IndexByte(line, ',')
		if i < 0 {
			s.fields = append(s.fields, line)
			return s.fields, quotes == 0
		}
		s.fields = append(s.fields, line[:i])
		line = line[i+1:]
	}
}

// span is a field of a record with quotes: a slice of the input, or of
// scratch when the field had to be unescaped ("" or CRLF inside quotes).
type span struct {
	start, end int
	scratch    bool
}

// quoted splits a record that has quotes. Fields stay slices of the input
// unless they hold a doubled quote or a CRLF inside quotes; only those are
// copied (unescaped) into scratch.
func (s *splitter) quoted(data []byte, pos int) (fields [][]byte, end, lines int, ok bool, lineErr int, err error) {
	s.scratch = s.scratch[:0]
	s.spans = s.spans[:0]
	i := pos
	n := len(data)
	for {
		if i < n && data[i] == '"' {
			// A quoted field: jump from quote to quote.
			i++
			start := i
			startLines := lines // the field starts this many lines into the record
			copying, from := false, 0
			for {
				j := bytes.IndexByte(data[i:], '"')
				if j < 0 {
					// Reported at the line where the field starts: the end
					// of the file says nothing about where the quote is.
					return nil, n, lines, false, startLines, errUnclosed
				}
				seg := data[i : i+j]
				if k := bytes.Count(seg, nl); k > 0 {
					lines += k
					if !copying && bytes.Contains(seg, crlf) {
						copying, from = true, len(s.scratch)
						s.scratch = append(s.scratch, data[start:i]...)
					}
				}
				if copying {
					s.scratch = appendCRLFtoLF(s.scratch, seg)
				}
				i += j
				if i+1 < n && data[i+1] == '"' {
					if !copying {
						copying, from = true, len(s.scratch)
						s.scratch = append(s.scratch, data[start:i]...)
					}
					s.scratch = append(s.scratch, '"')
					i += 2
					continue
				}
				if copying {
					s.spans = append(s.spans, span{from, len(s.scratch), true})
				} else {
					s.spans = append(s.spans, span{start, i, false})
				}
				i++ // the closing quote
				break
			}
			switch {
			case i >= n:
				return s.finish(data), n, lines, true, 0, nil
			case data[i] == ',':
				i++
				continue
			case data[i] == '\n':
				return s.finish(data), i + 1, lines + 1, true, 0, nil
			case data[i] == '\r' && (i+1 == n || data[i+1] == '\n'):
				if i+1 == n {
					return s.finish(data), n, lines, true, 0, nil
				}
				return s.finish(data), i + 2, lines + 1, true, 0, nil
			default:
				return nil, n, lines, false, lines, errQuote
			}
		}
		// An unquoted field: up to a comma or the end of the line.
		start := i
		for {
			if i >= n {
				s.spans = append(s.spans, span{start, i, false})
				return s.finish(data), n, lines, true, 0, nil
			}
			switch c := data[i]; {
			case c == ',':
				s.spans = append(s.spans, span{start, i, false})
				i++
				goto nextField
			case c == '\n':
				s.spans = append(s.spans, span{start, i, false})
				return s.finish(data), i + 1, lines + 1, true, 0, nil
			case c == '\r' && (i+1 == n || data[i+1] == '\n'):
				s.spans = append(s.spans, span{start, i, false})
				if i+1 == n {
					return s.finish(data), n, lines, true, 0, nil
				}
				return s.finish(data), i + 2, lines + 1, true, 0, nil
			case c == '"':
				return nil, n, lines, false, lines, errBareQuote
			}
			i++
		}
	nextField:
	}
}

var (
	nl    = []byte{'\n'}
	crlf  = []byte("\r\n")
	quote = []byte{'"'}
)

// appendCRLFtoLF appends seg to dst with each CRLF turned into LF, as
// encoding/csv does inside quoted fields.
func appendCRLFtoLF(dst, seg []byte) []byte {
	for {
		k := bytes.Index(seg, crlf)
		if k < 0 {
			return append(dst, seg...)
		}
		dst = append(dst, seg[:k]...)
		dst = append(dst, '\n')
		seg = seg[k+2:]
	}
}

func (s *splitter) finish(data []byte) [][]byte {
	s.fields = s.fields[:0]
	for _, sp := range s.spans {
		if sp.scratch {
			s.fields = append(s.fields, s.scratch[sp.start:sp.end])
		} else {
			s.fields = append(s.fields, data[sp.start:sp.end])
		}
	}
	return s.fields
}

// recordBoundary returns the length of the longest prefix of data that
// holds only whole records: up to and including the last newline that is
// outside quotes. data must start at a record boundary. It returns -1 when
// data holds no whole record.
//
// A newline is outside quotes when an even number of quotes precede it
// (each quote toggles the state; a doubled quote toggles it twice). Counting
// quotes with bytes.Count is vectorized, so this costs a fraction of a
// byte-by-byte walk of the buffer.
func recordBoundary(data []byte) int {
	quotes := bytes.Count(data, quote)
	end := len(data)
	for {
		i := bytes.LastIndexByte(data[:end], '\n')
		if i < 0 {
			return -1
		}
		quotes -= bytes.Count(data[i:end], quote)
		if quotes%2 == 0 {
			return i + 1
		}
		end = i
	}
}
