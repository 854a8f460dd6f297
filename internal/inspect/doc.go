// Package inspect is ctlive-inspect's logic (cmd/ctlive-inspect is its
// entry point): it answers a support engineer's questions about CTLive
// contacts from raw logs, the plugin's JSON lines, or a VictoriaLogs store.
//
// A file scan (Aggregate) cuts each input into blocks of about 4 MiB that
// end at a record boundary (a stack trace's continuation lines stay with
// their first line, by parsers.conf's rule), parses the blocks on every CPU
// with the project's parser, and merges per-worker Stats whose merge does
// not depend on order. Plain files are memory-mapped. A contact's timeline
// (ContactTimeline) parses only the records that hold the contact's ID or a
// login, then reads only the stretch of each input the contact spans for
// its agents' sessions. A store (VictoriaLogs) is asked the same questions
// in LogsQL, with the aggregation done by the store.
//
// Rows follow the lifecycle definition in the README's ctlive-inspect
// section; the tests compare them with the corpus simulator's truth
// (corpus.Lifecycles).
package inspect
