package inspect

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TimeLayout is how the tool writes times: RFC 3339, UTC, nine fraction
// digits, so that times sort as text.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// FormatTime writes Unix ns in TimeLayout ("" for 0).
func FormatTime(ns int64) string {
	if ns == 0 {
		return ""
	}
	return time.Unix(0, ns).UTC().Format(TimeLayout)
}

// FormatSeconds writes ns as exact decimal seconds, trailing zeros dropped.
func FormatSeconds(ns int64) string {
	neg := ns < 0
	if neg {
		ns = -ns
	}
	s := strconv.FormatInt(ns/1e9, 10)
	if f := ns % 1e9; f != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(1e9+f, 10)[1:], "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// jsonObject appends the members of one NDJSON row in a fixed order; a
// member without a value (empty string, empty list) is left out.
type jsonObject struct{ b []byte }

func (o *jsonObject) key(k string) {
	if len(o.b) == 0 {
		o.b = append(o.b, '{')
	} else {
		o.b = append(o.b, ',')
	}
	o.b = strconv.AppendQuote(o.b, k) // keys are plain ASCII
	o.b = append(o.b, ':')
}

func (o *jsonObject) str(k, v string) {
	if v == "" {
		return
	}
	o.key(k)
	o.b = appendJSONString(o.b, v)
}

func (o *jsonObject) raw(k, v string) {
	if v == "" {
		return
	}
	o.key(k)
	o.b = append(o.b, v...)
}

func (o *jsonObject) num(k string, v int64) { o.key(k); o.b = strconv.AppendInt(o.b, v, 10) }
func (o *jsonObject) boolean(k string, v bool) {
	o.key(k)
	o.b = strconv.AppendBool(o.b, v)
}

func (o *jsonObject) strs(k string, vs []string) {
	if len(vs) == 0 {
		return
	}
	o.key(k)
	o.b = append(o.b, '[')
	for i, v := range vs {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = appendJSONString(o.b, v)
	}
	o.b = append(o.b, ']')
}

func (o *jsonObject) line() []byte {
	if len(o.b) == 0 {
		return []byte("{}\n")
	}
	return append(o.b, '}', '\n')
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// ContactJSON is the NDJSON row of one contact: exactly the lifecycle's keys.
func ContactJSON(c *Contact) []byte {
	var o jsonObject
	o.str("contactID", c.ContactID)
	o.str("tenant", c.Tenant)
	o.str("channel", c.Channel)
	o.str("start", FormatTime(c.Start))
	o.str("end", FormatTime(c.End))
	if d, ok := c.Duration(); ok {
		o.raw("durationSeconds", FormatSeconds(d))
	}
	o.num("lines", int64(c.Lines))
	o.boolean("ended", c.Ended)
	o.boolean("transcriptSaved", c.TranscriptSaved)
	o.strs("agentSessions", c.AgentSessions)
	o.strs("agents", c.Agents)
	o.num("exceptions", int64(c.Exceptions))
	o.num("errors", int64(c.Errors))
	return o.line()
}

// Style says how tables are written.
type Style struct {
	Color bool // ANSI colours (a terminal, NO_COLOR unset)
}

const (
	colorRed    = "\033[31m"
	colorYellow = "\033[33m"
	colorDim    = "\033[2m"
	colorBold   = "\033[1m"
	colorReset  = "\033[0m"
)

// table collects rows of cells and writes them aligned, two spaces apart;
// a row's colour covers its cells but not the padding.
type table struct {
	head   []string
	rows   [][]string
	colors []string
	right  []bool // right-aligned columns (numbers)
}

func (t *table) add(color string, cells ...string) {
	t.rows = append(t.rows, cells)
	t.colors = append(t.colors, color)
}

func (t *table) write(w io.Writer, st Style) error {
	width := make([]int, len(t.head))
	for _, r := range append([][]string{t.head}, t.rows...) {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	bw := bufio.NewWriter(w)
	line := func(cells []string, color string) {
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i > 0 {
				bw.WriteString("  ")
			}
			if i < len(t.right) && t.right[i] {
				bw.WriteString(pad)
			}
			if color != "" && st.Color {
				bw.WriteString(color + c + colorReset)
			} else {
				bw.WriteString(c)
			}
			if (i >= len(t.right) || !t.right[i]) && i < len(cells)-1 {
				bw.WriteString(pad)
			}
		}
		bw.WriteByte('\n')
	}
	line(t.head, colorBold)
	for i, r := range t.rows {
		line(r, t.colors[i])
	}
	return bw.Flush()
}

// shortTime is a table's time: to the millisecond, UTC.
func shortTime(ns int64) string {
	if ns == 0 {
		return "-"
	}
	return time.Unix(0, ns).UTC().Format("2006-01-02 15:04:05.000")
}

func humanDuration(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Hour:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteContacts writes contacts as NDJSON or as a table.
func WriteContacts(w io.Writer, cs []Contact, asJSON bool, st Style) error {
	if asJSON {
		bw := bufio.NewWriter(w)
		for i := range cs {
			bw.Write(ContactJSON(&cs[i]))
		}
		return bw.Flush()
	}
	t := &table{head: []string{"CONTACT", "TENANT", "CHANNEL", "START", "DURATION", "LINES", "ENDED", "SAVED", "AGENTS", "EXC", "ERR"},
		right: []bool{false, false, false, false, true, true, false, false, false, true, true}}
	for i := range cs {
		c := &cs[i]
		dur := "-"
		if d, ok := c.Duration(); ok {
			dur = humanDuration(d)
		}
		color := ""
		switch {
		case c.Exceptions > 0 || c.Errors > 0:
			color = colorRed
		case c.Ended && !c.TranscriptSaved:
			color = colorYellow
		case !c.Ended:
			color = colorDim
		}
		t.add(color, c.ContactID, orNone(c.Tenant), orDash(c.Channel), shortTime(c.Start), dur, strconv.Itoa(c.Lines),
			yesNo(c.Ended), yesNo(c.TranscriptSaved), orDash(strings.Join(c.Agents, ",")), strconv.Itoa(c.Exceptions), strconv.Itoa(c.Errors))
	}
	return t.write(w, st)
}
