package template

import (
	"strconv"
	"strings"
	"time"
)

// directives lists the supported strftime verbs ('%' itself is folded into
// literal text at parse time). Locale-dependent (%c %x %X) and whitespace
// (%e %n %t) verbs are left out: they have no place in tags or index names.
const directives = "YCyGgmbhBdjUWVuwaAHIMSpszZFT"

func directiveList() string {
	var b strings.Builder
	for i := range len(directives) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('%')
		b.WriteByte(directives[i])
	}
	return b.String()
}

// clock holds the broken-down record time, computed once per Append so that
// templates with several directives do not recompute the calendar.
type clock struct {
	t      time.Time
	year   int
	month  time.Month
	day    int
	hour   int
	min    int
	sec    int
	yday   int // 1-based
	wday   time.Weekday
	isoY   int
	isoW   int
	isoSet bool
}

func newClock(t time.Time) clock {
	t = t.UTC()
	c := clock{t: t}
	c.year, c.month, c.day = t.Date()
	c.hour, c.min, c.sec = t.Clock()
	c.yday = t.YearDay()
	c.wday = t.Weekday()
	return c
}

// appendPad appends n zero-padded to width digits (negative numbers keep
// their sign and are not padded).
func appendPad(dst []byte, n, width int) []byte {
	if n < 0 {
		return strconv.AppendInt(dst, int64(n), 10)
	}
	for w, v := 1, n; w < width; w++ {
		v /= 10
		if v == 0 {
			dst = append(dst, '0')
		}
	}
	return strconv.AppendInt(dst, int64(n), 10)
}

func (c *clock) iso() (int, int) {
	if !c.isoSet {
		c.isoY, c.isoW = c.t.ISOWeek()
		c.isoSet = true
	}
	return c.isoY, c.isoW
}

// mod100 keeps %y and %g in 00..99 for years before 0.
func mod100(y int) int { return (y%100 + 100) % 100 }

func (c *clock) append(dst []byte, verb byte) []byte {
	switch verb {
	case 'Y':
		return appendPad(dst, c.year, 4)
	case 'C':
		return appendPad(dst, c.year/100, 2)
	case 'y':
		return appendPad(dst, mod100(c.year), 2)
	case 'G':
		y, _ := c.iso()
		return appendPad(dst, y, 4)
	case 'g':
		y, _ := c.iso()
		return appendPad(dst, mod100(y), 2)
	case 'V':
		_, w := c.iso()
		return appendPad(dst, w, 2)
	case 'm':
		return appendPad(dst, int(c.month), 2)
	case 'b', 'h':
		return append(dst, c.month.String()[:3]...)
	case 'B':
		return append(dst, c.month.String()...)
	case 'd':
		return appendPad(dst, c.day, 2)
	case 'j':
		return appendPad(dst, c.yday, 3)
	case 'U': // week of year, weeks start on Sunday, days before the first Sunday are week 0
		return appendPad(dst, (c.yday-1+7-int(c.wday))/7, 2)
	case 'W': // same with weeks starting on Monday
		return appendPad(dst, (c.yday-1+7-(int(c.wday)+6)%7)/7, 2)
	case 'u':
		return appendPad(dst, (int(c.wday)+6)%7+1, 1)
	case 'w':
		return appendPad(dst, int(c.wday), 1)
	case 'a':
		return append(dst, c.wday.String()[:3]...)
	case 'A':
		return append(dst, c.wday.String()...)
	case 'H':
		return appendPad(dst, c.hour, 2)
	case 'I':
		h := c.hour % 12
		if h == 0 {
			h = 12
		}
		return appendPad(dst, h, 2)
	case 'M':
		return appendPad(dst, c.min, 2)
	case 'S':
		return appendPad(dst, c.sec, 2)
	case 'p':
		if c.hour < 12 {
			return append(dst, "AM"...)
		}
		return append(dst, "PM"...)
	case 's':
		return strconv.AppendInt(dst, c.t.Unix(), 10)
	case 'z':
		return append(dst, "+0000"...)
	case 'Z':
		return append(dst, "UTC"...)
	case 'F':
		dst = appendPad(dst, c.year, 4)
		dst = append(dst, '-')
		dst = appendPad(dst, int(c.month), 2)
		dst = append(dst, '-')
		return appendPad(dst, c.day, 2)
	case 'T':
		dst = appendPad(dst, c.hour, 2)
		dst = append(dst, ':')
		dst = appendPad(dst, c.min, 2)
		dst = append(dst, ':')
		return appendPad(dst, c.sec, 2)
	}
	// Parse only admits verbs from directives, each handled above.
	panic("template: unhandled strftime directive " + string(verb))
}
