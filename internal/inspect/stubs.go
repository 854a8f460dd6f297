package inspect

import "errors"

func writeReportFile(path string, s *Stats, o *options, env Env) error { return errors.New("todo") }
