package inspect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Bounds on what a store may make the tool hold or wait for.
const (
	storeTimeout   = 2 * time.Minute // one query
	maxAnswer      = 512 << 20       // bytes of one answer
	maxAnswerLine  = 4 << 20         // one row of it
	timelineLimit  = 100000          // rows of one timeline query
	sessionsPerIn  = 200             // session IDs per in(...) filter
	storeUserAgent = "ctlive-inspect"
)

// VictoriaLogs reads the records the plugin shipped to VictoriaLogs, with
// LogsQL over its HTTP API (/select/logsql/query). Aggregations run in the
// store (`stats by (...)`): the answer has one row per contact, tenant or
// exception group, never per line.
type VictoriaLogs struct {
	base    string      // http(s)://host:port
	headers http.Header // AccountID, ProjectID
	client  *http.Client
}

// ParseStore reads --from: vlogs+http://HOST:PORT (or vlogs+https://…),
// with AccountID and ProjectID as query parameters for a tenant of
// VictoriaLogs' own.
func ParseStore(from string) (*VictoriaLogs, error) {
	scheme, rest, ok := strings.Cut(from, "+")
	if !ok || scheme != "vlogs" {
		return nil, usageError{fmt.Errorf("--from %q: give vlogs+http://HOST:9428 (Elasticsearch and Loki are not supported yet)", from)}
	}
	u, err := url.Parse(rest)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{fmt.Errorf("--from %q: not an http(s) URL", from)}
	}
	v := &VictoriaLogs{headers: http.Header{}, client: &http.Client{Timeout: storeTimeout}}
	for _, k := range []string{"AccountID", "ProjectID"} {
		if s := u.Query().Get(k); s != "" {
			if _, err := strconv.ParseUint(s, 10, 32); err != nil {
				return nil, usageError{fmt.Errorf("--from: %s must be a number", k)}
			}
			v.headers.Set(k, s)
		}
	}
	u.RawQuery, u.Fragment = "", ""
	v.base = strings.TrimRight(u.String(), "/")
	return v, nil
}

// query runs one LogsQL query and calls row with each answer line (a JSON
// object whose values are strings).
func (v *VictoriaLogs) query(ctx context.Context, logsql string, row func([]byte) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.base+"/select/logsql/query",
		strings.NewReader(url.Values{"query": {logsql}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", storeUserAgent)
	for k, vs := range v.headers {
		req.Header[k] = vs
	}
	resp, err := v.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("cannot reach VictoriaLogs at %s: %w", v.base, err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxAnswer+1)
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(body, 512))
		return fmt.Errorf("VictoriaLogs at %s answered %s: %s", v.base, resp.Status, bytes.TrimSpace(msg))
	}
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), maxAnswerLine)
	var n int64
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		n += int64(len(sc.Bytes())) + 1
		if n > maxAnswer {
			return fmt.Errorf("VictoriaLogs' answer is larger than %d MB: narrow --since/--until", maxAnswer>>20)
		}
		if len(line) == 0 {
			continue
		}
		if line[0] != '{' {
			// VictoriaLogs ends a stream with an error text when a query fails midway.
			return fmt.Errorf("VictoriaLogs: %.300s", line)
		}
		if err := row(line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading VictoriaLogs' answer: %w", err)
	}
	return nil
}

// stringRow decodes an aggregation row (every value a string).
func stringRow(line []byte) (map[string]string, error) {
	m := map[string]string{}
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, fmt.Errorf("VictoriaLogs answered a row that is not an object of strings: %.200s", line)
	}
	return m, nil
}

func timeRange(since, until int64) string {
	return fmt.Sprintf("_time:[%s, %s)", FormatTime(since), FormatTime(until))
}

// quote writes s as a LogsQL quoted string.
func quote(s string) string { return strconv.Quote(s) }

func inList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = quote(id)
	}
	return "in(" + strings.Join(q, ",") + ")"
}

func parseStoreTime(s string) int64 {
	if s == "" {
		return 0
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0
	}
	return t.UnixNano()
}

func atoi(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}

