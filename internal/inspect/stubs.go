package inspect

import "errors"

func runStore(cmd, contactID string, o *options, q Query, env Env, st Style) error {
	return errors.New("todo")
}

func writeReportFile(path string, s *Stats, o *options, env Env) error { return errors.New("todo") }
