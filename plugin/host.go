package main

/*
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>

// include/fluent-bit/flb_config_map.h, struct flb_config_map (Fluent Bit
// 5.0 and 5.1): the public fields a plugin fills in, then the host's own
// members (value, _head), which it never reads from the plugin's array.
// The host walks the array with m++, so the size must be the host's.
struct ctlive_config_map {
    int type;
    char *name;
    char *def_value;
    int flags;
    int set_property;
    uintptr_t offset;
    char *desc;
    unsigned char host_members[56];
};
_Static_assert(sizeof(struct ctlive_config_map) == 104, "struct flb_config_map is 104 bytes");

// include/fluent-bit/flb_plugin_proxy.h, struct flb_plugin_proxy_def since
// Fluent Bit 5.1.1 (commit 09936af): 48 bytes. Before, it ends after
// event_type: 40 bytes, and config_map is past the end of the block.
struct ctlive_proxy_def {
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
    int event_type;
    struct ctlive_config_map *config_map;
};
_Static_assert(offsetof(struct ctlive_proxy_def, config_map) == 40, "config_map at offset 40");
_Static_assert(sizeof(struct ctlive_proxy_def) == 48, "the 5.1.1 def is 48 bytes");

// The def comes from the host's calloc (src/flb_plugin_proxy.c,
// flb_plugin_proxy_create), and this call binds to the host's allocator
// (the executable comes first in the lookup scope): glibc reports 40 for a
// 40-byte block and 56 for 48, jemalloc 40 and 48.
static size_t ctlive_def_usable(void *def)
{
    return malloc_usable_size(def);
}

static void ctlive_def_set_config_map(void *def, struct ctlive_config_map *map)
{
    ((struct ctlive_proxy_def *) def)->config_map = map;
}

static int ctlive_thread_name(char *buf)
{
    return prctl(PR_GET_NAME, buf, 0, 0, 0);
}
*/
import "C"

import (
	"os"
	"strings"
	"sync"
	"unsafe"

	"github.com/ctlive/ctlive-fluent-bit/pipeline"
)

// FLB_CONFIG_MAP_DYNAMIC_ENV: Fluent Bit stores the value raw, ${VAR}
// unexpanded (src/flb_output.c, flb_output_set_property).
const flagDynamicEnv = 2

// configMapEnv overrides the layout detection: "on" writes the config map
// whatever the host's allocator says (a host known to be 5.1.1 or later
// whose allocator hides the block size), "off" never writes it.
const configMapEnv = "CTLIVE_CONFIG_MAP"

var (
	configMapOnce sync.Once
	configMap     *C.struct_ctlive_config_map
	// hostHasMap records that the registration handed the host the map:
	// then it checks keys itself and hands Env keys over raw.
	hostHasMap bool
)

// newConfigMap builds pipeline.Keys as an array of struct flb_config_map
// in C memory, ended by an entry whose name is NULL. The host keeps the
// pointer, and the descriptions without copying them, for the life of the
// process (and reads the array again on hot reload), so nothing here is
// ever freed, and one array serves every registration.
func newConfigMap() *C.struct_ctlive_config_map {
	n := len(pipeline.Keys)
	base := (*C.struct_ctlive_config_map)(C.calloc(C.size_t(n+1), C.sizeof_struct_ctlive_config_map))
	entries := unsafe.Slice(base, n+1)
	for i, k := range pipeline.Keys {
		e := &entries[i]
		e._type = C.int(k.Type)
		e.name = C.CString(k.Name)
		if k.Default != "" {
			e.def_value = C.CString(k.Default)
		}
		if k.Env {
			e.flags = flagDynamicEnv
		}
		// set_property 0: Fluent Bit never writes through offset for a
		// proxy plugin, and must not try; the plugin applies defaults.
		e.desc = C.CString(k.Desc)
	}
	return base
}

// registerConfigMap hands the host the config map when its proxy def has
// room for it. Writing config_map into an older host's 40-byte def would
// corrupt its heap, so the block's usable size decides; CTLIVE_CONFIG_MAP
// overrides it.
func registerConfigMap(def unsafe.Pointer) {
	switch strings.ToLower(os.Getenv(configMapEnv)) {
	case "off":
		hostHasMap = false
		return
	case "on":
	default:
		if C.ctlive_def_usable(def) < C.sizeof_struct_ctlive_proxy_def {
			hostHasMap = false
			return
		}
	}
	configMapOnce.Do(func() { configMap = newConfigMap() })
	C.ctlive_def_set_config_map(def, configMap)
	hostHasMap = true
}

// engineThreadName is Fluent Bit's engine thread (src/flb_lib.c,
// flb_lib_worker: mk_utils_worker_rename("flb-pipeline")). An output
// without workers is flushed there; with workers, on "flb-out-*" threads.
const engineThreadName = "flb-pipeline"

// onEngineThread tells whether the calling thread is Fluent Bit's engine
// thread. Go runs an export on the C thread that called it.
func onEngineThread() bool {
	var buf [16]C.char
	if C.ctlive_thread_name(&buf[0]) != 0 {
		return false
	}
	return C.GoString(&buf[0]) == engineThreadName
}