// tenantFilter keeps the contacts whose ID holds one of the tenants.
func tenantFilter(tenants []string) string {
	if len(tenants) == 0 {
		return ""
	}
	alts := make([]string, len(tenants))
	for i, t := range tenants {
		alts[i] = regexp.QuoteMeta(t)
	}
	return ` contactID:~"^[A-Z][A-Z0-9]*_(` + strings.Join(alts, "|") + `)_[0-9a-fA-F-]{36}$"`
}

// Stats asks the store for what a scan of the same records would count:
// contacts with their sessions and those sessions' logins, per-tenant line
// counts and exception groups, all inside [since, until).
func (v *VictoriaLogs) Stats(ctx context.Context, since, until int64, tenants []string, what string) (*Stats, error) {
	s := newStats(since, until)
	win := timeRange(since, until)
	if what != "exceptions" {
		if err := v.contacts(ctx, s, win, tenants); err != nil {
			return nil, err
		}
	}
	if what == "contacts" {
		return s, nil
	}
	err := v.query(ctx, win+` | stats by (tenant) count() lines, count() if (event:=exception) exceptions, `+
		`count() if (level:=error -event:=exception) errors, count() if (level:=warn -event:=exception) warns, `+
		`count_uniq(userID) if (event:=agentLogin sessionID:* userID:*) agents`, func(line []byte) error {
		m, err := stringRow(line)
		if err != nil {
			return err
		}
		// The store counts distinct agents; the scan keeps their names.
		t := &tenantCounts{name: m["tenant"], agents: map[string]struct{}{}}
		t.lines, t.exceptions, t.errors, t.warns = uint64(atoi(m["lines"])), uint64(atoi(m["exceptions"])), uint64(atoi(m["errors"])), uint64(atoi(m["warns"]))
		for i := uint32(0); i < atoi(m["agents"]); i++ {
			t.agents[strconv.Itoa(int(i))] = struct{}{}
		}
		s.tenants[t.name] = t
		s.Records += int64(t.lines)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The top frame is the first element of the stack, which the store
	// keeps as the text of a JSON array.
	err = v.query(ctx, win+` event:=exception | extract_regexp "^\\[\"(?P<frame>(?:[^\"\\\\]|\\\\.)*)\"" from stack `+
		`| stats by (tenant, errorType, frame) count() n, min(_time) if (time:*) first, max(_time) if (time:*) last, `+
		`row_min(_time, contactID) if (contactID:* time:*) example`, func(line []byte) error {
		m, err := stringRow(line)
		if err != nil {
			return err
		}
		frame := m["frame"]
		if frame != "" {
			var f string
			if json.Unmarshal([]byte(`"`+frame+`"`), &f) == nil {
				frame = f
			}
		}
		var example struct{ ContactID string }
		json.Unmarshal([]byte(m["example"]), &example) // "{}" when none has a contact
		s.exceptions[excKey{m["tenant"], m["errorType"], frame}] = &excCounts{count: uint64(atoi(m["n"])),
			first: parseStoreTime(m["first"]), last: parseStoreTime(m["last"]), example: example.ContactID}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if what != "report" {
		return s, nil
	}
	err = v.query(ctx, win+` event:=exception time:* | stats by (tenant, _time:1m) count() n`, func(line []byte) error {
		m, err := stringRow(line)
		if err != nil {
			return err
		}
		s.excMinutes[minuteKey{m["tenant"], parseStoreTime(m["_time"]) / 60e9}] += atoi(m["n"])
		return nil
	})
	return s, err
}

// contacts fills s's contacts, their sessions and those sessions' logins.
func (v *VictoriaLogs) contacts(ctx context.Context, s *Stats, win string, tenants []string) error {
	err := v.query(ctx, win+` contactID:*`+tenantFilter(tenants)+` | stats by (contactID) min(_time) if (time:*) start, `+
		`max(_time) if (time:*) end, count() lines, count() if (event:=endContact) ends, `+
		`count() if (event:=saveTranscript i(saved)) saved, count() if (event:=exception) exceptions, `+
		`count() if (level:=error -event:=exception) errors`, func(line []byte) error {
		m, err := stringRow(line)
		if err != nil {
			return err
		}
		id := m["contactID"]
		s.contacts[id] = &contactState{id: id, start: parseStoreTime(m["start"]), end: parseStoreTime(m["end"]),
			lines: atoi(m["lines"]), exceptions: atoi(m["exceptions"]), errors: atoi(m["errors"]),
			ended: atoi(m["ends"]) > 0, saved: atoi(m["saved"]) > 0}
		return nil
	})
	if err != nil {
		return err
	}
	sessions := map[string]bool{}
	err = v.query(ctx, win+` event:=joinContact contactID:* sessionID:*`+tenantFilter(tenants)+
		` | stats by (contactID, sessionID) min(_time) first`, func(line []byte) error {
		m, err := stringRow(line)
		if err != nil {
			return err
		}
		if c := s.contacts[m["contactID"]]; c != nil {
			c.addSession(sessionSeen{seen{t: parseStoreTime(m["first"])}, m["sessionID"]})
			sessions[m["sessionID"]] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	return v.logins(ctx, s, sessions, win)
}

// logins finds the agentLogin lines of the sessions, before the window's
// end: an agent may have logged in long before the contact.
func (v *VictoriaLogs) logins(ctx context.Context, s *Stats, sessions map[string]bool, win string) error {
	var ids []string
	for id := range sessions {
		ids = append(ids, id)
	}
	until := strings.TrimSuffix(win[strings.LastIndexByte(win, ',')+2:], ")")
	for len(ids) > 0 {
		batch := ids[:min(len(ids), sessionsPerIn)]
		ids = ids[len(batch):]
		err := v.query(ctx, `_time:<`+until+` event:=agentLogin userID:* sessionID:`+inList(batch)+
			` | stats by (sessionID, userID) min(_time) first`, func(line []byte) error {
			m, err := stringRow(line)
			if err != nil {
				return err
			}
			l := loginSeen{seen{t: parseStoreTime(m["first"])}, m["userID"]}
			key := sessionKey(m["sessionID"])
			if old, ok := s.logins[key]; !ok || l.before(old.seen) {
				s.logins[key] = l
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Timeline asks for the contact's lines by its ID, then its sessions'
// login and their lines inside the contact's span, by session ID: never a
// scan of the whole store.
func (v *VictoriaLogs) Timeline(ctx context.Context, id string, q Query) (*Timeline, error) {
	win := ""
	if q.Since != 0 || q.Until != 0 {
		win = timeRange(q.Since, q.Until) + " "
	}
	// The query applies the window, by the store's time: a line without its
	// own timestamp counts if the store placed it inside.
	unbounded := q
	unbounded.Since, unbounded.Until = 0, 0
	w := newHitWorker(unbounded, nil, func(r *rec) hitKind {
		switch {
		case string(r.contactID) == id:
			return hitContact
		case isSessionLogin(r):
			return hitLogin
		}
		return hitSession
	})
	w.d.format = FormatJSON
	var at pos
	feed := func(line []byte) error {
		at++
		if w.d.decode(line, &w.r) != decodeOK {
			return nil
		}
		w.take(&w.r, at, w.keep(&w.r), line)
		return nil
	}
	limit := fmt.Sprintf(" | sort by (_time) | limit %d", timelineLimit)
	if err := v.query(ctx, win+`contactID:=`+quote(id)+limit, feed); err != nil {
		return nil, err
	}
	c := w.lifecycle(id)
	if c == nil {
		return nil, fmt.Errorf("%s: %w", id, ErrUnknownContact)
	}
	if len(c.AgentSessions) > 0 {
		until := FormatTime(q.Until)
		if until == "" {
			until = FormatTime(c.End + 1)
		}
		login := `_time:<` + until + ` event:=agentLogin userID:* sessionID:` + inList(c.AgentSessions) + limit
		if err := v.query(ctx, login, feed); err != nil {
			return nil, err
		}
		c = w.lifecycle(id) // now with the agents
		if c.Start != 0 {
			span := fmt.Sprintf("_time:[%s, %s] ", FormatTime(c.Start), FormatTime(c.End))
			sessions := span + `sessionID:` + inList(c.AgentSessions) + ` -contactID:=` + quote(id) + ` -event:=agentLogin` + limit
			if err := v.query(ctx, sessions, feed); err != nil {
				return nil, err
			}
		}
	}
	return w.timeline(c), nil
}
