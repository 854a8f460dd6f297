package parser

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"time"
)

// ANSIEscapeEnd returns the end of the ANSI CSI escape (ESC '[',
// parameter and intermediate bytes 0x20-0x3f, a final letter) that starts
// at b[i], or 0 when none does (contract: such escapes are skipped wherever
// they stand). The one reading of an escape for the parser and the plugin.
func ANSIEscapeEnd(b []byte, i int) int {
	if i+1 >= len(b) || b[i] != 0x1b || b[i+1] != '[' {
		return 0
	}
	j := i + 2
	for j < len(b) && b[j] >= 0x20 && b[j] <= 0x3f {
		j++
	}
	if j < len(b) && (b[j]|0x20) >= 'a' && (b[j]|0x20) <= 'z' {
		return j + 1
	}
	return 0
}

// stripANSI appends line to dst without its ANSI CSI escapes
// (ANSIEscapeEnd): docker compose colours its prefixes when attached to a
// terminal, and the colours must never enter a field. A malformed escape
// loses only its ESC byte.
func stripANSI(dst, line []byte) []byte {
	for {
		i := bytes.IndexByte(line, 0x1b)
		if i < 0 {
			return append(dst, line...)
		}
		dst = append(dst, line[:i]...)
		if e := ANSIEscapeEnd(line, i); e > 0 {
			line = line[e:]
		} else {
			line = line[i+1:]
		}
	}
}

// StripANSI is stripANSI that also says where each byte of the result
// stands in line (pos[k] is the index in line of text[k]): the plugin
// finds credentials in the text a reader sees and replaces them in the
// line as received, escapes and all.
func StripANSI(text []byte, pos []int32, line []byte) ([]byte, []int32) {
	return stripANSIAt(text, pos, line, false)
}

// headerMemo remembers the last compose prefix and the minute of the last
// timestamp read: the lines of one log share both, and reading them again
// costs a tenth of a line. A Result holds one (a Result serves one worker).
type headerMemo struct {
	prefix     [maxMemoPrefix]byte // `service  | `, trailing space included
	prefixLen  int                 // 0: nothing remembered
	serviceLen int
	current    bool // the last line read had the remembered prefix
	// quietService: the remembered prefix's service name holds no
	// credential (Parse looks once per prefix).
	quietService bool
	date         uint64 // bytes 0-7 of the last timestamp read (YYYY-MM-)
	clock        uint64 // bytes 8-15 (DDTHH:MM)
	minute       int64  // their instant in Unix seconds, before the zone's offset
	hasMinute    bool
}

// maxMemoPrefix bounds the compose prefix remembered; a longer one is read
// each time.
const maxMemoPrefix = 64

// StripANSIKeepingFinals is StripANSI but for the final byte of each
// escape, which it keeps: a letter there may also be a credential's first
// (`session \x1b[=ab4e7aff-…` shows "b4e7aff-…" on a terminal, and a
// search of the stored line finds the 36 bytes). The plugin looks for
// credentials in this reading too.
func StripANSIKeepingFinals(text []byte, pos []int32, line []byte) ([]byte, []int32) {
	return stripANSIAt(text, pos, line, true)
}

func stripANSIAt(text []byte, pos []int32, line []byte, keepFinals bool) ([]byte, []int32) {
	for i := 0; i < len(line); {
		c := line[i]
		if c != 0x1b {
			text = append(text, c)
			pos = append(pos, int32(i))
			i++
			continue
		}
		e := ANSIEscapeEnd(line, i)
		switch {
		case e == 0:
			i++ // the ESC goes, whatever follows
		case keepFinals:
			text = append(text, line[e-1])
			pos = append(pos, int32(e-1))
			i = e
		default:
			i = e
		}
	}
	return text, pos
}

// composePrefix matches docker compose's `service  | ` at the start of a
// line and returns the service name and the prefix length, or n == 0.
func composePrefix(line []byte, m *headerMemo) (service []byte, n int) {
	if k := m.prefixLen; k > 0 && len(line) >= k && string(line[:k]) == string(m.prefix[:k]) {
		// Same bytes, same reading: the service run ended at a space,
		// the spaces at the bar, and a space followed it.
		m.current = true
		return line[:m.serviceLen], k
	}
	m.current = false
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
		if j <= maxMemoPrefix {
			m.prefixLen, m.serviceLen = copy(m.prefix[:], line[:j]), i
			m.current, m.quietService = true, false
		}
	}
	return line[:i], j
}

