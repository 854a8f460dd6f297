//go:build ignore

// The constraint above keeps the go tool from treating this file as cgo
// source of package flbhost; build.go embeds it and BuildHost compiles it.

/*
 * flbhost: a stand-in for Fluent Bit's Go-proxy output path, for tests and
 * for trying the plugin by hand where Fluent Bit is not installed.
 *
 * It loads an output plugin built with `go build -buildmode=c-shared`
 * against fluent-bit-go and makes the same calls, in the same order, with
 * the same structures that Fluent Bit makes.  Fluent Bit was read, not
 * copied, at fluent/fluent-bit v5.1.1-4-gd55459d49; each behaviour cites
 * the file and function it mirrors.
 *
 * USAGE
 *   flbhost -p PLUGIN.so -S [-r FD | -R PATH] [-s STACK]
 *       Script mode.  Commands arrive on stdin, one per line.  Exactly one
 *       result line per command goes to file descriptor FD (default 3) or
 *       to the file PATH, never to stdout/stderr, which stay the plugin's.
 *
 *   flbhost -p PLUGIN.so -i FILE|- [-o KEY=VALUE]... [-t TAG] [-n RECORDS]
 *           [-T SEC[.FRAC]] [-s STACK]
 *       CLI mode.  One instance with the -o properties reads FILE like
 *       Fluent Bit's tail input (from the head) with a multiline parser
 *       (the rule of parsers.conf, see is_continuation), flushes chunks of at most RECORDS records (default
 *       100) under TAG (default "tail.0") and retries a chunk on FLB_RETRY
 *       as often as the retry_limit property allows (default 1, at most
 *       10), 100 ms apart.  Records are {"log": LINES} stamped with the
 *       current time, or with -T for reproducible chunks.  Exits 0 when
 *       every chunk was accepted, 1 when one was dropped or init failed,
 *       2 on usage or I/O errors.
 *
 *   flbhost -p PLUGIN.so -H [-L LAYOUT]
 *       Help mode.  Prints the plugin's configuration map the way
 *       `fluent-bit -e PLUGIN.so -o NAME -h` prints its OPTIONS (src/
 *       fluent-bit.c, help_format_text); nothing after the banner when the
 *       plugin registered no map (flb_help_plugin does the same).
 *
 *   -L LAYOUT  the size of struct flb_plugin_proxy_def the host allocates
 *             for FLBPluginRegister: 48 (default; Fluent Bit 5.1.1 and
 *             later, with the config_map member) or 40 (before 5.1.1: the
 *             block ends after event_type).  With 48 a config map the
 *             plugin registers is used as Fluent Bit uses it: property
 *             names are checked before init (flb_output_plugin_property_
 *             check), entries flagged FLB_CONFIG_MAP_DYNAMIC_ENV are stored
 *             raw, and -H prints it.  With 40 the block is placed against
 *             an inaccessible page, and this host's malloc_usable_size
 *             (which the plugin's call binds to, as it binds to Fluent
 *             Bit's allocator) reports 40 for it: a plugin that writes past
 *             the old layout dies of SIGSEGV on the spot.
 *
 *   -s STACK  size in bytes of the stack every flush runs on.  Fluent Bit
 *             runs output flushes inside libco coroutines on malloc'd stacks
 *             of coro_stack_size bytes (include/fluent-bit/flb_coro.h,
 *             FLB_CORO_STACK_SIZE_BYTE: 64 KiB on Linux; flb_output.h,
 *             flb_output_coro_create), so that is the default.  0 calls the
 *             plugin on the calling thread's own stack.
 *
 * SCRIPT PROTOCOL
 *   Tokens are separated by spaces and percent-decoded (%XX; %00 is
 *   refused), so a token can carry spaces, newlines or '%'.  Blank lines and
 *   lines starting with '#' are ignored and get no result.  Results are
 *   "ok" followed by fields, or "err MESSAGE".
 *
 *   (at start)                       ok ready NAME | err ready MESSAGE
 *   new INST                         ok
 *   set INST KEY [VALUE...]          ok | err MESSAGE
 *         VALUE is the rest of the line after one space; empty if absent.
 *   get INST KEY                     ok value VALUE | ok null
 *         what the plugin would get from output_get_property.
 *   init INST                        ok RET
 *         RET is FLBPluginInit's return; RET <= 0 means init failed.
 *   flush INST TAG FILE... [threads N] [repeat M]
 *                                    ok RET...
 *         Each FILE holds one chunk.  The job list is the files, M times
 *         over (default 1); N threads (default 1) take jobs from it at
 *         once, released together by a barrier.  One RET per job, in job
 *         order, already mapped the way Fluent Bit maps it (0, 1 or 2).
 *   exit INST                        ok RET
 *   quit                             ok EXITED
 *         Exits every initialised instance in creation order, as Fluent
 *         Bit's shutdown does, then unregisters, dlcloses and exits 0.
 *         EXITED lists those instances, comma separated, or "-".
 *   End of input behaves like quit without the result line.
 *
 * THREADS
 *   Flushes run on a thread named as Fluent Bit names the thread it calls
 *   the plugin on: "flb-out-INSTANCE-wN" (truncated to 15 bytes by the
 *   kernel) when the instance has `workers` (src/flb_output_thread.c), else
 *   "flb-pipeline", the engine thread (src/flb_lib.c, flb_lib_worker).
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * ABI shared with the plugin.
 * ------------------------------------------------------------------------ */

/* include/fluent-bit/flb_plugin_proxy.h */
#define FLB_PROXY_OUTPUT_PLUGIN 2
#define FLB_PROXY_GOLANG 11

/* fluent-bit-go output/flb_plugin.h; include/fluent-bit/flb_output.h */
#define FLB_ERROR 0
#define FLB_OK 1
#define FLB_RETRY 2

/* include/fluent-bit/flb_log.h */
#define FLB_LOG_OFF 0
#define FLB_LOG_ERROR 1
#define FLB_LOG_WARN 2
#define FLB_LOG_INFO 3
#define FLB_LOG_DEBUG 4
#define FLB_LOG_TRACE 5

/* include/fluent-bit/flb_output.h */
#define FLB_OUT_RETRY_UNLIMITED -1
#define FLB_OUT_RETRY_NONE 0

/* include/fluent-bit/flb_plugin_proxy.h: struct flb_plugin_proxy_def.  The
 * whole struct is allocated even though fluent-bit-go only knows the first
 * five fields. */
struct flb_config_map;

struct flb_plugin_proxy_def {
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
    int event_type;
    struct flb_config_map *config_map; /* since 5.1.1 (commit 09936af) */
};

/* The def before 5.1.1 ends after event_type (and its padding). */
#define PROXY_DEF_OLD_SIZE 40

/* include/fluent-bit/flb_config_map.h.  A plugin fills in the public
 * fields; value and _head are the host's, in its own copies. */
#define FLB_CONFIG_MAP_STR 0
#define FLB_CONFIG_MAP_STR_PREFIX 1
#define FLB_CONFIG_MAP_INT 2
#define FLB_CONFIG_MAP_BOOL 3
#define FLB_CONFIG_MAP_DOUBLE 4
#define FLB_CONFIG_MAP_SIZE 5
#define FLB_CONFIG_MAP_TIME 6
#define FLB_CONFIG_MAP_DEPRECATED 7
#define FLB_CONFIG_MAP_CLIST 30
#define FLB_CONFIG_MAP_CLIST_4 34
#define FLB_CONFIG_MAP_SLIST 40
#define FLB_CONFIG_MAP_SLIST_4 44
#define FLB_CONFIG_MAP_VARIANT 50
#define FLB_CONFIG_MAP_MULT 1
#define FLB_CONFIG_MAP_DYNAMIC_ENV 2

struct flb_config_map {
    int type;
    char *name;
    char *def_value;
    int flags;
    int set_property;
    uintptr_t offset;
    char *desc;
    struct {
        void *val[1];
        char *raw;
        void *mult;
        void *head[2];
    } value;
    void *head[2];
};
_Static_assert(sizeof(struct flb_config_map) == 104,
               "struct flb_config_map is 104 bytes in Fluent Bit 5.x");

struct flb_plugin_proxy;

/* include/fluent-bit/flb_plugin_proxy.h: one per output instance;
 * FLBPluginSetContext writes remote_context (fluent-bit-go output.go). */
struct flb_plugin_proxy_context {
    void *remote_context;
    struct flb_plugin_proxy *proxy;
};

/* src/proxy/go/go.h: struct flbgo_output_plugin.  ONE per loaded plugin
 * (proxy->data), handed to FLBPluginInit of every instance in turn. */
struct flbgo_output_plugin {
    char *name;
    void *api;
    void *o_ins;
    struct flb_plugin_proxy_context *context;

    int (*cb_init)(struct flbgo_output_plugin *);
    int (*cb_flush)(const void *, size_t, const char *);
    int (*cb_flush_ctx)(void *, const void *, size_t, char *);
    int (*cb_exit)();
    int (*cb_exit_ctx)(void *);
};

