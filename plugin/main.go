// Command plugin is the cgo glue that makes the pipeline a Fluent Bit output
// plugin: `go build -buildmode=c-shared -o build/out_ctlive.so ./plugin`.
// It stays thin on purpose: exports, configuration hand-off, instance
// bookkeeping and panic containment. Everything else is in pipeline/.
package main

import "C"

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ctlive/ctlive-fluent-bit/internal/scrub"
	"github.com/ctlive/ctlive-fluent-bit/pipeline"
	"github.com/fluent/fluent-bit-go/output"
)

const (
	pluginName = "ctlive"
	pluginDesc = "Parses CTLive logs into structured, searchable, routable events"
)

var (
	instanceSeq atomic.Int32 // names instances ctlive.0, ctlive.1, ... in init order
	instances   sync.Map     // *pipeline.Pipeline -> struct{}: for the legacy exports
)

// guard turns a panic into a log line and a deliberate return code: a Go
// panic that crosses into Fluent Bit aborts the whole agent.
func guard(where string, ret *int, code int) {
	if v := recover(); v != nil {
		fmt.Fprintf(os.Stderr, "[%s] [error] [output:ctlive] panic in %s, returning %d: %v\n%s",
			time.Now().Format("2006/01/02 15:04:05.000"), where, code, scrub.Line(fmt.Sprint(v)), debug.Stack())
		*ret = code
	}
}

//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) (ret int) {
	defer guard("FLBPluginRegister", &ret, -1)
	ret = output.FLBPluginRegister(def, pluginName, pluginDesc)
	registerConfigMap(def)
	return ret
}

// FLBPluginInit reads every property now: Fluent Bit hands all instances
// the same plugin pointer and repoints it at each init, so it cannot be
// consulted later.
//
//export FLBPluginInit
func FLBPluginInit(plugin unsafe.Pointer) (ret int) {
	defer guard("FLBPluginInit", &ret, output.FLB_ERROR)
	name := pluginName + "." + strconv.Itoa(int(instanceSeq.Add(1)-1))
	get := func(key string) string { return output.FLBPluginConfigKey(plugin, key) }
	p, err := pipeline.NewWith(name, get, pipeline.Options{RawEnv: hostHasMap})
	if err != nil {
		// One line, whatever the number of bad keys, like Fluent Bit's own.
		fmt.Fprintf(os.Stderr, "[%s] [error] [output:ctlive:%s] invalid configuration, not starting: %s\n",
			time.Now().Format("2006/01/02 15:04:05.000"), name, scrub.Line(strings.ReplaceAll(err.Error(), "\n", "; ")))
		return output.FLB_ERROR
	}
	output.FLBPluginSetContext(plugin, p)
	instances.Store(p, struct{}{})
	profileStart()
	p.Log.Infof("started: %s", p.Describe())
	for _, w := range p.KeysOfOtherSinks(get) {
		p.Log.Warnf("%s", w)
	}
	if !p.Redacts() {
		// Worded so that the plugin's own log scrubber leaves it whole (no
		// scheme name followed by a word, which it would take for a value).
		p.Log.Warnf("redact off: credentials (session IDs, JWTs, ct7Token values, the values of Authorization headers, passwords) leave this instance in clear")
	}
	return output.FLB_OK
}

// FLBPluginFlushCtx runs on Fluent Bit's worker threads, concurrently when
// the output has `workers`. data is Fluent Bit's chunk: it is read in place
// and never kept after returning.
//
//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.size_t, tag *C.char) (ret int) {
	defer guard("FLBPluginFlushCtx", &ret, output.FLB_ERROR)
	p, _ := output.FLBPluginGetContext(ctx).(*pipeline.Pipeline)
	if p == nil {
		return output.FLB_ERROR
	}
	return int(p.FlushOn(thread(), chunk(data, length), C.GoString(tag)))
}

func thread() pipeline.Thread {
	if onEngineThread() {
		return pipeline.EngineThread
	}
	return pipeline.WorkerThread
}

// FLBPluginFlush is the pre-context entry point; Fluent Bit only calls it
// when FLBPluginFlushCtx is missing. It serves a single instance.
//
//export FLBPluginFlush
func FLBPluginFlush(data unsafe.Pointer, length C.size_t, tag *C.char) (ret int) {
	defer guard("FLBPluginFlush", &ret, output.FLB_ERROR)
	p := only()
	if p == nil {
		return output.FLB_ERROR
	}
	return int(p.FlushOn(thread(), chunk(data, length), C.GoString(tag)))
}

func chunk(data unsafe.Pointer, length C.size_t) []byte {
	if data == nil || length == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(data), int(length))
}

// only returns the single running instance, or nil when there are several.
func only() *pipeline.Pipeline {
	var found *pipeline.Pipeline
	n := 0
	instances.Range(func(k, _ any) bool {
		found, n = k.(*pipeline.Pipeline), n+1
		return n < 2
	})
	if n != 1 {
		return nil
	}
	return found
}

//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) (ret int) {
	defer guard("FLBPluginExitCtx", &ret, output.FLB_ERROR)
	if p, _ := output.FLBPluginGetContext(ctx).(*pipeline.Pipeline); p != nil {
		if _, loaded := instances.LoadAndDelete(p); loaded {
			p.Close()
			profileStop()
		}
	}
	return output.FLB_OK
}

// FLBPluginExit is the pre-context shutdown: it closes whatever is open.
//
//export FLBPluginExit
func FLBPluginExit() (ret int) {
	defer guard("FLBPluginExit", &ret, output.FLB_ERROR)
	instances.Range(func(k, _ any) bool {
		if _, loaded := instances.LoadAndDelete(k); loaded {
			k.(*pipeline.Pipeline).Close()
			profileStop()
		}
		return true
	})
	return output.FLB_OK
}

//export FLBPluginUnregister
func FLBPluginUnregister(def unsafe.Pointer) {
	var ret int
	defer guard("FLBPluginUnregister", &ret, 0)
	output.FLBPluginUnregister(def)
}

func main() {}
