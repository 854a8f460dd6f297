package parser

import (
	"bytes"
	"time"
)

// stripANSI appends line to dst without its ANSI CSI escapes (ESC '[',
// parameter and intermediate bytes, a final letter): docker compose colours
// its prefixes when attached to a terminal, and the colours must never enter
// a field. A malformed escape loses only its ESC byte.
func stripANSI(dst, line []byte) []byte {
	for {
		i := bytes.IndexByte(line, 0x1b)
		if i < 0 {
			return append(dst, line...)
		}
		dst = append(dst, line[:i]...)
		line = line[i+1:]
		if len(line) == 0 || line[0] != '[' {
			continue
		}
		j := 1
		for j < len(line) && line[j] >= 0x20 && line[j] <= 0x3f {
			j++
		}
		if j < len(line) && (line[j]|0x20) >= 'a' && (line[j]|0x20) <= 'z' {
			line = line[j+1:]
		}
	}
}

// composePrefix matches docker compose's `service  | ` at the start of a
// line and returns the service name and the prefix length, or n == 0.
func composePrefix(line []byte) (service []byte, n int) {
	i := 0
	for i < len(line) && is(line[i], cService) {
		i++
	}
	if i == 0 {
		return nil, 0
	}
	j := i
	for j < len(line) && line[j] == ' ' {
		j++
	}
	if j == i || j >= len(line) || line[j] != '|' {
		return nil, 0
	}
	j++
	if j < len(line) { // an empty log line ends right after the bar
		if line[j] != ' ' {
			return nil, 0
		}
		j++
	}
	return line[:i], j
}

// timestamp matches an RFC 3339 timestamp (up to nine fractional digits, Z
// or a numeric offset) followed by a space or the end of the line. It
// returns the text, the instant in UTC and the number of bytes consumed,
// including the space; n == 0 when there is none.
func timestamp(b []byte) (text []byte, t time.Time, n int) {
	// YYYY-MM-DDTHH:MM:SS is 19 bytes, then a zone of at least one.
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10]|0x20 != 't' || b[13] != ':' || b[16] != ':' {
		return nil, time.Time{}, 0
	}
	y1, ok1 := two(b[0], b[1])
	y2, ok2 := two(b[2], b[3])
	month, ok3 := two(b[5], b[6])
	day, ok4 := two(b[8], b[9])
	hour, ok5 := two(b[11], b[12])
	min, ok6 := two(b[14], b[15])
	sec, ok7 := two(b[17], b[18])
	year := y1*100 + y2
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || min > 59 || sec > 60 {
		return nil, time.Time{}, 0
	}
	i := 19
	nsec := 0
	if b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i]-'0' <= 9 {
			if i-start == 9 {
				return nil, time.Time{}, 0 // more precision than RFC 3339 timestamps carry here
			}
			nsec = nsec*10 + int(b[i]-'0')
			i++
		}
		if i == start {
			return nil, time.Time{}, 0
		}
		nsec *= pow10[9-(i-start)]
	}
	if i >= len(b) {
		return nil, time.Time{}, 0
	}
	offset := 0
	switch b[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(b) < i+6 || b[i+3] != ':' {
			return nil, time.Time{}, 0
		}
		oh, okh := two(b[i+1], b[i+2])
		om, okm := two(b[i+4], b[i+5])
		if !okh || !okm || oh > 23 || om > 59 {
			return nil, time.Time{}, 0
		}
		offset = (oh*60 + om) * 60
		if b[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		return nil, time.Time{}, 0
	}
	text = b[:i]
	if i < len(b) {
		if b[i] != ' ' {
			return nil, time.Time{}, 0
		}
		i++
	}
	unix := daysFromCivil(year, month, day)*86400 + int64(hour*3600+min*60+sec) - int64(offset)
	return text, time.Unix(unix, int64(nsec)).UTC(), i
}

var pow10 = [10]int{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// two parses two ASCII digits.
func two(a, b byte) (int, bool) {
	a, b = a-'0', b-'0'
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil counts days since 1970-01-01 in the proleptic Gregorian
// calendar (Howard Hinnant's algorithm); time.Date would do, but costs more
// than the rest of the timestamp.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399 // floor division for the year before 0000's March
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