/* include/fluent-bit/flb_api.h: the order of these nine pointers is ABI. */
struct flb_api {
    const char *(*output_get_property)(const char *, void *);
    const char *(*input_get_property)(const char *, void *);
    void *(*output_get_cmt_instance)(void *);
    void *(*input_get_cmt_instance)(void *);
    void (*log_print)(int, const char *, int, const char *, ...);
    int (*input_log_check)(void *, int);
    int (*output_log_check)(void *, int);
    const char *(*custom_get_property)(const char *, void *);
    int (*custom_log_check)(void *, int);
};

/* include/fluent-bit/flb_plugin_proxy.h: struct flb_plugin_proxy, without
 * the list link.  The plugin never sees it. */
struct flb_plugin_proxy {
    struct flb_plugin_proxy_def *def;
    struct flb_api *api;
    void *instance;
    void *dso_handler;
    struct flbgo_output_plugin *data;
};

/* ------------------------------------------------------------------------
 * Host state.
 * ------------------------------------------------------------------------ */

struct prop {
    char *key;
    char *val; /* NULL when the (translated) value was empty */
    struct prop *next;
};

enum instance_state { INS_NEW, INS_READY, INS_FAILED };

/* Stands in for struct flb_output_instance; the plugin only ever passes the
 * pointer back to the API, so the layout is ours. */
struct instance {
    char *name;
    int workers; /* ins->tp_workers */
    struct prop *props; /* ins->properties, in the order they were set */
    struct prop **props_tail;
    int log_level;   /* ins->log_level */
    int retry_limit; /* ins->retry_limit */
    enum instance_state state;
    struct flb_plugin_proxy_context *ctx; /* ins->context */
    struct instance *next;
};

static struct flb_plugin_proxy proxy;
static struct instance *instances;
static FILE *results;
static size_t flush_stack_size = 64 * 1024;
static size_t def_layout = sizeof(struct flb_plugin_proxy_def);
static const char *program_name = "flbhost";
static const char *plugin_path_arg = "";
static struct flb_config_map *plugin_map; /* the plugin's, if it gave one */

#define POISON_BYTE 0xC1 /* never used in msgpack: stale reads fail loudly */

static void host_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("[flbhost] ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p) {
        host_log("out of memory");
        abort();
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);

    memcpy(p, s, n);
    return p;
}

/* ------------------------------------------------------------------------
 * Growable byte buffer.
 * ------------------------------------------------------------------------ */

struct buf {
    unsigned char *data;
    size_t len;
    size_t cap;
};

static void buf_put(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;

        while (cap < b->len + n) {
            cap *= 2;
        }
        b->data = realloc(b->data, cap);
        if (!b->data) {
            host_log("out of memory");
            abort();
        }
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void buf_byte(struct buf *b, unsigned char c)
{
    buf_put(b, &c, 1);
}

static void buf_be32(struct buf *b, uint32_t v)
{
    unsigned char x[4] = {v >> 24, v >> 16, v >> 8, v};

    buf_put(b, x, 4);
}

static char *buf_cstr(struct buf *b)
{
    buf_byte(b, '\0');
    b->len--;
    return (char *) b->data;
}

/* ------------------------------------------------------------------------
 * Percent escaping for protocol tokens.
 * ------------------------------------------------------------------------ */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decodes in place; NUL cannot be carried because C strings end there. */
static int unescape(char *s)
{
    char *w = s;
    char *r;

    for (r = s; *r; r++) {
        int hi, lo;

        if (*r != '%') {
            *w++ = *r;
            continue;
        }
        hi = hexval(r[1]);
        lo = hi < 0 ? -1 : hexval(r[2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            return -1;
        }
        *w++ = (char) (hi * 16 + lo);
        r += 2;
    }
    *w = '\0';
    return 0;
}

static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;

        if (c == '%' || c <= ' ' || c == 0x7f) {
            fprintf(f, "%%%02X", c);
        }
        else {
            fputc(c, f);
        }
    }
}

/* Splits off the next token; the cursor ends after one separator so that
 * "rest of the line" arguments keep their leading spaces. */
static char *next_token(char **cursor)
{
    char *p = *cursor;
    char *start;

    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p == '\0') {
        *cursor = p;
        return NULL;
    }
    start = p;
    while (*p && *p != ' ' && *p != '\t') {
        p++;
    }
    if (*p) {
        *p++ = '\0';
    }
    *cursor = p;
    return start;
}

/* ------------------------------------------------------------------------
 * Results.
 * ------------------------------------------------------------------------ */

static void reply_ok(const char *fmt, ...)
{
    va_list ap;

    fputs("ok", results);
    if (fmt) {
        fputc(' ', results);
        va_start(ap, fmt);
        vfprintf(results, fmt, ap);
        va_end(ap);
    }
    fputc('\n', results);
    fflush(results);
}

static void reply_err(const char *fmt, ...)
{
    char msg[1024];
    char *p;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (p = msg; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    fprintf(results, "err %s\n", msg);
    fflush(results);
}

/* ------------------------------------------------------------------------
 * Environment translation: src/flb_env.c.
 * ------------------------------------------------------------------------ */

/* src/flb_env.c:flb_env_get with only the presets of flb_env_create: the
 * config file's own env section does not exist here.  ${HOSTNAME} falls
 * back to gethostname() (env_preset); empty variables count as unset. */
static const char *env_get(const char *name)
{
    static char hostname[512];
    const char *v;

    if (strcmp(name, "HOSTNAME") == 0 && getenv("HOSTNAME") == NULL) {
        if (gethostname(hostname, sizeof(hostname) - 1) == 0) {
            return hostname;
        }
    }
    v = getenv(name);
    if (!v || v[0] == '\0') {
        return NULL;
    }
    return v;
}

/* Same results as src/flb_env.c:flb_env_var_translate, quirks included:
 * "}" is searched from the scan position rather than after "${", an
 * unterminated "${" ends the scan, and ${NAME:-default} is supported.
 * Returns a malloc'd string. */
static char *env_translate(const char *value)
{
    struct buf out = {0};
    size_t len = strlen(value);
    const char *v_start;
    const char *v_end = NULL;
    int have_var = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        char name[4096];
        const char *def = NULL;
        const char *env;
        char *sep;
        long v_len;
        long pre;

        v_start = strstr(value + i, "${");
        if (!v_start) {
            break;
        }
        v_end = strstr(value + i, "}");
        if (!v_end) {
            break;
        }
        v_start += 2;
        v_len = v_end - v_start;
        if (v_len <= 0 || v_len >= (long) sizeof(name)) {
            break;
        }
        memcpy(name, v_start, v_len);
        name[v_len] = '\0';
        have_var = 1;

        sep = strstr(name, ":");
        if (sep && sep[1] == '-') {
            def = sep + 2;
            *sep = '\0';
        }

        pre = (v_start - 2) - (value + i);
        if (pre > 0) {
            buf_put(&out, value + i, pre);
        }

        env = env_get(name);
        if (env && !(def && env[0] == '\0')) {
            buf_put(&out, env, strlen(env));
        }
        else if (def) {
            buf_put(&out, def, strlen(def));
        }
        else {
            host_log("[env] variable ${%s} is used but not set", name);
        }
        i += (v_start - (value + i)) + v_len;
    }

    if (v_end && have_var && (value + len) - (v_end + 1) > 0) {
        buf_put(&out, v_end + 1, (value + len) - (v_end + 1));
    }
    if (out.len == 0) {
        free(out.data);
        return xstrdup(have_var ? "" : value);
    }
    return buf_cstr(&out);
}

/* ------------------------------------------------------------------------
 * Properties: src/flb_output.c:flb_output_set_property and
 * flb_output_get_property, src/flb_kv.c:flb_kv_get_key_value.
 * ------------------------------------------------------------------------ */

static int log_level_from_str(const char *s)
{
    /* src/flb_log.c:flb_log_get_level_str */
    static const struct {
        const char *name;
        int level;
    } levels[] = {
        {"off", FLB_LOG_OFF},     {"error", FLB_LOG_ERROR},
        {"warn", FLB_LOG_WARN},   {"warning", FLB_LOG_WARN},
        {"info", FLB_LOG_INFO},   {"debug", FLB_LOG_DEBUG},
        {"trace", FLB_LOG_TRACE},
    };
    size_t i;

    for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        if (strcasecmp(s, levels[i].name) == 0) {
            return levels[i].level;
        }
    }
    return -1;
}

static int set_log_level(struct instance *ins, const char *v)
{
    int level = log_level_from_str(v);

    if (level < 0) {
        return -1;
    }
    ins->log_level = level;
    return 0;
}

static int is_true(const char *v)
{
    /* src/flb_utils.c:flb_utils_bool, true side */
    return strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0 ||
           strcasecmp(v, "yes") == 0;
}

