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
	errQuote     = errors.New(`a quoted field is not closed, or its closing quote is followed by something other than a comma or the end of the line`)
)

// splitter splits records out of a buffer holding whole records.
type splitter struct {
	fields  [][]byte
	scratch []byte // unquoted copies of the fields of a record with quotes
	ends    []int
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
	if bytes.IndexByte(line, '"') < 0 {
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
	return s.quoted(data, pos)
}

// quoted splits a record that has quotes, copying field contents into
// scratch.
func (s *splitter) quoted(data []byte, pos int) (fields [][]byte, end, lines int, ok bool, lineErr int, err error) {
	s.scratch = s.scratch[:0]
	s.ends = s.ends[:0]
	i := pos
	n := len(data)
	for {
		// Start of a field.
		if i < n && data[i] == '"' {
			i++
			for {
				if i >= n {
					return nil, n, lines, false, lines, errQuote
				}
				c := data[i]
				switch {
				case c == '"':
					if i+1 < n && data[i+1] == '"' {
						s.scratch = append(s.scratch, '"')
						i += 2
						continue
					}
					i++
					goto closed
				case c == '\r' && i+1 < n && data[i+1] == '\n':
					s.scratch = append(s.scratch, '\n')
					lines++
					i += 2
				case c == '\n':
					s.scratch = append(s.scratch, '\n')
					lines++
					i++
				default:
					s.scratch = append(s.scratch, c)
					i++
				}
			}
		closed:
			s.ends = append(s.ends, len(s.scratch))
			switch {
			case i >= n:
				return s.finish(), n, lines, true, 0, nil
			case data[i] == ',':
				i++
				continue
			case data[i] == '\n':
				return s.finish(), i + 1, lines + 1, true, 0, nil
			case data[i] == '\r' && (i+1 == n || data[i+1] == '\n'):
				if i+1 == n {
					return s.finish(), n, lines, true, 0, nil
				}
				return s.finish(), i + 2, lines + 1, true, 0, nil
			default:
				return nil, n, lines, false, lines, errQuote
			}
		}
		// An unquoted field: up to a comma or the end of the line.
		for {
			if i >= n {
				s.ends = append(s.ends, len(s.scratch))
				return s.finish(), n, lines, true, 0, nil
			}
			c := data[i]
			switch {
			case c == ',':
				s.ends = append(s.ends, len(s.scratch))
				i++
				goto nextField
			case c == '\n':
				s.ends = append(s.ends, len(s.scratch))
				return s.finish(), i + 1, lines + 1, true, 0, nil
			case c == '\r' && (i+1 == n || data[i+1] == '\n'):
				s.ends = append(s.ends, len(s.scratch))
				if i+1 == n {
					return s.finish(), n, lines, true, 0, nil
				}
				return s.finish(), i + 2, lines + 1, true, 0, nil
			case c == '"':
				return nil, n, lines, false, lines, errBareQuote
			default:
				s.scratch = append(s.scratch, c)
				i++
			}
		}
	nextField:
	}
}

func (s *splitter) finish() [][]byte {
	s.fields = s.fields[:0]
	start := 0
	for _, e := range s.ends {
		s.fields = append(s.fields, s.scratch[start:e])
		start = e
	}
	return s.fields
}

// recordBoundary returns the length of the longest prefix of data that
// holds only whole records: up to and including the last newline that is
// outside quotes. data must start at a record boundary. It returns -1 when
// data holds no whole record.
func recordBoundary(data []byte) int {
	if bytes.IndexByte(data, '"') < 0 {
		i := bytes.LastIndexByte(data, '\n')
		if i < 0 {
			return -1
		}
		return i + 1
	}
	// Quote parity tells whether a newline is inside a quoted field: each
	// quote toggles the state, and a doubled quote toggles it twice.
	inQuotes := false
	last := -1
	for i, c := range data {
		switch c {
		case '"':
			inQuotes = !inQuotes
		case '\n':
			if !inQuotes {
				last = i
			}
		}
	}
	if last < 0 {
		return -1
	}
	return last + 1
}
