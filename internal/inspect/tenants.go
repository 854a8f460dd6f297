package inspect

import (
	"bufio"
	"cmp"
	"io"
	"slices"
	"strconv"
)

// TenantRow is one row of `tenants`. Lines, agents, exceptions, errors and
// warns count lines by their tenant field; contacts, ended, saved and the
// durations count contacts by the tenant in their ID. Durations are over
// ended contacts with a start, nearest-rank percentiles, in ns.
type TenantRow struct {
	Tenant                 string
	Lines                  int64
	Contacts, Ended, Saved int
	Median, P95            int64
	HasDurations           bool
	Agents                 int // distinct user IDs of agentLogin lines with a session
	Exceptions, Errors     int64
	Warns                  int64
}

// Tenants returns one row per tenant (only those listed, when some are),
// by name; the lines without a tenant come last, under "".
func (s *Stats) Tenants(only []string) []TenantRow {
	return tenantRows(s.Contacts(), s.tenants, only)
}

func tenantRows(contacts []Contact, counts map[string]*tenantCounts, only []string) []TenantRow {
	rows := map[string]*TenantRow{}
	row := func(name string) *TenantRow {
		r := rows[name]
		if r == nil {
			r = &TenantRow{Tenant: name}
			rows[name] = r
		}
		return r
	}
	for name, t := range counts {
		r := row(name)
		r.Lines, r.Exceptions, r.Errors, r.Warns, r.Agents = int64(t.lines), int64(t.exceptions), int64(t.errors), int64(t.warns), len(t.agents)
	}
	durations := map[string][]int64{}
	for i := range contacts {
		c := &contacts[i]
		r := row(c.Tenant)
		r.Contacts++
		if c.Ended {
			r.Ended++
			if d, ok := c.Duration(); ok {
				durations[c.Tenant] = append(durations[c.Tenant], d)
			}
		}
		if c.TranscriptSaved {
			r.Saved++
		}
	}
	for name, ds := range durations {
		slices.Sort(ds)
		r := rows[name]
		r.Median, r.P95, r.HasDurations = nearestRank(ds, 50), nearestRank(ds, 95), true
	}
	var out []TenantRow
	for name, r := range rows {
		if len(only) == 0 || slices.Contains(only, name) {
			out = append(out, *r)
		}
	}
	slices.SortFunc(out, func(a, b TenantRow) int {
		if (a.Tenant == "") != (b.Tenant == "") {
			return boolInt(a.Tenant == "") - boolInt(b.Tenant == "")
		}
		return cmp.Compare(a.Tenant, b.Tenant)
	})
	return out
}

// nearestRank is the p-th percentile of sorted values: the smallest value
// with at least p% of the values at or below it.
func nearestRank(sorted []int64, p int) int64 {
	k := (len(sorted)*p + 99) / 100
	return sorted[max(k, 1)-1]
}

// WriteTenants writes tenant rows as NDJSON or a table.
func WriteTenants(w io.Writer, rows []TenantRow, asJSON bool, st Style) error {
	if asJSON {
		bw := bufio.NewWriter(w)
		for _, r := range rows {
			var o jsonObject
			o.str("tenant", r.Tenant)
			o.num("lines", r.Lines)
			o.num("contacts", int64(r.Contacts))
			o.num("contactsEnded", int64(r.Ended))
			o.num("transcriptsSaved", int64(r.Saved))
			if r.HasDurations {
				o.raw("medianDurationSeconds", FormatSeconds(r.Median))
				o.raw("p95DurationSeconds", FormatSeconds(r.P95))
			}
			o.num("agents", int64(r.Agents))
			o.num("exceptions", r.Exceptions)
			o.num("errors", r.Errors)
			o.num("warns", r.Warns)
			bw.Write(o.line())
		}
		return bw.Flush()
	}
	t := &table{head: []string{"TENANT", "LINES", "CONTACTS", "ENDED", "SAVED", "MEDIAN", "P95", "AGENTS", "EXC", "ERR", "WARN"},
		right: []bool{false, true, true, true, true, true, true, true, true, true, true}}
	for _, r := range rows {
		med, p95 := "-", "-"
		if r.HasDurations {
			med, p95 = humanDuration(r.Median), humanDuration(r.P95)
		}
		color := ""
		if r.Exceptions > 0 {
			color = colorRed
		}
		name := r.Tenant
		if name == "" {
			name = "(none)"
		}
		t.add(color, name, itoa(r.Lines), strconv.Itoa(r.Contacts), strconv.Itoa(r.Ended), strconv.Itoa(r.Saved), med, p95,
			strconv.Itoa(r.Agents), itoa(r.Exceptions), itoa(r.Errors), itoa(r.Warns))
	}
	return t.write(w, st)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// ExceptionRow is one group of `exceptions`: the line's tenant, the error
// type and the top stack frame, with when the group was first and last
// seen and, as an example, the contact ID of its first line that has both a
// time and a contact ID.
type ExceptionRow struct {
	Tenant, ErrorType, TopFrame string
	Count                       int64
	First, Last                 int64
	Example                     string
}

// Exceptions returns the groups, most frequent first.
func (s *Stats) Exceptions(only []string) []ExceptionRow {
	var out []ExceptionRow
	for k, e := range s.exceptions {
		if len(only) > 0 && !slices.Contains(only, k.tenant) {
			continue
		}
		out = append(out, ExceptionRow{Tenant: k.tenant, ErrorType: k.errType, TopFrame: k.frame,
			Count: int64(e.count), First: e.first, Last: e.last, Example: e.example})
	}
	sortExceptions(out)
	return out
}

func sortExceptions(out []ExceptionRow) {
	slices.SortFunc(out, func(a, b ExceptionRow) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Tenant, b.Tenant); c != 0 {
			return c
		}
		if c := cmp.Compare(a.ErrorType, b.ErrorType); c != 0 {
			return c
		}
		return cmp.Compare(a.TopFrame, b.TopFrame)
	})
}

// WriteExceptions writes exception groups as NDJSON or a table.
func WriteExceptions(w io.Writer, rows []ExceptionRow, asJSON bool, st Style) error {
	if asJSON {
		bw := bufio.NewWriter(w)
		for _, r := range rows {
			var o jsonObject
			o.str("tenant", r.Tenant)
			o.str("errorType", r.ErrorType)
			o.str("topFrame", r.TopFrame)
			o.num("count", r.Count)
			o.str("first", FormatTime(r.First))
			o.str("last", FormatTime(r.Last))
			o.str("exampleContactID", r.Example)
			bw.Write(o.line())
		}
		return bw.Flush()
	}
	t := &table{head: []string{"TENANT", "TYPE", "COUNT", "FIRST", "LAST", "TOP FRAME", "EXAMPLE CONTACT"},
		right: []bool{false, false, true}}
	for _, r := range rows {
		t.add("", orNone(r.Tenant), orDash(r.ErrorType), itoa(r.Count), shortTime(r.First), shortTime(r.Last),
			orDash(r.TopFrame), orDash(r.Example))
	}
	return t.write(w, st)
}