static int set_tls(struct instance *ins, const char *v)
{
    (void) ins;
    /* fluent-bit-go registers flags 0, so the instance lacks FLB_IO_TLS and
     * Fluent Bit refuses "tls on" ("does not support TLS"). */
    return is_true(v) ? -1 : 0;
}

/* src/flb_output.c: ins->tp_workers = atoi(tmp) */
static int set_workers(struct instance *ins, const char *v)
{
    ins->workers = atoi(v);
    return 0;
}

static int set_retry_limit(struct instance *ins, const char *v)
{
    if (!v) {
        ins->retry_limit = 1;
    }
    else if (strcasecmp(v, "no_limits") == 0 || strcasecmp(v, "false") == 0 ||
             strcasecmp(v, "off") == 0) {
        ins->retry_limit = FLB_OUT_RETRY_UNLIMITED;
    }
    else if (strcasecmp(v, "no_retries") == 0) {
        ins->retry_limit = FLB_OUT_RETRY_NONE;
    }
    else {
        ins->retry_limit = atoi(v);
        if (ins->retry_limit <= 0) {
            ins->retry_limit = 1;
        }
    }
    return 0;
}

/* Keys flb_output_set_property keeps for the core, in its order.  Those
 * marked needs_value are only taken when the value is not empty; an empty
 * one falls through to the plugin's list as NULL, which reads the same.
 * Left out: HTTP-server keys (proxy plugins never set
 * FLB_OUTPUT_HTTP_SERVER), "_debug.http." (only with
 * FLB_HAVE_HTTP_CLIENT_DEBUG) and "tls.windows.*" (Windows only: on Linux
 * those reach the plugin). */
static const struct core_key {
    const char *key;
    int prefix;
    int needs_value;
    int (*apply)(struct instance *, const char *);
} core_keys[] = {
    {"match", 0, 0, NULL},
    {"match_regex", 0, 1, NULL},
    {"alias", 0, 1, NULL},
    {"log_level", 0, 1, set_log_level},
    {"log_suppress_interval", 0, 1, NULL},
    {"host", 0, 0, NULL},
    {"port", 0, 0, NULL},
    {"ipv6", 0, 1, NULL},
    {"retry_limit", 0, 0, set_retry_limit},
    {"net.", 1, 1, NULL},
    {"oauth2", 1, 1, NULL},
    {"tls", 0, 1, set_tls},
    {"tls.verify", 0, 1, NULL},
    {"tls.verify_hostname", 0, 1, NULL},
    {"tls.debug", 0, 1, NULL},
    {"tls.vhost", 0, 0, NULL},
    {"tls.ca_path", 0, 0, NULL},
    {"tls.ca_file", 0, 0, NULL},
    {"tls.crt_file", 0, 0, NULL},
    {"tls.key_file", 0, 0, NULL},
    {"tls.key_passwd", 0, 0, NULL},
    {"tls.min_version", 0, 0, NULL},
    {"tls.max_version", 0, 0, NULL},
    {"tls.ciphers", 0, 0, NULL},
    {"tls.proxy.verify", 0, 1, NULL},
    {"tls.proxy.verify_hostname", 0, 1, NULL},
    {"tls.proxy.ca_path", 0, 0, NULL},
    {"tls.proxy.ca_file", 0, 0, NULL},
    {"storage.total_limit_size", 0, 1, NULL},
    {"workers", 0, 1, set_workers},
};

