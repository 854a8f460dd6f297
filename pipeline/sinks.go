package pipeline

import (
	"github.com/ctlive/ctlive-fluent-bit/internal/config"
	"github.com/ctlive/ctlive-fluent-bit/internal/flblog"
	"github.com/ctlive/ctlive-fluent-bit/record"
	"github.com/ctlive/ctlive-fluent-bit/sink"
	"github.com/ctlive/ctlive-fluent-bit/sink/elasticsearch"
	"github.com/ctlive/ctlive-fluent-bit/sink/forward"
	"github.com/ctlive/ctlive-fluent-bit/sink/loki"
	"github.com/ctlive/ctlive-fluent-bit/sink/stdout"
)

func init() {
	Sinks["stdout"] = adapt(stdout.New)
	Sinks["forward"] = adapt(forward.New)
	Sinks["elasticsearch"] = adapt(elasticsearch.New)
	Sinks["loki"] = adapt(loki.New)
}

// adapt turns a sink package's constructor into a SinkFactory, keeping a
// failed constructor's typed nil pointer out of the interface.
func adapt[S sink.Sink](f func(*config.Reader, *flblog.Logger, *record.Layout) (S, error)) SinkFactory {
	return func(r *config.Reader, log *flblog.Logger, l *record.Layout) (sink.Sink, error) {
		s, err := f(r, log, l)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}
