// Command ctlivetest is a throwaway Fluent Bit output plugin, built with
// fluent-bit-go, that the flbhost tests load to observe what the host does.
// It prints one line per event on stdout, as "event key=value ...".
//
// Per-instance properties:
//
//	id             name printed on every line (default "?")
//	init_return    what FLBPluginInit returns (default 1)
//	flush_return   what FLBPluginFlushCtx returns (default 1)
//	show           comma-separated keys printed at init, telling NULL from ""
//	show_in_flush  a key read in every flush through the plugin pointer
//	               saved at init
//	print_records  "on" prints every record
//	mode           "panic": panic inside FlushCtx
//	               "hang": never return from FlushCtx
//	               "keep": keep the chunk pointer and, on the next flush,
//	                       print what it now points at
//	               "dump": print every chunk as hex
//	sleep_ms       time each flush takes, to make flushes overlap
package main

/*
#include <stdlib.h>

// The leading fields of struct flbgo_output_plugin (fluent-bit src/proxy/go/
// go.h) and of struct flb_api (include/fluent-bit/flb_api.h).  fluent-bit-go
// turns NULL into "", and these tests need to tell the two apart.
typedef const char *(*get_property_fn)(const char *, void *);
struct api_view { get_property_fn output_get_property; };
struct plugin_view { void *name; struct api_view *api; void *o_ins; void *context; };

static const char *raw_property(void *plugin, const char *key) {
	struct plugin_view *p = plugin;
	return p->api->output_get_property(key, p->o_ins);
}
*/
import "C"

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"
)

type instance struct {
	id           string
	flushReturn  int
	mode         string
	sleep        time.Duration
	printRecords bool
	showInFlush  string
	plugin       unsafe.Pointer

	kept []byte // deliberately retained Fluent Bit memory ("keep" mode)

	flushes     atomic.Int64
	records     atomic.Int64
	inflight    atomic.Int64
	maxInflight atomic.Int64
}

func rawProperty(plugin unsafe.Pointer, key string) (string, bool) {
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	v := C.raw_property(plugin, ckey)
	if v == nil {
		return "", false
	}
	return C.GoString(v), true
}

func intProperty(plugin unsafe.Pointer, key string, def int) int {
	v := output.FLBPluginConfigKey(plugin, key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return def
	}
	return n
}

//export FLBPluginPreRegister
func FLBPluginPreRegister(hotReloading C.int) int {
	fmt.Printf("preregister hot_reloading=%d\n", hotReloading)
	return 0
}

//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) int {
	fmt.Println("register")
	return output.FLBPluginRegister(def, "ctlive-test", "flbhost test plugin")
}

//export FLBPluginInit
func FLBPluginInit(plugin unsafe.Pointer) int {
	in := &instance{
		id:           output.FLBPluginConfigKey(plugin, "id"),
		flushReturn:  intProperty(plugin, "flush_return", output.FLB_OK),
		mode:         output.FLBPluginConfigKey(plugin, "mode"),
		sleep:        time.Duration(intProperty(plugin, "sleep_ms", 0)) * time.Millisecond,
		printRecords: output.FLBPluginConfigKey(plugin, "print_records") == "on",
		showInFlush:  output.FLBPluginConfigKey(plugin, "show_in_flush"),
		plugin:       plugin,
	}
	if in.id == "" {
		in.id = "?"
	}
	if show := output.FLBPluginConfigKey(plugin, "show"); show != "" {
		for _, key := range strings.Split(show, ",") {
			if v, ok := rawProperty(plugin, key); ok {
				fmt.Printf("prop id=%s key=%s value=%q\n", in.id, key, v)
			} else {
				fmt.Printf("prop id=%s key=%s value=<null>\n", in.id, key)
			}
		}
	}
	ret := intProperty(plugin, "init_return", output.FLB_OK)
	fmt.Printf("init id=%s ret=%d\n", in.id, ret)
	output.FLBPluginSetContext(plugin, in)
	return ret
}

//export FLBPluginOutputPreRun
func FLBPluginOutputPreRun(hotReload C.int) int {
	fmt.Printf("prerun hot_reload=%d\n", hotReload)
	return 0
}

//export FLBPluginFlush
func FLBPluginFlush(data unsafe.Pointer, length C.int, tag *C.char) int {
	fmt.Println("flush-without-context")
	return output.FLB_ERROR
}

//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.int, tag *C.char) int {
	in := output.FLBPluginGetContext(ctx).(*instance)
	now := in.inflight.Add(1)
	defer in.inflight.Add(-1)
	for {
		peak := in.maxInflight.Load()
		if now <= peak || in.maxInflight.CompareAndSwap(peak, now) {
			break
		}
	}

	switch in.mode {
	case "panic":
		panic("ctlive-test: deliberate panic in FlushCtx id=" + in.id)
	case "hang":
		time.Sleep(time.Hour)
	case "keep":
		if in.kept == nil {
			fmt.Printf("stale id=%s first=none\n", in.id)
		} else {
			fmt.Printf("stale id=%s first=%x\n", in.id, in.kept[:8])
		}
		in.kept = unsafe.Slice((*byte)(data), int(length))
	case "dump":
		fmt.Printf("dump id=%s hex=%s\n", in.id, hex.EncodeToString(C.GoBytes(data, length)))
	}
	if in.showInFlush != "" {
		fmt.Printf("flushprop id=%s key=%s value=%q\n", in.id, in.showInFlush,
			output.FLBPluginConfigKey(in.plugin, in.showInFlush))
	}

	dec := output.NewDecoder(data, int(length))
	count := 0
	for {
		ret, ts, record := output.GetRecord(dec)
		if ret != 0 {
			break
		}
		count++
		if in.printRecords {
			fmt.Printf("record id=%s tag=%s time=%s log=%q\n", in.id, C.GoString(tag), formatTime(ts), logField(record))
		}
	}
	time.Sleep(in.sleep)
	in.flushes.Add(1)
	in.records.Add(int64(count))
	fmt.Printf("flush id=%s tag=%s records=%d ret=%d\n", in.id, C.GoString(tag), count, in.flushReturn)
	return in.flushReturn
}

func formatTime(ts interface{}) string {
	switch t := ts.(type) {
	case output.FLBTime:
		return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
	case uint64:
		return strconv.FormatUint(t, 10)
	default:
		return fmt.Sprintf("%T", ts)
	}
}

func logField(record map[interface{}]interface{}) string {
	switch v := record["log"].(type) {
	case []byte:
		return string(v)
	case string:
		return v
	default:
		return fmt.Sprintf("%v", v)
	}
}

//export FLBPluginOutputPreExit
func FLBPluginOutputPreExit(shutdownByHotReloading C.int) {
	fmt.Printf("preexit hot_reloading=%d\n", shutdownByHotReloading)
}

//export FLBPluginExit
func FLBPluginExit() int {
	fmt.Println("exit-without-context")
	return output.FLB_ERROR
}

//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) int {
	in := output.FLBPluginGetContext(ctx).(*instance)
	fmt.Printf("exit id=%s flushes=%d records=%d max_inflight=%d\n",
		in.id, in.flushes.Load(), in.records.Load(), in.maxInflight.Load())
	return output.FLB_OK
}

//export FLBPluginUnregister
func FLBPluginUnregister(def unsafe.Pointer) {
	fmt.Println("unregister")
	output.FLBPluginUnregister(def)
}

func main() {}
