package inspect

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ctlive/ctlive-fluent-bit/enrich"
)

// Env is what a run of the command sees of the world.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	StdinTTY       bool // no file and no pipe: nothing to read
	StdoutTTY      bool // colours when NO_COLOR is unset too
	StderrTTY      bool // progress for large inputs
	Getenv         func(string) string
	Now            time.Time
}

const usage = `ctlive-inspect answers support questions about a CTLive log or store.

  ctlive-inspect contacts [flags] [FILE...]     one row per contact with its lifecycle
  ctlive-inspect contact ID [flags] [FILE...]   a contact's lifecycle and timeline
  ctlive-inspect tenants [flags] [FILE...]      per tenant: lines, contacts, durations, agents, errors
  ctlive-inspect exceptions [flags] [FILE...]   exceptions by tenant, type and top frame
  ctlive-inspect report [flags] [FILE...] -o report.html
  ctlive-inspect hash VALUE                     the digest the plugin writes for a credential

FILE is a log (plain or .gz) as docker compose logs writes it, or the JSON
lines of the plugin's stdout sink or Fluent Bit's file output; - or none
reads standard input. --from vlogs+http://HOST:9428 reads a VictoriaLogs
store instead (with --since and --until). Run a subcommand with -h for its flags.
`

// Run runs one command line (without the program name) and returns the
// exit code: 0 done, 1 failed (one line on stderr), 2 bad usage.
func Run(args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Now.IsZero() {
		env.Now = time.Now()
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(env.Stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, args := args[0], args[1:]
	var err error
	switch cmd {
	case "contacts", "contact", "tenants", "exceptions", "report":
		err = runScan(cmd, args, env)
	case "hash":
		err = runHash(args, env)
	default:
		fmt.Fprintf(env.Stderr, "ctlive-inspect: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "ctlive-inspect %s: %v\n", cmd, err)
		return 2
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	fmt.Fprintf(env.Stderr, "ctlive-inspect %s: %v\n", cmd, err)
	return 1
}

type usageError struct{ error }

// stringList is a repeatable flag; commas separate values too.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// options are the flags every scanning command shares.
type options struct {
	json                         bool
	from                         string
	since, until                 string
	maskKey                      string
	mask                         stringList
	noRedact                     bool
	workers                      int
	tenants                      stringList
	open, endedNoTranscript, exc bool
	output                       string
	limit                        int
}

func (o *options) flags(cmd string, fs *flag.FlagSet) {
	fs.BoolVar(&o.json, "json", false, "one JSON object per row (NDJSON)")
	fs.StringVar(&o.from, "from", "", "read a store instead of files: vlogs+http://HOST:9428")
	fs.StringVar(&o.since, "since", "", "only lines at or after this time (RFC 3339, or a duration back from now: 2h)")
	fs.StringVar(&o.until, "until", "", "only lines before this time (same forms)")
	fs.StringVar(&o.maskKey, "mask-key", "", "the plugin's mask_key, for keyed digests (default $CTLIVE_MASK_KEY)")
	fs.Var(&o.mask, "mask", "fields the plugin masks: userID (needs the key)")
	fs.BoolVar(&o.noRedact, "no-redact", false, "show session and user IDs of a raw log in clear")
	fs.IntVar(&o.workers, "workers", 0, "parsing goroutines (default: one per CPU)")
	switch cmd {
	case "contacts":
		fs.Var(&o.tenants, "tenant", "only this tenant's contacts (repeatable)")
		fs.BoolVar(&o.open, "open", false, "only contacts not ended")
		fs.BoolVar(&o.endedNoTranscript, "ended-without-transcript", false, "only contacts ended without a saved transcript")
		fs.BoolVar(&o.exc, "with-exceptions", false, "only contacts with exceptions")
	case "tenants", "exceptions":
		fs.Var(&o.tenants, "tenant", "only this tenant (repeatable)")
	case "report":
		fs.StringVar(&o.output, "o", "report.html", "the HTML file to write")
		fs.IntVar(&o.limit, "limit", 40, "timelines for at most this many flagged contacts")
	}
}

// parseInterspersed lets flags follow the files, as users type them.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (o *options) redaction(env Env) (Redaction, error) {
	r := Redaction{Clear: o.noRedact}
	key := o.maskKey
	if key == "" {
		key = env.Getenv("CTLIVE_MASK_KEY")
	}
	r.Key = []byte(key)
	if key != "" && (len(key) < enrich.MinMaskKey || strings.TrimSpace(key) == "") {
		// The plugin refuses such a key: no store holds digests made with it.
		return r, usageError{fmt.Errorf("--mask-key: the plugin's mask_key is at least %d bytes and not only spaces", enrich.MinMaskKey)}
	}
	for _, f := range o.mask {
		if f != "userID" {
			return r, usageError{fmt.Errorf("--mask %s: only userID can be given (sessions are always digested)", f)}
		}
		if key == "" {
			return r, usageError{errors.New("--mask userID needs --mask-key or $CTLIVE_MASK_KEY, the plugin's mask_key")}
		}
		r.MaskUser = true
	}
	return r, nil
}

func (o *options) window(env Env) (since, until int64, err error) {
	if o.since != "" {
		if since, err = ParseWhen(o.since, env.Now); err != nil {
			return 0, 0, usageError{fmt.Errorf("--since: %w", err)}
		}
	}
	if o.until != "" {
		if until, err = ParseWhen(o.until, env.Now); err != nil {
			return 0, 0, usageError{fmt.Errorf("--until: %w", err)}
		}
	}
	if since != 0 && until != 0 && until <= since {
		return 0, 0, usageError{errors.New("--until must be after --since")}
	}
	return since, until, nil
}

func runHash(args []string, env Env) error {
	fs := flag.NewFlagSet("hash", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var o options
	fs.StringVar(&o.maskKey, "mask-key", "", "the plugin's mask_key (default $CTLIVE_MASK_KEY): the keyed form")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{errors.New("give exactly one VALUE")}
	}
	red, err := o.redaction(env)
	if err != nil {
		return err
	}
	d := newDecoder(&red)
	if v := pos[0]; strings.HasPrefix(v, "USER_") && len(red.Key) > 0 {
		// A user ID as `mask userID` writes it: USER_ kept, the rest keyed.
		fmt.Fprintln(env.Stdout, string(d.maskUser(nil, []byte(v))))
		return nil
	}
	fmt.Fprintln(env.Stdout, d.dig.Token(pos[0]))
	return nil
}

// openInputs opens every file, or stdin when there is none; on an error
// the ones already open are closed.
func openInputs(paths []string, stdin io.Reader) ([]*Input, error) {
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	var ins []*Input
	for i, p := range paths {
		in, err := open(p, i, stdin)
		if err != nil {
			closeInputs(ins)
			return nil, err
		}
		ins = append(ins, in)
	}
	return ins, nil
}

func closeInputs(ins []*Input) {
	for _, in := range ins {
		in.Close()
	}
}

// progressThreshold: smaller inputs finish before a progress line helps.
const progressThreshold = 100 << 20

func runScan(cmd string, args []string, env Env) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var o options
	o.flags(cmd, fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	red, err := o.redaction(env)
	if err != nil {
		return err
	}
	since, until, err := o.window(env)
	if err != nil {
		return err
	}
	var contactID string
	if cmd == "contact" {
		if len(pos) == 0 {
			return usageError{errors.New("give the contact ID")}
		}
		contactID, pos = pos[0], pos[1:]
	}
	st := Style{Color: env.StdoutTTY && env.Getenv("NO_COLOR") == ""}
	q := Query{Red: red, Since: since, Until: until, Workers: o.workers}

	if o.from != "" {
		if len(pos) > 0 {
			return usageError{errors.New("give files or --from, not both")}
		}
		return runStore(cmd, contactID, &o, q, env, st)
	}
	if env.Stdin == nil {
		env.Stdin = os.Stdin
	}
	if len(pos) == 0 && env.StdinTTY {
		return usageError{errors.New("give a log file, - for standard input, or pipe a log in (docker compose logs ctlive | ctlive-inspect ...)")}
	}
	ins, err := openInputs(pos, env.Stdin)
	if err != nil {
		return err
	}
	defer closeInputs(ins)
	if env.StderrTTY {
		var total int64
		for _, in := range ins {
			total += max(in.Size, 0)
		}
		if total > progressThreshold {
			q.Progress = &Progress{W: env.Stderr, Total: total}
		}
	}
	switch cmd {
	case "contact":
		tl, err := ContactTimeline(ins, contactID, q)
		if err != nil {
			return err
		}
		return WriteTimeline(env.Stdout, tl, o.json, st)
	case "report":
		// The strips read the inputs a second time.
		var cleanup func()
		if ins, cleanup, err = spoolStdin(ins); err != nil {
			return err
		}
		defer cleanup()
	}
	s, err := Aggregate(ins, q)
	if err != nil {
		return err
	}
	warnSkipped(env.Stderr, s)
	if cmd == "report" {
		lines := func(ids []string) (map[string][]Entry, error) {
			again := make([]*Input, len(ins))
			for i, in := range ins {
				if again[i], err = in.reopenAt(0); err != nil {
					closeInputs(again[:i])
					return nil, err
				}
			}
			defer closeInputs(again)
			return collectLines(again, ids, q)
		}
		source := strings.Join(pos, ", ")
		if source == "" {
			source = "standard input"
		}
		return writeReportFile(o.output, s, lines, source, o.limit, env)
	}
	return writeResult(cmd, s, &o, env, st)
}

// runStore answers cmd from a store instead of files.
func runStore(cmd, contactID string, o *options, q Query, env Env, st Style) error {
	v, err := ParseStore(o.from)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if cmd == "contact" {
		tl, err := v.Timeline(ctx, contactID, q)
		if err != nil {
			return err
		}
		return WriteTimeline(env.Stdout, tl, o.json, st)
	}
	if q.Since == 0 || q.Until == 0 {
		return usageError{errors.New("--from needs --since and --until: they bound what the store reads")}
	}
	s, err := v.Stats(ctx, q.Since, q.Until, o.tenants, cmd)
	if err != nil {
		return err
	}
	if cmd == "report" {
		lines := func(ids []string) (map[string][]Entry, error) {
			out := map[string][]Entry{}
			for _, id := range ids {
				tl, err := v.Timeline(ctx, id, q)
				if err != nil {
					return nil, err
				}
				for _, e := range tl.Entries {
					if e.Kind == "contact" {
						out[id] = append(out[id], e)
					}
				}
			}
			return out, nil
		}
		return writeReportFile(o.output, s, lines, o.from, o.limit, env)
	}
	return writeResult(cmd, s, o, env, st)
}

// writeResult prints what a scan or a store query aggregated.
func writeResult(cmd string, s *Stats, o *options, env Env, st Style) error {
	switch cmd {
	case "contacts":
		f := ContactFilter{Tenants: o.tenants, Open: o.open, EndedWithoutTranscript: o.endedNoTranscript, WithExceptions: o.exc}
		return WriteContacts(env.Stdout, f.Apply(s.Contacts()), o.json, st)
	case "tenants":
		return WriteTenants(env.Stdout, s.Tenants(o.tenants), o.json, st)
	case "exceptions":
		return WriteExceptions(env.Stdout, s.Exceptions(o.tenants), o.json, st)
	}
	return nil
}

// warnSkipped says on stderr how many lines were not read as CTLive's.
func warnSkipped(w io.Writer, s *Stats) {
	if s.Malformed > 0 {
		fmt.Fprintf(w, "ctlive-inspect: %d malformed lines skipped\n", s.Malformed)
	}
	if s.Records == 0 && s.OutsideWindow > 0 {
		fmt.Fprintf(w, "ctlive-inspect: all %d CTLive lines are outside --since/--until", s.OutsideWindow)
		if s.outFirst != 0 {
			fmt.Fprintf(w, " (they run from %s to %s)", time.Unix(0, s.outFirst).UTC().Format(time.RFC3339), time.Unix(0, s.outLast).UTC().Format(time.RFC3339))
		}
		fmt.Fprintln(w)
	}
}
