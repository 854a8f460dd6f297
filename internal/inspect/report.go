package inspect

import (
	"bufio"
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// The report is one HTML file with inline CSS and SVG: no script, no
// fetch, so it opens anywhere (a customer's machine, an e-mail) and renders
// with JavaScript off.

//go:embed report.html.tmpl
var reportTemplate string

// Report is what report.html.tmpl shows.
type Report struct {
	Title     string
	Generated string
	Source    string
	From, To  string
	Totals    TenantRow
	Tenants   []TenantRow
	Legend    []legendItem
	Contacts  template.HTML // contacts started per tenant over time
	Failures  template.HTML // exceptions per tenant over time
	Durations template.HTML // histogram of ended contacts' durations
	Flagged   []flaggedContact
	MoreFlags int // flagged contacts left out by --limit
	Excs      []ExceptionRow
}

type legendItem struct {
	Name, Color string
}

type flaggedContact struct {
	Contact
	Why      string
	Duration string
	Strip    template.HTML
}

var palette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac", "#e15759"}

// BuildReport lays out s; timelines gives the lines of each flagged
// contact (nil: no strips).
func BuildReport(s *Stats, source string, limit int, now time.Time, timelines func(ids []string) (map[string][]Entry, error)) (*Report, error) {
	contacts := s.Contacts()
	r := &Report{Title: "CTLive log report", Generated: now.UTC().Format(time.RFC3339), Source: source,
		Tenants: s.Tenants(nil)}
	for _, t := range r.Tenants {
		r.Totals.Lines += t.Lines
		r.Totals.Contacts += t.Contacts
		r.Totals.Ended += t.Ended
		r.Totals.Saved += t.Saved
		r.Totals.Exceptions += t.Exceptions
		r.Totals.Errors += t.Errors
		r.Totals.Warns += t.Warns
	}
	var names []string
	for _, t := range r.Tenants {
		if t.Tenant != "" {
			names = append(names, t.Tenant)
		}
	}
	color := map[string]string{"": "#999999"}
	for i, n := range names {
		color[n] = palette[i%len(palette)]
		r.Legend = append(r.Legend, legendItem{n, color[n]})
	}
	r.Legend = append(r.Legend, legendItem{"(no tenant)", color[""]})

	// One time axis for both charts: the contacts' and exceptions' span.
	lo, hi := int64(0), int64(0)
	span := func(t int64) {
		if t == 0 {
			return
		}
		if lo == 0 || t < lo {
			lo = t
		}
		hi = max(hi, t)
	}
	for _, c := range contacts {
		span(c.Start)
		span(c.End)
	}
	for k := range s.excMinutes {
		span(k.minute * 60e9)
		span(k.minute*60e9 + 59e9)
	}
	r.From, r.To = shortTime(lo), shortTime(hi)
	axis := newTimeAxis(lo, hi, 60)
	started := map[string][]int{}
	for _, c := range contacts {
		if c.Start != 0 {
			axis.add(started, c.Tenant, c.Start, 1)
		}
	}
	failed := map[string][]int{}
	for k, n := range s.excMinutes {
		axis.add(failed, k.tenant, k.minute*60e9+30e9, int(n))
	}
	r.Contacts = axis.stackedBars(started, append(names, ""), color, "contacts started")
	r.Failures = axis.stackedBars(failed, append(names, ""), color, "exceptions")
	r.Durations = durationHistogram(contacts)

	// Contacts that lost their transcript first, then those with
	// exceptions, each by start.
	flagged := slices.Clone(contacts)
	slices.SortStableFunc(flagged, func(a, b Contact) int {
		return boolInt(!(a.Ended && !a.TranscriptSaved)) - boolInt(!(b.Ended && !b.TranscriptSaved))
	})
	var ids []string
	for _, c := range flagged {
		why := []string{}
		if c.Ended && !c.TranscriptSaved {
			why = append(why, "ended without a saved transcript")
		}
		switch {
		case c.Exceptions == 1:
			why = append(why, "1 exception")
		case c.Exceptions > 1:
			why = append(why, fmt.Sprintf("%d exceptions", c.Exceptions))
		}
		if len(why) == 0 {
			continue
		}
		if len(r.Flagged) == limit {
			r.MoreFlags++
			continue
		}
		f := flaggedContact{Contact: c, Why: strings.Join(why, ", "), Duration: "-"}
		if d, ok := c.Duration(); ok {
			f.Duration = humanDuration(d)
		}
		r.Flagged = append(r.Flagged, f)
		ids = append(ids, c.ContactID)
	}
	if timelines != nil && len(ids) > 0 {
		lines, err := timelines(ids)
		if err != nil {
			return nil, err
		}
		for i := range r.Flagged {
			r.Flagged[i].Strip = timelineStrip(&r.Flagged[i].Contact, lines[r.Flagged[i].ContactID])
		}
	}
	r.Excs = s.Exceptions(nil)
	if len(r.Excs) > 30 {
		r.Excs = r.Excs[:30]
	}
	return r, nil
}

// WriteReport renders the report as HTML.
func WriteReport(w io.Writer, r *Report) error {
	t, err := template.New("report").Funcs(template.FuncMap{
		"time": shortTime, "dur": func(ok bool, ns int64) string {
			if !ok {
				return "-"
			}
			return humanDuration(ns)
		},
		"tenant": func(s string) string {
			if s == "" {
				return "(none)"
			}
			return s
		},
		"join": strings.Join,
	}).Parse(reportTemplate)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := t.Execute(bw, r); err != nil {
		return err
	}
	return bw.Flush()
}

// timeAxis buckets times into n equal bins between lo and hi.
type timeAxis struct {
	lo, hi, step int64
	n            int
}

// Bins are whole minutes at least: exceptions are counted per minute.
func newTimeAxis(lo, hi int64, n int) *timeAxis {
	lo -= lo % 60e9
	if hi <= lo {
		hi = lo + 60e9
	}
	step := (hi - lo + int64(n) - 1) / int64(n)
	step = (step + 60e9 - 1) / 60e9 * 60e9
	n = int((hi - lo + step - 1) / step)
	return &timeAxis{lo: lo, hi: lo + int64(n)*step, step: step, n: n}
}

func (a *timeAxis) add(series map[string][]int, key string, t int64, n int) {
	if series[key] == nil {
		series[key] = make([]int, a.n)
	}
	i := int((t - a.lo) / a.step)
	series[key][min(max(i, 0), a.n-1)] += n
}

const chartW, chartH, chartPad = 1000, 180, 40

// stackedBars draws one bar per bin, stacked by key in order.
func (a *timeAxis) stackedBars(series map[string][]int, order []string, color map[string]string, what string) template.HTML {
	top := 1
	for i := 0; i < a.n; i++ {
		sum := 0
		for _, k := range order {
			if s := series[k]; s != nil {
				sum += s[i]
			}
		}
		top = max(top, sum)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s per tenant over time">`,
		chartW+chartPad, chartH+2*chartPad/2+20, esc(what))
	barW := float64(chartW) / float64(a.n)
	for i := 0; i < a.n; i++ {
		y := float64(chartH)
		for _, k := range order {
			s := series[k]
			if s == nil || s[i] == 0 {
				continue
			}
			h := float64(s[i]) / float64(top) * (chartH - 10)
			y -= h
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %d %s</title></rect>`,
				float64(chartPad)+float64(i)*barW+1, y+10, barW-2, h, color[k], esc(shortTime(a.lo+int64(i)*a.step)), esc(orNone(k)), s[i], esc(what))
		}
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, chartPad, chartH+10, chartPad+chartW, chartH+10)
	fmt.Fprintf(&b, `<text x="%d" y="18" class="label" text-anchor="end">%d</text>`, chartPad-4, top)
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="label" text-anchor="end">0</text>`, chartPad-4, chartH+10)
	for i := 0; i <= 4; i++ {
		t := a.lo + (a.hi-a.lo)*int64(i)/4
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="label" text-anchor="middle">%s</text>`,
			chartPad+chartW*i/4, chartH+28, esc(time.Unix(0, t).UTC().Format("01-02 15:04")))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

var durationBins = []struct {
	label string
	upTo  time.Duration
}{{"< 10 s", 10 * time.Second}, {"10–30 s", 30 * time.Second}, {"30 s–1 min", time.Minute}, {"1–2 min", 2 * time.Minute},
	{"2–5 min", 5 * time.Minute}, {"5–15 min", 15 * time.Minute}, {"15–60 min", time.Hour}, {"≥ 1 h", 1 << 62}}

// durationHistogram counts ended contacts by duration.
func durationHistogram(contacts []Contact) template.HTML {
	counts := make([]int, len(durationBins))
	top := 1
	for _, c := range contacts {
		d, ok := c.Duration()
		if !c.Ended || !ok {
			continue
		}
		i := slices.IndexFunc(durationBins, func(b struct {
			label string
			upTo  time.Duration
		}) bool {
			return time.Duration(d) < b.upTo
		})
		counts[i]++
		top = max(top, counts[i])
	}
	var b strings.Builder
	w := chartW / len(durationBins)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" role="img" aria-label="durations of ended contacts">`, chartW+chartPad, chartH+40)
	for i, n := range counts {
		h := float64(n) / float64(top) * (chartH - 20)
		x := chartPad + i*w
		fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="#4e79a7"><title>%s: %d contacts</title></rect>`,
			x+4, float64(chartH)-h, w-8, h, esc(durationBins[i].label), n)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" class="label" text-anchor="middle">%d</text>`, x+w/2, float64(chartH)-h-4, n)
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="label" text-anchor="middle">%s</text>`, x+w/2, chartH+18, esc(durationBins[i].label))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/></svg>`, chartPad, chartH, chartPad+chartW, chartH)
	return template.HTML(b.String())
}

var levelColor = map[string]string{"error": "#d62728", "warn": "#ff7f0e", "info": "#4e79a7", "": "#4e79a7"}

// timelineStrip draws a contact's lines on its own time span, one lane per
// function, coloured by level; events are taller marks.
func timelineStrip(c *Contact, lines []Entry) template.HTML {
	var lanes []string
	for _, e := range lines {
		if f := orNone(e.Function); !slices.Contains(lanes, f) {
			lanes = append(lanes, f)
		}
	}
	const laneH, labelW, stripW = 16, 190, 760
	lo, hi := c.Start, c.End
	if hi <= lo {
		hi = lo + 1e9
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="strip" viewBox="0 0 %d %d" role="img" aria-label="lines of %s by function">`,
		labelW+stripW+10, len(lanes)*laneH+4, esc(c.ContactID))
	for i, l := range lanes {
		y := i*laneH + 2
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" class="lane%d"/>`, labelW, y, stripW, laneH, i%2)
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="label" text-anchor="end">%s</text>`, labelW-6, y+12, esc(l))
	}
	for _, e := range lines {
		if e.Time == 0 {
			continue
		}
		lane := slices.Index(lanes, orNone(e.Function))
		x := float64(labelW) + float64(e.Time-lo)/float64(hi-lo)*float64(stripW-4) + 2
		y, h := lane*laneH+5, laneH-6
		w := 2
		if e.Event != "" {
			y, h, w = lane*laneH+3, laneH-2, 4
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%d" height="%d" fill="%s"><title>%s %s %s</title></rect>`,
			x, y, w, h, levelColor[e.Level], esc(shortTime(e.Time)), esc(e.Event), esc(truncate(e.Message, 200)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// esc escapes text for SVG inside HTML.
func esc(s string) string { return template.HTMLEscapeString(s) }

// collectLines reads every record again and keeps the lines of the given
// contacts, for the report's strips.
func collectLines(ins []*Input, ids []string, q Query) (map[string][]Entry, error) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	ws, err := scanBlocks(ins, q.Workers, nil, func() worker {
		return newHitWorker(q, nil, func(r *rec) hitKind {
			if want[string(r.contactID)] {
				return hitContact
			}
			return hitNone
		})
	})
	if err != nil {
		return nil, err
	}
	out := map[string][]Entry{}
	for _, w := range ws {
		for _, e := range w.(*hitWorker).contact {
			out[e.contactID] = append(out[e.contactID], e)
		}
	}
	for id := range out {
		slices.SortFunc(out[id], func(a, b Entry) int { return cmp.Compare(a.SortTime, b.SortTime) })
	}
	return out, nil
}

// writeReportFile builds the report from s and writes it to path.
func writeReportFile(path string, s *Stats, timelines func([]string) (map[string][]Entry, error), source string, limit int, env Env) error {
	r, err := BuildReport(s, source, limit, env.Now, timelines)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteReport(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "ctlive-inspect: wrote %s (%d contacts, %d flagged)\n", path, r.Totals.Contacts, len(r.Flagged)+r.MoreFlags)
	return nil
}