// timestamp matches an RFC 3339 timestamp (up to nine fractional digits, Z
// or a numeric offset) followed by a space or the end of the line. It
// returns the text, the instant in UTC and the number of bytes consumed,
// including the space; n == 0 when there is none. Every line has one, so
// the fixed part is read eight bytes at a time, and its minute only when
// it differs from the last line's (m).
func timestamp(b []byte, m *headerMemo) (text []byte, t time.Time, n int) {
	// YYYY-MM-DDTHH:MM:SS is 19 bytes, then a zone of at least one.
	if len(b) < 20 {
		return nil, time.Time{}, 0
	}
	date := binary.LittleEndian.Uint64(b[0:])  // YYYY-MM-
	clock := binary.LittleEndian.Uint64(b[8:]) // DDTHH:MM
	secs := binary.LittleEndian.Uint16(b[17:]) // SS
	if b[16] != ':' || byte(secs)-'0' > 9 || byte(secs>>8)-'0' > 9 {
		return nil, time.Time{}, 0
	}
	sec := int(secs&0x0f)*10 + int(secs>>8&0x0f)
	if sec > 60 {
		return nil, time.Time{}, 0
	}
	if !m.hasMinute || date != m.date || clock != m.clock {
		minute, ok := minuteOf(date, clock)
		if !ok {
			return nil, time.Time{}, 0
		}
		m.date, m.clock, m.minute, m.hasMinute = date, clock, minute, true
	}
	i := 19
	nsec := 0
	if b[i] == '.' {
		var digits int
		nsec, digits = fraction(b[i+1:])
		if digits == 0 || digits > 9 {
			return nil, time.Time{}, 0 // none, or more precision than RFC 3339 timestamps carry here
		}
		i += 1 + digits
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
	return text, time.Unix(m.minute+int64(sec)-int64(offset), int64(nsec)).UTC(), i
}

// minuteOf reads YYYY-MM-DDTHH:MM from its two eight-byte words (the first
// byte in the low one) and returns that minute in Unix seconds, or false
// when it is not a valid date and time.
func minuteOf(date, clock uint64) (int64, bool) {
	const (
		dateDigits  = 0x0080_8000_8080_8080     // bytes 0-3, 5, 6
		dateSeps    = 0x2d_00_00_2d_00_00_00_00 // '-' at 4 and 7
		clockDigits = 0x8080_0080_8000_8080     // bytes 0, 1, 3, 4, 6, 7
		clockSeps   = 0x00_00_3a_00_00_54_00_00 // 'T' at 2, ':' at 5
	)
	if date&^(dateDigits>>7*0xff) != dateSeps ||
		clock&^(clockDigits>>7*0xff)|0x20<<16 != clockSeps|0x20<<16 ||
		nonDigit(date)&dateDigits != 0 || nonDigit(clock)&clockDigits != 0 {
		return 0, false
	}
	// Each byte's digit value times ten plus the next byte's: two-digit
	// numbers in bytes 0, 2 and 5 of the date and 0, 3 and 6 of the clock.
	// No byte exceeds 0x0f*10+0x0f, so nothing carries.
	date &= 0x0f0f0f0f0f0f0f0f
	clock &= 0x0f0f0f0f0f0f0f0f
	date = date*10 + date>>8
	clock = clock*10 + clock>>8
	year := int(date&0xff)*100 + int(date>>16&0xff)
	month := int(date >> 40 & 0xff)
	day := int(clock & 0xff)
	hour := int(clock >> 24 & 0xff)
	min := int(clock >> 48 & 0xff)
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || min > 59 {
		return 0, false
	}
	return daysFromCivil(year, month, day)*86400 + int64(hour*3600+min*60), true
}

// fraction reads the digits at the start of b as a fraction of a second and
// returns it in nanoseconds with the number of digits; more than nine digits
// are counted but not read.
func fraction(b []byte) (nsec, digits int) {
	if len(b) < 10 {
		for digits < len(b) && b[digits]-'0' <= 9 {
			if digits < 9 {
				nsec = nsec*10 + int(b[digits]-'0')
			}
			digits++
		}
		if digits > 9 {
			return nsec, digits
		}
		return nsec * pow10[9-digits], digits
	}
	x := binary.LittleEndian.Uint64(b)
	digits = bits.TrailingZeros64(nonDigit(x)) >> 3
	if digits < 8 {
		x &= 1<<(8*digits) - 1 // the digits that follow count as zeros
	}
	nsec = eightDigits(x) * 10
	if digits == 8 && b[8]-'0' <= 9 {
		nsec += int(b[8] - '0')
		digits = 9
		if b[9]-'0' <= 9 {
			digits = 10
		}
	}
	return nsec, digits
}

// eightDigits reads eight ASCII digits (or zero bytes, read as 0), the first
// in the low byte, as a decimal number: pairs, then quads, then all eight.
func eightDigits(x uint64) int {
	x &= 0x0f0f0f0f0f0f0f0f
	x = (x*10 + x>>8) & 0x00ff00ff00ff00ff
	x = (x*100 + x>>16) & 0x0000ffff0000ffff
	x = (x*10000 + x>>32) & 0xffffffff
	return int(x)
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