static const struct core_key *core_key_for(const char *key, int has_value)
{
    size_t i;

    for (i = 0; i < sizeof(core_keys) / sizeof(core_keys[0]); i++) {
        const struct core_key *ck = &core_keys[i];
        int match = ck->prefix
                        ? strncasecmp(ck->key, key, strlen(ck->key)) == 0
                        : strcasecmp(ck->key, key) == 0;

        if (match && (!ck->needs_value || has_value)) {
            return ck;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------
 * The plugin's config map: src/flb_config_map.c, src/flb_output.c.
 * ------------------------------------------------------------------------ */

/* include/fluent-bit/flb_config_map.h:
 * flb_config_map_property_has_dynamic_env walks the plugin's own array. */
static int map_has_dynamic_env(const char *name)
{
    struct flb_config_map *m = plugin_map;

    while (m && m->name) {
        if (strcasecmp(m->name, name) == 0) {
            return (m->flags & FLB_CONFIG_MAP_DYNAMIC_ENV) != 0;
        }
        m++;
    }
    return 0;
}

static int map_size(const struct flb_config_map *m)
{
    int n = 0;

    while (m && m[n].name) {
        n++;
    }
    return n;
}

/* src/flb_utils.c:flb_utils_bool */
static int utils_bool(const char *v)
{
    if (strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0 ||
        strcasecmp(v, "yes") == 0) {
        return 1;
    }
    if (strcasecmp(v, "false") == 0 || strcasecmp(v, "off") == 0 ||
        strcasecmp(v, "no") == 0) {
        return 0;
    }
    return -1;
}

/* The checks flb_config_map_create makes of each entry's default
 * (translate_default_value): a boolean must read as one, a prefixed string
 * has none.  A failure stops every instance of the plugin. */
static int map_check_defaults(void)
{
    struct flb_config_map *m = plugin_map;

    for (; m && m->name; m++) {
        if (!m->def_value) {
            continue;
        }
        if (m->type == FLB_CONFIG_MAP_BOOL && utils_bool(m->def_value) < 0) {
            host_log("[error] [config map] invalid default value for boolean "
                     "'%s=%s'", m->name, m->def_value);
            return -1;
        }
        if (m->type == FLB_CONFIG_MAP_STR_PREFIX) {
            host_log("[error] [config map] invalid default value for prefixed "
                     "string '%s'", m->name);
            return -1;
        }
    }
    return 0;
}

/* src/flb_config_map.c:helper_map_options: "a, b, and c." */
static void map_allowed(struct buf *b)
{
    struct flb_config_map *m = plugin_map;
    int n = map_size(m);
    int i;

    buf_put(b, "The following properties are allowed: ",
            strlen("The following properties are allowed: "));
    for (i = 0; i < n; i++) {
        if (i < n - 1) {
            buf_put(b, m[i].name, strlen(m[i].name));
            buf_put(b, ", ", 2);
        }
        else {
            if (n > 1) {
                buf_put(b, "and ", 4);
            }
            buf_put(b, m[i].name, strlen(m[i].name));
            buf_byte(b, '.');
        }
    }
}

/* src/flb_output.c:flb_output_plugin_property_check, which Fluent Bit runs
 * for each instance before its init (flb_output_init_all), and
 * src/flb_config_map.c:flb_config_map_properties_check.  Only the
 * plugin's properties are checked: core keys never reach the list. */
static int property_check(struct instance *ins)
{
    struct flb_config_map *map = plugin_map;
    const char *pname = proxy.data->name;
    struct prop *p, *q;

    if (!map) {
        return 0;
    }
    if (map_check_defaults() != 0) {
        host_log("[error] [output] error loading config map for '%s' plugin",
                 pname);
        return -1;
    }
    for (p = ins->props; p; p = p->next) {
        struct flb_config_map *m;
        int count = 0;

        if (strcasecmp(p->key, "active") == 0 ||
            strcasecmp(p->key, "condition") == 0) {
            continue;
        }
        for (m = map; m->name; m++) {
            size_t len = strlen(m->name);

            if (m->type != FLB_CONFIG_MAP_STR_PREFIX && len != strlen(p->key)) {
                continue;
            }
            if (strncasecmp(p->key, m->name, len) == 0) {
                if (m->type == FLB_CONFIG_MAP_STR_PREFIX &&
                    strlen(p->key) <= len) {
                    host_log("[error] [config] incomplete prefixed key '%s'",
                             p->key);
                    m = NULL;
                }
                else if (m->type == FLB_CONFIG_MAP_DEPRECATED) {
                    host_log("[ warn] [config] %s: '%s' is deprecated", pname,
                             p->key);
                }
                break;
            }
        }
        if (!m || !m->name) {
            struct buf b = {0};

            map_allowed(&b);
            host_log("[error] [config] %s: unknown configuration property "
                     "'%s'. %s", pname, p->key, buf_cstr(&b));
            free(b.data);
            host_log("[ help] try the command: %s -p %s -H", program_name,
                     plugin_path_arg);
            return -1;
        }
        /* property_count compares the exact key, case included. */
        for (q = ins->props; q; q = q->next) {
            if (strcmp(q->key, p->key) == 0) {
                count++;
            }
        }
        if ((m->flags & FLB_CONFIG_MAP_MULT) == 0 && count > 1) {
            host_log("[error] [config] %s: configuration property '%s' is set "
                     "%i times", pname, p->key, count);
            return -1;
        }
    }
    return 0;
}

/* src/flb_help.c:pack_config_map_entry, the type names. */
static const char *map_type_name(int type)
{
    switch (type) {
    case FLB_CONFIG_MAP_STR:
        return "string";
    case FLB_CONFIG_MAP_DEPRECATED:
        return "deprecated";
    case FLB_CONFIG_MAP_INT:
        return "integer";
    case FLB_CONFIG_MAP_BOOL:
        return "boolean";
    case FLB_CONFIG_MAP_DOUBLE:
        return "double";
    case FLB_CONFIG_MAP_SIZE:
        return "size";
    case FLB_CONFIG_MAP_TIME:
        return "time";
    case FLB_CONFIG_MAP_VARIANT:
        return "variant";
    case FLB_CONFIG_MAP_STR_PREFIX:
        return "prefixed string";
    case FLB_CONFIG_MAP_CLIST:
        return "multiple comma delimited strings";
    case FLB_CONFIG_MAP_SLIST:
        return "multiple space delimited strings";
    }
    if (type > FLB_CONFIG_MAP_CLIST && type <= FLB_CONFIG_MAP_CLIST_4) {
        return "comma delimited strings";
    }
    if (type > FLB_CONFIG_MAP_SLIST && type <= FLB_CONFIG_MAP_SLIST_4) {
        return "space delimited strings";
    }
    return "?";
}

/* src/fluent-bit.c:help_plugin_description: wrapped at 90 columns. */
static void help_description(int pad, const char *s)
{
    int max = 90 - pad;
    const char *p = s;
    const char *end = s + strlen(s);
    int line = 0;

    if ((int) strlen(s) <= max) {
        printf("%s\n", s);
        return;
    }
    while (p < end) {
        const char *c;
        int len;

        if (p + max > end) {
            c = end;
        }
        else {
            c = p + max;
            while (*c != ' ' && c > p) {
                c--;
            }
        }
        len = c == p ? (int) (end - p) : (int) (c - p);
        printf("%*s%.*s\n", line ? pad : 0, "", len, p);
        line++;
        p += len + 1;
    }
}

/* src/fluent-bit.c:flb_help_plugin and help_format_text, the plugin's own
 * section: without a map Fluent Bit prints nothing but its banner. */
static int help_mode(void)
{
    struct flb_config_map *m = plugin_map;
    int max = 0;

    if (!m) {
        return 0;
    }
    if (map_check_defaults() != 0) {
        return 1;
    }
    printf("HELP\n%s output plugin\n\nDESCRIPTION\n%s\n\nOPTIONS\n",
           proxy.data->name,
           proxy.def->description ? proxy.def->description : "");
    /* The padding is the longest name of all sections, the global options
     * included, of which tls.windows.use_enterprise_store is the longest. */
    max = (int) strlen("tls.windows.use_enterprise_store");
    for (; m->name; m++) {
        if ((int) strlen(m->name) > max) {
            max = (int) strlen(m->name);
        }
    }
    max += 2;
    for (m = plugin_map; m->name; m++) {
        printf("%-*s", max, m->name);
        help_description(max, m->desc ? m->desc : "");
        /* help_print_property reads a nil default as the string
         * "default": Fluent Bit 5.1.1 prints "> default: default". */
        printf("%*s> default: %s, type: ", max, " ",
               m->def_value ? m->def_value : "default");
        printf("%s\n\n", map_type_name(m->type));
    }
    return 0;
}

static int set_property(struct instance *ins, const char *key,
                        const char *value)
{
    const struct core_key *ck;
    struct prop *p;
    char *val = env_translate(value);

    if (val[0] == '\0') {
        free(val);
        val = NULL;
    }

    ck = core_key_for(key, val != NULL);
    if (ck) {
        int ret = ck->apply ? ck->apply(ins, val) : 0;

        free(val);
        return ret;
    }

    /* flb_config_map_property_has_dynamic_env: such a value is stored
     * raw, ${VAR} and all, even when its translation was empty. */
    if (map_has_dynamic_env(key)) {
        free(val);
        val = xstrdup(value);
    }

    /* flb_kv_item_create appends, so a repeated key keeps its FIRST value
     * for readers: flb_kv_get_key_value returns the first match. */
    p = xmalloc(sizeof(*p));
    p->key = xstrdup(key);
    p->val = val;
    p->next = NULL;
    *ins->props_tail = p;
    ins->props_tail = &p->next;
    return 0;
}

static const char *get_property(const char *key, void *o_ins)
{
    struct instance *ins = o_ins;
    struct prop *p;
    size_t len;

    if (!key || !ins) {
        return NULL;
    }
    len = strlen(key);
    if (len == 0) {
        return NULL;
    }
    for (p = ins->props; p; p = p->next) {
        if (strlen(p->key) == len && strncasecmp(p->key, key, len) == 0) {
            return p->val;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------
 * The API handed to the plugin: src/flb_api.c:flb_api_create.
 * ------------------------------------------------------------------------ */

static const char *api_no_property(const char *key, void *ins)
{
    (void) key;
    (void) ins;
    return NULL;
}

static void *api_no_cmt(void *ins)
{
    (void) ins;
    return NULL;
}

static void api_log_print(int type, const char *file, int line,
                          const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "[flbhost] [plugin log type=%d %s:%d] ", type,
            file ? file : "?", line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int api_log_check_any(void *ins, int level)
{
    (void) ins;
    (void) level;
    return 1;
}

/* src/flb_output.c:flb_output_log_check; levels default to info, as
 * flb_output_init_all copies config->log->level into unset instances. */
static int api_output_log_check(void *o_ins, int level)
{
    struct instance *ins = o_ins;

    return ins && level <= ins->log_level;
}

static struct flb_api *api_create(void)
{
    struct flb_api *api = calloc(1, sizeof(*api));

    if (!api) {
        return NULL;
    }
    api->output_get_property = get_property;
    api->input_get_property = api_no_property;
    api->output_get_cmt_instance = api_no_cmt;
    api->input_get_cmt_instance = api_no_cmt;
    api->log_print = api_log_print;
    api->input_log_check = api_log_check_any;
    api->output_log_check = api_output_log_check;
    api->custom_get_property = api_no_property;
    api->custom_log_check = api_log_check_any;
    return api;
}

/* ------------------------------------------------------------------------
 * Loading and registration.
 * ------------------------------------------------------------------------ */

/* src/flb_plugin_proxy.c:flb_plugin_proxy_symbol */
static void *symbol(const char *name)
{
    void *s;

    dlerror();
    s = dlsym(proxy.dso_handler, name);
    if (dlerror() != NULL) {
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------------------
 * The proxy def's layout.
 * ------------------------------------------------------------------------ */

/* The old layout's def sits in the last PROXY_DEF_OLD_SIZE bytes of a page
 * followed by an inaccessible one. */
static void *old_def_pages;
static long page_size;

static void *def_alloc(void)
{
    if (def_layout != PROXY_DEF_OLD_SIZE) {
        /* src/flb_plugin_proxy.c:flb_plugin_proxy_create:
         * flb_calloc(1, sizeof(struct flb_plugin_proxy_def)) */
        return calloc(1, def_layout);
    }
    page_size = sysconf(_SC_PAGESIZE);
    old_def_pages = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (old_def_pages == MAP_FAILED) {
        return NULL;
    }
    if (mprotect((char *) old_def_pages + page_size, page_size, PROT_NONE)) {
        return NULL;
    }
    return (char *) old_def_pages + page_size - PROXY_DEF_OLD_SIZE;
}

static int is_old_def(const void *p)
{
    return old_def_pages &&
           p == (char *) old_def_pages + page_size - PROXY_DEF_OLD_SIZE;
}

static void def_free(void *def)
{
    if (is_old_def(def)) {
        munmap(old_def_pages, 2 * page_size);
        old_def_pages = NULL;
        return;
    }
    free(def);
}

/* A plugin asks the host's allocator how big the def's block is (this
 * symbol is exported, so the plugin's call binds here, as it binds to
 * Fluent Bit's allocator): the old layout's block is 40 bytes. */
size_t malloc_usable_size(void *p)
{
    static size_t (*next)(void *);

    if (is_old_def(p)) {
        return PROXY_DEF_OLD_SIZE;
    }
    if (!next) {
        next = (size_t (*)(void *)) dlsym(RTLD_NEXT, "malloc_usable_size");
    }
    return next(p);
}

/* src/flb_plugin_proxy.c:flb_plugin_proxy_create, flb_plugin_proxy_register
 * and src/proxy/go/go.c:proxy_go_output_register.  Fluent Bit ignores a
 * plugin that registers as something else; here that is an error. */
static int load_plugin(const char *path, char *err, size_t err_size)
{
    int (*cb_pre_register)(int);
    int (*cb_register)(struct flb_plugin_proxy_def *);
    struct flbgo_output_plugin *plugin;
    struct flb_plugin_proxy_def *def;

    proxy.dso_handler = dlopen(path, RTLD_LAZY);
    if (!proxy.dso_handler) {
        /* As in Fluent Bit, a name without '/' is searched for in the
         * library path, not in the current directory. */
        snprintf(err, err_size, "dlopen %s: %s%s", path, dlerror(),
                 strchr(path, '/') ? "" : " (try ./ before the name)");
        return -1;
    }
    proxy.api = api_create();
    def = def_alloc();
    if (!proxy.api || !def) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    /* flb_plugin_proxy_create presets the type it is given, and its only
     * caller (src/flb_plugin.c:flb_plugin_load_router) gives 0: the plugin
     * must declare itself an output. */
    def->type = 0;
    proxy.def = def;

    cb_pre_register = symbol("FLBPluginPreRegister");
    if (cb_pre_register && cb_pre_register(0) == -1) {
        snprintf(err, err_size, "FLBPluginPreRegister returned -1");
        return -1;
    }
    cb_register = symbol("FLBPluginRegister");
    if (!cb_register) {
        snprintf(err, err_size, "FLBPluginRegister not exported");
        return -1;
    }
    if (cb_register(def) == -1) {
        snprintf(err, err_size, "FLBPluginRegister returned -1");
        return -1;
    }
    if (def->proxy != FLB_PROXY_GOLANG) {
        snprintf(err, err_size, "registered proxy %d, want GOLANG (%d)",
                 def->proxy, FLB_PROXY_GOLANG);
        return -1;
    }
    if (def->type != FLB_PROXY_OUTPUT_PLUGIN) {
        snprintf(err, err_size, "registered type %d, want output (%d)",
                 def->type, FLB_PROXY_OUTPUT_PLUGIN);
        return -1;
    }
    if (!def->name) {
        snprintf(err, err_size, "registered without a name");
        return -1;
    }
    /* src/flb_plugin_proxy.c:flb_proxy_register_output:
     * out->config_map = def->config_map, a pointer the host keeps.  The old
     * layout has no such member: whatever lies past it is not read. */
    plugin_map = def_layout == PROXY_DEF_OLD_SIZE ? NULL : def->config_map;

    /* go.c mallocs this; api, o_ins and context are set before each init. */
    plugin = calloc(1, sizeof(*plugin));
    if (!plugin) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    plugin->cb_init = symbol("FLBPluginInit");
    if (!plugin->cb_init) {
        free(plugin);
        snprintf(err, err_size, "could not load FLBPluginInit symbol");
        return -1;
    }
    plugin->cb_flush = symbol("FLBPluginFlush");
    plugin->cb_flush_ctx = symbol("FLBPluginFlushCtx");
    plugin->cb_exit = symbol("FLBPluginExit");
    plugin->cb_exit_ctx = symbol("FLBPluginExitCtx");
    /* A copy: fluent-bit-go's FLBPluginUnregister frees def->name. */
    plugin->name = xstrdup(def->name);
    proxy.data = plugin;
    return 0;
}

/* src/flb_plugin_proxy.c:flb_proxy_output_cb_destroy,
 * src/proxy/go/go.c:proxy_go_output_unregister and flb_plugin_proxy_destroy.
 * def->name and def->description belong to the plugin, which frees them in
 * FLBPluginUnregister. */
static void unload_plugin(void)
{
    void (*cb_unregister)(struct flb_plugin_proxy_def *);

    cb_unregister = symbol("FLBPluginUnregister");
    if (cb_unregister) {
        cb_unregister(proxy.def);
    }
    if (proxy.data) {
        free(proxy.data->name);
        free(proxy.data);
        proxy.data = NULL;
    }
    def_free(proxy.def);
    free(proxy.api);
    /* A Go runtime cannot be unloaded: c-shared objects are linked with
     * -z nodelete, so this only drops the reference, as in Fluent Bit. */
    dlclose(proxy.dso_handler);
}

/* ------------------------------------------------------------------------
 * Instances.
 * ------------------------------------------------------------------------ */

static struct instance *find_instance(const char *name)
{
    struct instance *ins;

    for (ins = instances; ins; ins = ins->next) {
        if (strcmp(ins->name, name) == 0) {
            return ins;
        }
    }
    return NULL;
}

/* src/flb_output.c:flb_output_new: each proxy instance gets its own
 * flb_plugin_proxy_context pointing at the shared proxy. */
static struct instance *new_instance(const char *name)
{
    struct instance *ins = calloc(1, sizeof(*ins));
    struct instance **tail;

    if (!ins) {
        return NULL;
    }
    ins->ctx = calloc(1, sizeof(*ins->ctx));
    if (!ins->ctx) {
        free(ins);
        return NULL;
    }
    ins->ctx->proxy = &proxy;
    ins->name = xstrdup(name);
    ins->props_tail = &ins->props;
    ins->log_level = FLB_LOG_INFO;
    ins->retry_limit = 1;
    ins->state = INS_NEW;

    for (tail = &instances; *tail; tail = &(*tail)->next) {
    }
    *tail = ins;
    return ins;
}

static void destroy_instance(struct instance *ins)
{
    struct instance **link;
    struct prop *p, *next;

    for (link = &instances; *link; link = &(*link)->next) {
        if (*link == ins) {
            *link = ins->next;
            break;
        }
    }
    for (p = ins->props; p; p = next) {
        next = p->next;
        free(p->key);
        free(p->val);
        free(p);
    }
    free(ins->ctx);
    free(ins->name);
    free(ins);
}

/* src/flb_plugin_proxy.c:flb_proxy_output_cb_init and
 * src/proxy/go/go.c:proxy_go_output_init, then flb_output_pre_run
 * (src/flb_output.c) -> flb_proxy_output_cb_pre_run.  Fluent Bit inits every
 * instance before any pre-run; here each instance is pre-run right after
 * its own init.  The pre-run result is ignored, as in Fluent Bit. */
static int init_instance(struct instance *ins)
{
    struct flbgo_output_plugin *plugin = proxy.data;
    int (*cb_pre_run)(int);
    int ret;

    if (property_check(ins) != 0) {
        /* flb_output_init_all fails before the plugin's init is called. */
        host_log("[error] [engine] output initialization failed");
        ins->state = INS_FAILED;
        return -1;
    }
    proxy.instance = ins;
    plugin->api = proxy.api;
    plugin->o_ins = ins;
    plugin->context = ins->ctx;

    ret = plugin->cb_init(plugin);
    if (ret <= 0) {
        host_log("[go proxy]: plugin '%s' failed to initialize (returned %d)",
                 plugin->name, ret);
        ins->state = INS_FAILED;
        return ret;
    }
    ins->state = INS_READY;

    cb_pre_run = symbol("FLBPluginOutputPreRun");
    if (cb_pre_run) {
        cb_pre_run(0);
    }
    return ret;
}

/* src/flb_plugin_proxy.c:flb_proxy_output_cb_exit and
 * src/proxy/go/go.c:proxy_go_output_destroy; then the instance goes away
 * (src/flb_output.c:flb_output_exit). */
static int exit_instance(struct instance *ins)
{
    struct flbgo_output_plugin *plugin = proxy.data;
    void (*cb_pre_exit)(int);
    int ret = 0;

    cb_pre_exit = symbol("FLBPluginOutputPreExit");
    if (cb_pre_exit) {
        cb_pre_exit(0);
    }
    if (plugin->cb_exit_ctx) {
        ret = plugin->cb_exit_ctx(ins->ctx->remote_context);
    }
    else if (plugin->cb_exit) {
        ret = plugin->cb_exit();
    }
    destroy_instance(ins);
    return ret;
}

/* ------------------------------------------------------------------------
 * Flushing.
 * ------------------------------------------------------------------------ */

/* Freed buffers are poisoned and parked here for a while before free():
 * malloc would otherwise hand the same block to the next chunk, and a
 * plugin reading a stale pointer would see plausible data instead of
 * poison. */
#define QUARANTINE_SLOTS 512
#define QUARANTINE_BYTES (64u << 20)

static struct {
    pthread_mutex_t lock;
    void *ptr[QUARANTINE_SLOTS];
    size_t size[QUARANTINE_SLOTS];
    size_t head;
    size_t count;
    size_t bytes;
} quarantine = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void poison_and_free(void *p, size_t n)
{
    memset(p, POISON_BYTE, n);

    pthread_mutex_lock(&quarantine.lock);
    while (quarantine.count > 0 &&
           (quarantine.count == QUARANTINE_SLOTS ||
            quarantine.bytes + n > QUARANTINE_BYTES)) {
        size_t oldest =
            (quarantine.head + QUARANTINE_SLOTS - quarantine.count) %
            QUARANTINE_SLOTS;

        free(quarantine.ptr[oldest]);
        quarantine.bytes -= quarantine.size[oldest];
        quarantine.count--;
    }
    quarantine.ptr[quarantine.head] = p;
    quarantine.size[quarantine.head] = n;
    quarantine.head = (quarantine.head + 1) % QUARANTINE_SLOTS;
    quarantine.count++;
    quarantine.bytes += n;
    pthread_mutex_unlock(&quarantine.lock);
}

struct flush_call {
    struct instance *ins;
    const void *data;
    size_t size;
    const char *tag;
    size_t tag_len;
    int ret;
};

/* src/proxy/go/go.c:proxy_go_output_flush: the tag is copied into a
 * temporary NUL-terminated buffer that lives only for the call. */
static int proxy_go_output_flush(struct flush_call *c)
{
    struct flbgo_output_plugin *plugin = c->ins->ctx->proxy->data;
    char *tag = xmalloc(c->tag_len + 1);
    int ret;

    memcpy(tag, c->tag, c->tag_len);
    tag[c->tag_len] = '\0';
    if (plugin->cb_flush_ctx) {
        ret = plugin->cb_flush_ctx(c->ins->ctx->remote_context, c->data,
                                   c->size, tag);
    }
    else if (plugin->cb_flush) {
        ret = plugin->cb_flush(c->data, c->size, tag);
    }
    else {
        /* Fluent Bit would call a NULL cb_flush and crash. */
        host_log("plugin exports neither FLBPluginFlushCtx nor FLBPluginFlush");
        ret = FLB_ERROR;
    }
    poison_and_free(tag, c->tag_len + 1);
    return ret;
}

/* src/flb_plugin_proxy.c:proxy_cb_flush: anything but OK/RETRY/ERROR is an
 * error. */
static void proxy_cb_flush(void *arg)
{
    struct flush_call *c = arg;
    int ret = proxy_go_output_flush(c);

    if (ret != FLB_OK && ret != FLB_RETRY && ret != FLB_ERROR) {
        host_log("flush returned %d; Fluent Bit turns that into FLB_ERROR",
                 ret);
        ret = FLB_ERROR;
    }
    c->ret = ret;
}

static __thread void (*coro_fn)(void *);
static __thread void *coro_arg;

static void coro_entry(void)
{
    coro_fn(coro_arg);
}

/* Runs fn on a fresh malloc'd stack, as each Fluent Bit flush runs in its
 * own libco coroutine (lib/monkey/deps/flb_libco/amd64.c:co_create mallocs
 * coro_stack_size + 512 bytes). */
static void run_on_flush_stack(void (*fn)(void *), void *arg)
{
    ucontext_t caller, callee;
    size_t size;
    void *stack;

    if (flush_stack_size == 0) {
        fn(arg);
        return;
    }
    size = (flush_stack_size + 512) & ~(size_t) 15;
    stack = xmalloc(size);
    if (getcontext(&callee) != 0) {
        host_log("getcontext: %s", strerror(errno));
        abort();
    }
    callee.uc_stack.ss_sp = stack;
    callee.uc_stack.ss_size = size;
    callee.uc_link = &caller;
    makecontext(&callee, coro_entry, 0);
    coro_fn = fn;
    coro_arg = arg;
    if (swapcontext(&caller, &callee) != 0) {
        host_log("swapcontext: %s", strerror(errno));
        abort();
    }
    free(stack);
}

static __thread int worker_index;

/* Names the calling thread as Fluent Bit names the one it flushes on. */
static void name_flush_thread(struct instance *ins)
{
    char name[64];

    if (ins->workers > 0) {
        /* src/flb_output_thread.c: "flb-out-%s-w%i" with ins->name */
        snprintf(name, sizeof(name), "flb-out-%s-w%i", ins->name,
                 worker_index);
    }
    else {
        snprintf(name, sizeof(name), "flb-pipeline");
    }
    prctl(PR_SET_NAME, name, 0, 0, 0);
}

/* One flush as Fluent Bit performs it: the plugin gets a buffer that is
 * Fluent Bit's own and that is gone once the callback returns. */
static int flush_chunk(struct instance *ins, const char *tag,
                       const unsigned char *chunk, size_t size)
{
    unsigned char *data = xmalloc(size);
    struct flush_call call = {ins, data, size, tag, strlen(tag), FLB_ERROR};

    memcpy(data, chunk, size);
    name_flush_thread(ins);
    run_on_flush_stack(proxy_cb_flush, &call);
    poison_and_free(data, size);
    return call.ret;
}

struct chunk_file {
    unsigned char *data;
    size_t size;
};

struct flush_batch {
    struct instance *ins;
    const char *tag;
    struct chunk_file *files;
    size_t nfiles;
    size_t njobs;
    int *rets;
    size_t next_job; /* atomically incremented */
    pthread_barrier_t start;
};

static void run_jobs(struct flush_batch *b)
{
    for (;;) {
        size_t j = __atomic_fetch_add(&b->next_job, 1, __ATOMIC_SEQ_CST);
        struct chunk_file *f;

        if (j >= b->njobs) {
            return;
        }
        f = &b->files[j % b->nfiles];
        b->rets[j] = flush_chunk(b->ins, b->tag, f->data, f->size);
    }
}

static void *flush_worker(void *arg)
{
    struct flush_batch *b = arg;
    static int next_index;

    worker_index = __atomic_fetch_add(&next_index, 1, __ATOMIC_SEQ_CST);

    pthread_barrier_wait(&b->start);
    run_jobs(b);
    return NULL;
}

/* Output workers (`workers N`) flush one instance from N threads at once
 * with the same context (src/flb_output_thread.c). */
static int run_batch(struct flush_batch *b, int threads, char *err,
                     size_t err_size)
{
    pthread_t *tids;
    int started = 0;
    int i;

    if (threads == 1) {
        run_jobs(b);
        return 0;
    }
    tids = xmalloc(sizeof(*tids) * threads);
    pthread_barrier_init(&b->start, NULL, threads);
    for (i = 0; i < threads; i++) {
        int rc = pthread_create(&tids[i], NULL, flush_worker, b);

        if (rc != 0) {
            /* The barrier can never open now; a host that cannot start
             * threads is not worth keeping alive. */
            snprintf(err, err_size, "pthread_create: %s", strerror(rc));
            host_log("%s", err);
            exit(3);
        }
        started++;
    }
    for (i = 0; i < started; i++) {
        pthread_join(tids[i], NULL);
    }
    pthread_barrier_destroy(&b->start);
    free(tids);
    return 0;
}

static int read_file(const char *path, struct chunk_file *out)
{
    struct buf b = {0};
    char tmp[65536];
    size_t n;
    FILE *f = fopen(path, "rb");

    if (!f) {
        return -1;
    }
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
        buf_put(&b, tmp, n);
    }
    if (ferror(f)) {
        fclose(f);
        free(b.data);
        return -1;
    }
    fclose(f);
    out->data = b.data;
    out->size = b.len;
    return 0;
}

/* ------------------------------------------------------------------------
 * Script mode.
 * ------------------------------------------------------------------------ */

static int parse_count(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

static struct instance *instance_arg(char **cursor)
{
    char *name = next_token(cursor);
    struct instance *ins;

    if (!name || unescape(name) != 0) {
        reply_err("missing or malformed instance name");
        return NULL;
    }
    ins = find_instance(name);
    if (!ins) {
        reply_err("no instance %s", name);
    }
    return ins;
}

static void cmd_new(char *args)
{
    char *name = next_token(&args);

    if (!name || unescape(name) != 0) {
        reply_err("usage: new INST");
        return;
    }
    if (find_instance(name)) {
        reply_err("instance %s exists", name);
        return;
    }
    if (!new_instance(name)) {
        reply_err("out of memory");
        return;
    }
    reply_ok(NULL);
}

static void cmd_set(char *args)
{
    struct instance *ins = instance_arg(&args);
    char *key;

    if (!ins) {
        return;
    }
    key = next_token(&args);
    if (!key || unescape(key) != 0 || unescape(args) != 0) {
        reply_err("usage: set INST KEY [VALUE]");
        return;
    }
    if (ins->state != INS_NEW) {
        reply_err("instance %s is already initialised", ins->name);
        return;
    }
    if (set_property(ins, key, args) != 0) {
        reply_err("could not configure property '%s' (Fluent Bit refuses "
                  "this value)", key);
        return;
    }
    reply_ok(NULL);
}

static void cmd_get(char *args)
{
    struct instance *ins = instance_arg(&args);
    char *key;
    const char *v;

    if (!ins) {
        return;
    }
    key = next_token(&args);
    if (!key || unescape(key) != 0) {
        reply_err("usage: get INST KEY");
        return;
    }
    v = get_property(key, ins);
    if (!v) {
        reply_ok("null");
        return;
    }
    fputs("ok value ", results);
    put_escaped(results, v);
    fputc('\n', results);
    fflush(results);
}

static void cmd_init(char *args)
{
    struct instance *ins = instance_arg(&args);

    if (!ins) {
        return;
    }
    if (ins->state != INS_NEW) {
        reply_err("instance %s was already initialised", ins->name);
        return;
    }
    reply_ok("%d", init_instance(ins));
}

static void cmd_flush(char *args)
{
    struct flush_batch b = {0};
    struct instance *ins = instance_arg(&args);
    char err[256] = "";
    char *tag;
    char *tok;
    long threads = 1;
    long repeat = 1;
    size_t i;

    if (!ins) {
        return;
    }
    if (ins->state != INS_READY) {
        reply_err("instance %s is not initialised", ins->name);
        return;
    }
    tag = next_token(&args);
    if (!tag || unescape(tag) != 0) {
        reply_err("usage: flush INST TAG FILE... [threads N] [repeat M]");
        return;
    }
    b.files = xmalloc(sizeof(*b.files) * (strlen(args) / 2 + 1));
    while ((tok = next_token(&args)) != NULL) {
        long *opt = strcmp(tok, "threads") == 0  ? &threads
                    : strcmp(tok, "repeat") == 0 ? &repeat
                                                 : NULL;

        if (opt) {
            char *n = next_token(&args);

            if (!n || parse_count(n, 1, opt == &threads ? 256 : 1000000,
                                  opt) != 0) {
                snprintf(err, sizeof(err), "bad %s count", tok);
                break;
            }
            continue;
        }
        if (unescape(tok) != 0 || read_file(tok, &b.files[b.nfiles]) != 0) {
            snprintf(err, sizeof(err), "cannot read chunk file %s: %s", tok,
                     strerror(errno));
            break;
        }
        b.nfiles++;
    }
    if (!err[0] && b.nfiles == 0) {
        snprintf(err, sizeof(err), "no chunk files");
    }
    if (!err[0]) {
        b.ins = ins;
        b.tag = tag;
        b.njobs = b.nfiles * (size_t) repeat;
        b.rets = xmalloc(sizeof(int) * b.njobs);
        run_batch(&b, (int) threads, err, sizeof(err));
    }
    if (err[0]) {
        reply_err("%s", err);
    }
    else {
        fputs("ok", results);
        for (i = 0; i < b.njobs; i++) {
            fprintf(results, " %d", b.rets[i]);
        }
        fputc('\n', results);
        fflush(results);
    }
    for (i = 0; i < b.nfiles; i++) {
        free(b.files[i].data);
    }
    free(b.files);
    free(b.rets);
}

static void cmd_exit(char *args)
{
    struct instance *ins = instance_arg(&args);

    if (!ins) {
        return;
    }
    if (ins->state == INS_FAILED) {
        /* src/flb_output.c:flb_output_init_all destroys it without exit. */
        reply_err("instance %s failed init; Fluent Bit destroys it without "
                  "calling exit", ins->name);
        return;
    }
    if (ins->state != INS_READY) {
        reply_err("instance %s is not initialised", ins->name);
        return;
    }
    reply_ok("%d", exit_instance(ins));
}

/* src/flb_engine.c shutdown: flb_output_exit walks instances in creation
 * order, then the plugin is destroyed (flb_proxy_output_cb_destroy). */
static void shutdown_host(int reply)
{
    struct buf exited = {0};
    struct instance *ins = instances;

    while (ins) {
        struct instance *next = ins->next;

        if (ins->state == INS_READY) {
            if (exited.len) {
                buf_byte(&exited, ',');
            }
            buf_put(&exited, ins->name, strlen(ins->name));
            exit_instance(ins);
        }
        else {
            destroy_instance(ins);
        }
        ins = next;
    }
    unload_plugin();
    if (reply) {
        reply_ok("%s", exited.len ? buf_cstr(&exited) : "-");
    }
    free(exited.data);
}

static int script_mode(void)
{
    static const struct {
        const char *name;
        void (*run)(char *args);
    } commands[] = {
        {"new", cmd_new},   {"set", cmd_set},     {"get", cmd_get},
        {"init", cmd_init}, {"flush", cmd_flush}, {"exit", cmd_exit},
    };
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    while ((n = getline(&line, &cap, stdin)) >= 0) {
        char *cursor = line;
        char *cmd;
        size_t i;

        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            line[--n] = '\0';
        }
        cmd = next_token(&cursor);
        if (!cmd || cmd[0] == '#') {
            continue;
        }
        if (strcmp(cmd, "quit") == 0) {
            shutdown_host(1);
            free(line);
            return 0;
        }
        for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
            if (strcmp(cmd, commands[i].name) == 0) {
                commands[i].run(cursor);
                break;
            }
        }
        if (i == sizeof(commands) / sizeof(commands[0])) {
            reply_err("unknown command %s", cmd);
        }
    }
    free(line);
    shutdown_host(0);
    return 0;
}

/* ------------------------------------------------------------------------
 * CLI mode: tail + multiline + chunk encoding.
 * ------------------------------------------------------------------------ */

/* Skips ANSI CSI sequences (ESC [ params intermediates final). */
static const char *skip_ansi(const char *p)
{
    while (p[0] == 0x1b && p[1] == '[') {
        const char *q = p + 2;

        while (*q >= 0x30 && *q <= 0x3f) {
            q++;
        }
        while (*q >= 0x20 && *q <= 0x2f) {
            q++;
        }
        if (*q < 0x40 || *q > 0x7e) {
            break;
        }
        p = q + 1;
    }
    return p;
}

static int is_name_char(char c)
{
    return isalnum((unsigned char) c) || c == '.' || c == '_' || c == '-';
}

/* docker compose prefix "name  | ", colours allowed anywhere in it. */
static const char *skip_compose_prefix(const char *line)
{
    const char *p = skip_ansi(line);

    if (!isalnum((unsigned char) *p)) {
        return line;
    }
    for (;;) {
        p = skip_ansi(p);
        if (is_name_char(*p) || *p == ' ') {
            p++;
        }
        else {
            break;
        }
    }
    if (*p != '|') {
        return line;
    }
    p = skip_ansi(p + 1);
    if (*p != ' ') {
        return line;
    }
    return skip_ansi(p + 1);
}

static const char *digits(const char *p, int n)
{
    while (n-- > 0) {
        if (!isdigit((unsigned char) *p)) {
            return NULL;
        }
        p++;
    }
    return p;
}

static const char *expect(const char *p, const char *chars)
{
    return p && *p && strchr(chars, *p) ? p + 1 : NULL;
}

/* RFC 3339 date-time followed by one space, as docker --timestamps
 * prints; returns p unchanged when there is none. */
static const char *skip_rfc3339(const char *p)
{
    const char *q = digits(p, 4);

    q = expect(q, "-");
    q = q ? digits(q, 2) : NULL;
    q = expect(q, "-");
    q = q ? digits(q, 2) : NULL;
    q = expect(q, "Tt");
    q = q ? digits(q, 2) : NULL;
    q = expect(q, ":");
    q = q ? digits(q, 2) : NULL;
    q = expect(q, ":");
    q = q ? digits(q, 2) : NULL;
    if (q && *q == '.') {
        q = digits(q + 1, 1);
        while (q && isdigit((unsigned char) *q)) {
            q++;
        }
    }
    if (q && (*q == 'Z' || *q == 'z')) {
        q++;
    }
    else if (q && (*q == '+' || *q == '-')) {
        q = digits(q + 1, 2);
        q = expect(q, ":");
        q = q ? digits(q, 2) : NULL;
    }
    else {
        q = NULL;
    }
    q = expect(q, " ");
    return q ? q : p;
}

/* The project's multiline rule, the one parsers.conf gives Fluent Bit
 * (ctlive-node): after the optional compose prefix and timestamp, an
 * indented line (Node's "    at fn (...)" frames and "  code: 11000,"
 * properties) or a lone "}" continues the previous record. */
static int is_continuation(const char *line)
{
    const char *p = skip_rfc3339(skip_compose_prefix(line));

    if (*p == '}') {
        p++;
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        return *p == '\0';
    }
    if (*p != ' ' && *p != '\t') {
        return 0;
    }
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    return *p != '\0';
}

static void mp_str(struct buf *b, const char *s, size_t n)
{
    /* msgpack-c msgpack_pack_str: fixstr, str8, str16, str32. */
    if (n < 32) {
        buf_byte(b, 0xa0 | (unsigned char) n);
    }
    else if (n < 256) {
        buf_byte(b, 0xd9);
        buf_byte(b, (unsigned char) n);
    }
    else if (n < 65536) {
        buf_byte(b, 0xda);
        buf_byte(b, (unsigned char) (n >> 8));
        buf_byte(b, (unsigned char) n);
    }
    else {
        buf_byte(b, 0xdb);
        buf_be32(b, (uint32_t) n);
    }
    buf_put(b, s, n);
}

/* src/flb_log_event_encoder.c:flb_log_event_encoder_emit_record, v2 form:
 * [[EventTime, {}], {"log": LOG}] with EventTime = fixext8 type 0,
 * big-endian seconds then nanoseconds. Both maps are map32 (0xdf) as the
 * encoder writes them, sized after their entries (src/flb_mp.c,
 * flb_mp_map_header_init); seen in Fluent Bit 5.1.1's forward stream of a
 * tail input. */
static void mp_log_entry(struct buf *b, const struct timespec *ts,
                         const char *log, size_t len)
{
    buf_byte(b, 0x92);
    buf_byte(b, 0x92);
    buf_byte(b, 0xd7);
    buf_byte(b, 0x00);
    buf_be32(b, (uint32_t) ts->tv_sec);
    buf_be32(b, (uint32_t) ts->tv_nsec);
    buf_byte(b, 0xdf);
    buf_be32(b, 0);
    buf_byte(b, 0xdf);
    buf_be32(b, 1);
    mp_str(b, "log", 3);
    mp_str(b, log, len);
}

struct cli {
    struct instance *ins;
    const char *tag;
    long per_chunk;
    int fixed_time;
    struct timespec time;

    struct buf chunk;
    long in_chunk;
    struct buf record;
    int have_record;
    struct timespec record_time;

    long records, chunks, dropped, retries;
};

#define CLI_MAX_RETRIES 10

static void cli_flush_chunk(struct cli *c)
{
    long limit = c->ins->retry_limit;
    long attempts = 0;

    if (c->in_chunk == 0) {
        return;
    }
    if (limit == FLB_OUT_RETRY_UNLIMITED || limit > CLI_MAX_RETRIES) {
        limit = CLI_MAX_RETRIES;
    }
    c->chunks++;
    for (;;) {
        int ret = flush_chunk(c->ins, c->tag, c->chunk.data, c->chunk.len);

        if (ret == FLB_OK) {
            break;
        }
        if (ret == FLB_RETRY && attempts < limit) {
            struct timespec pause = {0, 100 * 1000 * 1000};

            attempts++;
            c->retries++;
            nanosleep(&pause, NULL);
            continue;
        }
        host_log("chunk %ld dropped: flush returned %s", c->chunks,
                 ret == FLB_RETRY ? "FLB_RETRY past retry_limit"
                                  : "FLB_ERROR");
        c->dropped++;
        break;
    }
    c->chunk.len = 0;
    c->in_chunk = 0;
}

static void cli_emit_record(struct cli *c)
{
    if (!c->have_record) {
        return;
    }
    mp_log_entry(&c->chunk, &c->record_time, (char *) c->record.data,
                 c->record.len);
    c->have_record = 0;
    c->record.len = 0;
    c->records++;
    if (++c->in_chunk >= c->per_chunk) {
        cli_flush_chunk(c);
    }
}

static void cli_line(struct cli *c, const char *line, size_t len)
{
    if (c->have_record && is_continuation(line)) {
        buf_byte(&c->record, '\n');
        buf_put(&c->record, line, len);
        return;
    }
    cli_emit_record(c);
    c->have_record = 1;
    if (c->fixed_time) {
        c->record_time = c->time;
    }
    else {
        clock_gettime(CLOCK_REALTIME, &c->record_time);
    }
    buf_put(&c->record, line, len);
}

static int parse_time(const char *s, struct timespec *ts)
{
    char *end;
    long long sec;
    long nsec = 0;
    long scale = 100000000;

    errno = 0;
    sec = strtoll(s, &end, 10);
    if (errno || end == s || sec < 0 || sec > 0xFFFFFFFFLL) {
        return -1;
    }
    if (*end == '.') {
        for (end++; isdigit((unsigned char) *end); end++) {
            nsec += (*end - '0') * scale;
            scale /= 10;
        }
    }
    if (*end) {
        return -1;
    }
    ts->tv_sec = (time_t) sec;
    ts->tv_nsec = nsec;
    return 0;
}

static int cli_mode(const char *input, char **props, int nprops,
                    const char *tag, long per_chunk, const char *fixed)
{
    struct cli c = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int missing_newline = 0;
    int i, ret;
    FILE *in;

    c.tag = tag;
    c.per_chunk = per_chunk;
    if (fixed) {
        c.fixed_time = 1;
        if (parse_time(fixed, &c.time) != 0) {
            host_log("-T wants SECONDS[.FRACTION] within 32 bits: %s", fixed);
            return 2;
        }
    }
    in = strcmp(input, "-") == 0 ? stdin : fopen(input, "r");
    if (!in) {
        host_log("cannot open %s: %s", input, strerror(errno));
        return 2;
    }

    {
        char name[256];

        snprintf(name, sizeof(name), "%s.0", proxy.data->name);
        c.ins = new_instance(name);
    }
    for (i = 0; i < nprops; i++) {
        char *eq = strchr(props[i], '=');

        if (!eq) {
            host_log("-o wants KEY=VALUE: %s", props[i]);
            return 2;
        }
        *eq = '\0';
        if (set_property(c.ins, props[i], eq + 1) != 0) {
            host_log("could not configure property '%s'", props[i]);
            return 1;
        }
    }
    ret = init_instance(c.ins);
    if (ret <= 0) {
        destroy_instance(c.ins);
        unload_plugin();
        return 1;
    }

    while ((n = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t) n;

        if (len > 0 && line[len - 1] == '\n') {
            len--;
        }
        else {
            missing_newline = 1;
        }
        /* plugins/in_tail/tail_file.c:process_content drops the CR of CRLF
         * only on lines of two or more bytes. */
        if (len >= 2 && line[len - 1] == '\r') {
            len--;
        }
        line[len] = '\0';
        cli_line(&c, line, len);
    }
    if (missing_newline) {
        host_log("last line has no newline; Fluent Bit's tail would hold it "
                 "back until one arrives");
    }
    free(line);
    if (in != stdin) {
        fclose(in);
    }
    cli_emit_record(&c);
    cli_flush_chunk(&c);

    host_log("%ld records in %ld chunks: %ld dropped, %ld retries",
             c.records, c.chunks, c.dropped, c.retries);
    shutdown_host(0);
    free(c.chunk.data);
    free(c.record.data);
    return c.dropped ? 1 : 0;
}

/* ------------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------------ */

static void usage(void)
{
    fputs("usage: flbhost -p PLUGIN.so -S [-r FD | -R PATH] [-s STACK]\n"
          "       flbhost -p PLUGIN.so -i FILE|- [-o KEY=VALUE]... [-t TAG]\n"
          "               [-n RECORDS] [-T SEC[.FRAC]] [-s STACK]\n"
          "       flbhost -p PLUGIN.so -H\n"
          "       (each with -L 40|48: the proxy def's layout)\n",
          stderr);
}

int main(int argc, char **argv)
{
    const char *plugin_path = NULL;
    const char *result_path = NULL;
    const char *input = NULL;
    const char *tag = "tail.0";
    const char *fixed_time = NULL;
    long result_fd = 3;
    long per_chunk = 100;
    long stack = -1;
    int script = 0;
    int help = 0;
    char **props = xmalloc(sizeof(char *) * argc);
    int nprops = 0;
    char err[1024];
    int opt;

    while ((opt = getopt(argc, argv, "p:Sr:R:s:i:o:t:n:T:HL:h")) != -1) {
        switch (opt) {
        case 'p':
            plugin_path = optarg;
            break;
        case 'S':
            script = 1;
            break;
        case 'r':
            if (parse_count(optarg, 0, 1 << 20, &result_fd) != 0) {
                usage();
                return 2;
            }
            break;
        case 'R':
            result_path = optarg;
            break;
        case 's':
            if (parse_count(optarg, 0, 1L << 30, &stack) != 0) {
                usage();
                return 2;
            }
            break;
        case 'i':
            input = optarg;
            break;
        case 'o':
            props[nprops++] = optarg;
            break;
        case 't':
            tag = optarg;
            break;
        case 'n':
            if (parse_count(optarg, 1, 1L << 30, &per_chunk) != 0) {
                usage();
                return 2;
            }
            break;
        case 'T':
            fixed_time = optarg;
            break;
        case 'H':
            help = 1;
            break;
        case 'L':
            if (strcmp(optarg, "40") == 0) {
                def_layout = PROXY_DEF_OLD_SIZE;
            }
            else if (strcmp(optarg, "48") == 0) {
                def_layout = sizeof(struct flb_plugin_proxy_def);
            }
            else {
                usage();
                return 2;
            }
            break;
        default:
            usage();
            return 2;
        }
    }
    if (!plugin_path || script + help + (input != NULL) != 1 ||
        optind != argc || (!script && result_path)) {
        usage();
        return 2;
    }
    if (stack >= 0) {
        flush_stack_size = (size_t) stack;
    }
    program_name = argv[0];
    plugin_path_arg = plugin_path;
    /* Stdout is usually a file or pipe here; line buffering lets C-side
     * prints of a plugin show up as they happen, as on a terminal. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (script) {
        results = result_path ? fopen(result_path, "w")
                              : fdopen((int) result_fd, "w");
        if (!results) {
            host_log("cannot open the result channel: %s", strerror(errno));
            return 2;
        }
    }

    if (load_plugin(plugin_path, err, sizeof(err)) != 0) {
        host_log("%s", err);
        if (script) {
            reply_err("ready %s", err);
        }
        return 1;
    }

    if (help) {
        int ret = help_mode();

        unload_plugin();
        free(props);
        return ret;
    }
    if (!script) {
        int ret = cli_mode(input, props, nprops, tag, per_chunk, fixed_time);

        free(props);
        return ret;
    }

    fputs("ok ready ", results);
    put_escaped(results, proxy.data->name);
    fputc('\n', results);
    fflush(results);
    free(props);
    return script_mode();
}
