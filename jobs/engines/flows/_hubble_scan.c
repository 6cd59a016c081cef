/*
 * _hubble_scan: a validating scanner for Cilium Hubble JSON lines (`hubble observe -o json`).
 *
 * Why native: pyarrow's JSON reader spent ~4 CPU-s per million ~1.1 KB lines tokenising
 * values we never use; polars, orjson, msgspec and duckdb were measured slower still. This
 * scanner reads each line once, validates all of it and copies out only the values the Hubble
 * parser uses, straight into Arrow-layout buffers (no Python object per row).
 *
 *   scan(chunk, first_line, threads) -> (rows, parts, endpoints, bad)
 *
 * - Lines end at '\n'. A line of blanks (" \t\r\v\f") is not a record. A line whose first
 *   non-whitespace byte is not '{' is bad: "not a JSON object".
 * - Every other line must be exactly one JSON object (RFC 8259: string escapes including
 *   \uXXXX surrogate pairs, number grammar, no NaN, nothing after the object). Nesting deeper
 *   than MAX_DEPTH is bad. Duplicate keys: the last one wins. Unknown keys are validated, then
 *   dropped. A lone UTF-16 surrogate escape is bad (it has no UTF-8 form).
 * - Extracted fields (see COLUMNS), each read from the top-level "flow" object when that is
 *   present and non-null, else from the top level (per field group, as
 *   `coalesce(flow.X, X)` did in the pyarrow version): time, verdict, IP.{source,destination},
 *   l4.{TCP,UDP,SCTP}.{source_port,destination_port}, l4.{ICMPv4,ICMPv6}.{type,code},
 *   {source,destination}.{namespace,pod_name,labels,workloads[0].name}, is_reply, reply, and
 *   l4.TCP.flags as bits (SYN 1, ACK 2, FIN 4, RST 8; null when the object is absent).
 *   null is allowed everywhere; any other wrong type makes the line bad ("flow.IP is not an
 *   object"), at either level and for every occurrence of a duplicated key, as pyarrow's
 *   explicit schema did. Ports must be integers that fit in int64. Label entries must be
 *   strings (pyarrow let a null through and the identity code then crashed). A syntax error
 *   anywhere in the line is reported rather than a type error ("... at column N").
 * - Endpoints (namespace, pod name, workload, labels) repeat on almost every line, so rows hold
 *   an endpoint number and each endpoint is decoded and returned once (`endpoints`, in order of
 *   first appearance). An endpoint is known by the raw text of its JSON object: equal text means
 *   equal fields, and no field is copied for a text seen before. Equal fields written
 *   differently get two numbers, which only costs the caller a second name lookup.
 * - Hash flooding: those texts come from the uploaded file, so their hash is keyed with 32 random
 *   bytes drawn when the module loads (os.urandom; see hash_bytes): nobody outside the process can
 *   make endpoints collide. A probe run longer than MAX_PROBES (which a table at most half full
 *   reaches by chance with a probability near 1e-40) raises HashFlood instead of going on.
 * - Bytes that are not UTF-8 inside a string raise UnicodeDecodeError: the caller then scans the
 *   chunk again after replacing them with U+FFFD (`jobs.engines.flows.source.ensure_utf8`), which is what
 *   the pyarrow version did. Anywhere else such bytes are a JSON syntax error anyway.
 * - The GIL is released; the chunk is cut into `threads` line-aligned parts scanned by pthreads.
 *   Each part's buffers go to Python as they are (one Arrow chunk per part, in line order, no
 *   copy); line and endpoint numbers are made global first, so the result does not depend on
 *   `threads`.
 * - Memory safety: every read is bounds-checked against the line end, containers are skipped
 *   without recursion, and every buffer is freed on every path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_DEPTH 512
#define MAX_THREADS 64
/* Longest probe run in an endpoint table (at most half full): only colliding keys reach it. */
#define MAX_PROBES 512
/* A part smaller than this is not worth a thread. */
#define MIN_PART_BYTES (1 << 20)

typedef unsigned char uchar;

/* ------------------------------------------------------------------------------------------ */
/* Growable byte buffers                                                                      */

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static int buf_grow(Buf *b, size_t extra) {
    if (extra > SIZE_MAX / 2 - b->len)
        return -1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra)
        cap *= 2;
    char *data = realloc(b->data, cap);
    if (data == NULL)
        return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

static inline int buf_reserve(Buf *b, size_t extra) {
    return b->cap - b->len >= extra ? 0 : buf_grow(b, extra);
}

static inline int buf_put(Buf *b, const void *src, size_t n) {
    if (buf_reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

static void buf_free(Buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Output columns                                                                             */

typedef enum { K_I64, K_BOOL, K_STR, K_U32 } Kind;

enum { L4_TCP, L4_UDP, L4_SCTP, L4_ICMPV4, L4_ICMPV6, L4_COUNT };

enum {
    C_LINE, C_WRAPPED, C_TIME, C_VERDICT, C_IP, C_IP_SOURCE, C_IP_DESTINATION,
    C_L4, /* per protocol: present, first number, second number */
    C_IS_REPLY = C_L4 + 3 * L4_COUNT, C_REPLY, C_TCP_FLAGS, C_SRC_ENDPOINT, C_DST_ENDPOINT, C_COUNT
};

static const struct {
    const char *name;
    Kind kind;
    int nullable;
} COLUMNS[C_COUNT] = {
    {"_line", K_I64, 0}, {"_wrapped", K_BOOL, 0}, {"time", K_STR, 1}, {"verdict", K_STR, 1},
    {"IP", K_BOOL, 0}, {"IP.source", K_STR, 1}, {"IP.destination", K_STR, 1},
    {"TCP", K_BOOL, 0}, {"TCP.source_port", K_I64, 1}, {"TCP.destination_port", K_I64, 1},
    {"UDP", K_BOOL, 0}, {"UDP.source_port", K_I64, 1}, {"UDP.destination_port", K_I64, 1},
    {"SCTP", K_BOOL, 0}, {"SCTP.source_port", K_I64, 1}, {"SCTP.destination_port", K_I64, 1},
    {"ICMPv4", K_BOOL, 0}, {"ICMPv4.type", K_I64, 1}, {"ICMPv4.code", K_I64, 1},
    {"ICMPv6", K_BOOL, 0}, {"ICMPv6.type", K_I64, 1}, {"ICMPv6.code", K_I64, 1},
    {"is_reply", K_BOOL, 1}, {"reply", K_BOOL, 1}, {"TCP.flags", K_I64, 1},
    {"src_endpoint", K_U32, 0}, {"dst_endpoint", K_U32, 0},
};

/* Per protocol: its key, its two number keys, and the paths named in type errors. */
#define PORTS {"source_port", "destination_port"}, {11, 16}
#define ICMP {"type", "code"}, {4, 4}
static const struct {
    const char *key;
    size_t key_len;
    const char *fields[2];
    size_t field_lens[2];
    const char *path, *paths[2];
} L4[L4_COUNT] = {
    {"TCP", 3, PORTS, "l4.TCP", {"l4.TCP.source_port", "l4.TCP.destination_port"}},
    {"UDP", 3, PORTS, "l4.UDP", {"l4.UDP.source_port", "l4.UDP.destination_port"}},
    {"SCTP", 4, PORTS, "l4.SCTP", {"l4.SCTP.source_port", "l4.SCTP.destination_port"}},
    {"ICMPv4", 6, ICMP, "l4.ICMPv4", {"l4.ICMPv4.type", "l4.ICMPv4.code"}},
    {"ICMPv6", 6, ICMP, "l4.ICMPv6", {"l4.ICMPv6.type", "l4.ICMPv6.code"}},
};
#undef PORTS
#undef ICMP

enum { EP_SELF, EP_NAMESPACE, EP_POD_NAME, EP_LABELS, EP_WORKLOADS, EP_WORKLOAD_NAME, EP_PATHS };
static const char *const ENDPOINT_PATHS[2][EP_PATHS] = {
    {"source", "source.namespace", "source.pod_name", "source.labels", "source.workloads",
     "source.workloads[].name"},
    {"destination", "destination.namespace", "destination.pod_name", "destination.labels",
     "destination.workloads", "destination.workloads[].name"},
};

/* ------------------------------------------------------------------------------------------ */
/* What one line yields                                                                       */

/* Raw text between the quotes of a JSON string in the line; decoded only when written out. */
typedef struct {
    const uchar *raw;
    size_t len;
    int escaped;
} Span;

/* A string field: its span, when set (not null). */
typedef struct {
    Span span;
    int set;
} Text;

typedef struct {
    int present;
    int has[2];
    int64_t num[2];
    int has_flags; /* TCP only: "flags" was an object */
    int64_t flags; /* TCP_FLAG_* bits set true */
} L4Proto;

/* TCP flags kept (as bits of the "TCP.flags" column): the ones that tell a request from a reply. */
enum { TCP_FLAG_SYN = 1, TCP_FLAG_ACK = 2, TCP_FLAG_FIN = 4, TCP_FLAG_RST = 8 };

typedef struct {
    int present;
    const uchar *raw; /* the object's text, '{' to '}': the endpoint's identity (see intern_endpoint) */
    size_t raw_len;
    Text namespace_, pod_name, workload;
    int labels_set;
    size_t labels_start, labels_count; /* a run of Part.labels */
} Endpoint;

/* The extracted fields of one level: the "flow" object, or the top-level object. */
typedef struct {
    Text time, verdict;
    int ip_present;
    Text ip_source, ip_destination;
    int l4_present;
    L4Proto l4[L4_COUNT];
    Endpoint endpoint[2];
    int is_reply, reply; /* -1 null, 0 false, 1 true */
} Level;

typedef struct {
    int wrapped; /* "flow" present and non-null */
    Level flow, top;
} Record;

static void level_reset(Level *level) {
    memset(level, 0, sizeof *level);
    level->is_reply = level->reply = -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Interning endpoints                                                                        */

typedef struct {
    size_t key_off, key_len, value_off, value_len;
    uint64_t hash;
} Entry;

/* Distinct keys, numbered in order of first insertion, each with a value (open addressing). */
typedef struct {
    Buf keys, values; /* back to back */
    Buf entries;      /* Entry[] */
    uint32_t *slots;  /* entry index + 1; 0 = empty */
    size_t mask;
} Interner;

static size_t interner_count(const Interner *in) {
    return in->entries.len / sizeof(Entry);
}

static void interner_free(Interner *in) {
    buf_free(&in->keys);
    buf_free(&in->values);
    buf_free(&in->entries);
    free(in->slots);
    in->slots = NULL;
}

/* The endpoint hash's keys: random per process (os.urandom at import; set_hash_key in tests). */
static uint64_t HASH_KEY[4];

/* 64x64 -> 128-bit multiply, folded (as in wyhash): 16 bytes per step, one multiply each. */
static inline uint64_t mix(uint64_t a, uint64_t b) {
    __uint128_t product = (__uint128_t)a * b;
    return (uint64_t)product ^ (uint64_t)(product >> 64);
}

/*
 * Keyed as Go's runtime hashes map keys on machines without AES: wyhash's folded multiply with every
 * constant a random key. mix(x, 0) == 0, so whoever knows the keys can make texts collide (the
 * constants this had before were such keys); without them nobody can, and MAX_PROBES bounds the rest.
 * SipHash-1-3 was measured too: a Hubble chunk parsed 20-30 % slower (endpoint texts are over half
 * of a line's bytes).
 */
static uint64_t hash_bytes(const char *p, size_t n) {
    uint64_t h = HASH_KEY[0] ^ n, a, b;
    for (; n >= 16; p += 16, n -= 16) {
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        h = mix(a ^ HASH_KEY[1], b ^ h);
    }
    a = b = 0;
    memcpy(&a, p, n < 8 ? n : 8);
    if (n > 8)
        memcpy(&b, p + 8, n - 8);
    return mix(a ^ HASH_KEY[2], b ^ h ^ HASH_KEY[3]);
}

/* Failures of a part (and of the whole scan): returned negated by the functions that meet them. */
enum { FAIL_NONE, FAIL_MEMORY, FAIL_UTF8, FAIL_FLOOD };

/* Doubles the table (or makes the first one). 0, or -FAIL_MEMORY, or -FAIL_FLOOD. */
static int interner_grow(Interner *in) {
    size_t cap = in->slots ? (in->mask + 1) * 2 : 1024;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return -FAIL_MEMORY;
    const Entry *entries = (const Entry *)in->entries.data;
    for (size_t i = 0, n = interner_count(in); i < n; i++) {
        size_t j = entries[i].hash & (cap - 1);
        for (int probes = 0; slots[j]; j = (j + 1) & (cap - 1)) {
            if (++probes > MAX_PROBES) {
                free(slots);
                return -FAIL_FLOOD;
            }
        }
        slots[j] = (uint32_t)(i + 1);
    }
    free(in->slots);
    in->slots = slots;
    in->mask = cap - 1;
    return 0;
}

/* 0 with *slot: the slot that holds `key`, or the empty slot where it belongs; -FAIL_FLOOD after
 * MAX_PROBES occupied slots. */
static int interner_slot(const Interner *in, const char *key, size_t len, uint64_t hash, size_t *slot) {
    const Entry *entries = (const Entry *)in->entries.data;
    size_t j = hash & in->mask;
    for (int probes = 0; in->slots[j]; j = (j + 1) & in->mask) {
        if (++probes > MAX_PROBES)
            return -FAIL_FLOOD;
        const Entry *e = &entries[in->slots[j] - 1];
        if (e->hash != hash || e->key_len != len)
            continue;
        /* len 0 (no endpoint) is checked apart: the keys buffer may still be NULL then. */
        if (len == 0 || memcmp(in->keys.data + e->key_off, key, len) == 0)
            break;
    }
    *slot = j;
    return 0;
}

/* 1 with the number of `key` when it is known, 0 when not, -FAIL_FLOOD. */
static int interner_find(const Interner *in, const char *key, size_t len, uint64_t hash, uint32_t *id) {
    size_t j;
    if (in->slots == NULL)
        return 0;
    if (interner_slot(in, key, len, hash, &j) < 0)
        return -FAIL_FLOOD;
    *id = in->slots[j] - 1;
    return in->slots[j] != 0;
}

/* Adds a key that interner_find did not find, with its value: 0, -FAIL_MEMORY or -FAIL_FLOOD. */
static int interner_insert(Interner *in, const char *key, size_t len, uint64_t hash, const char *value,
                           size_t value_len, uint32_t *id) {
    size_t j, n = interner_count(in);
    int rc = in->slots == NULL ? interner_grow(in) : 0;
    if (rc < 0 || (rc = interner_slot(in, key, len, hash, &j)) < 0)
        return rc;
    if (n >= UINT32_MAX - 1)
        return -FAIL_MEMORY;
    Entry entry = {in->keys.len, len, in->values.len, value_len, hash};
    if (buf_put(&in->keys, key, len) < 0 || buf_put(&in->values, value, value_len) < 0
        || buf_put(&in->entries, &entry, sizeof entry) < 0)
        return -FAIL_MEMORY;
    in->slots[j] = (uint32_t)(n + 1);
    *id = (uint32_t)n;
    return (n + 1) * 2 > in->mask + 1 ? interner_grow(in) : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* One thread's share of the chunk                                                            */

/* One column of one part, in Arrow layout: handed to Python as is. */
typedef struct {
    Buf values; /* int64 or uint32 per row; a bitmap for booleans; int64 offsets (from 0) for strings */
    Buf valid;  /* validity bitmap (nullable columns only) */
    Buf data;   /* string bytes */
    size_t nulls;
} ColumnPart;

typedef struct {
    int64_t line;          /* within the part */
    const char *prefix;    /* type errors: "flow." or "" */
    const char *path;      /* type errors: the field; NULL for other errors */
    const char *what;
    int64_t column;        /* syntax errors: 1-based byte column; else 0 */
} BadRecord;

typedef struct {
    const uchar *begin, *end; /* whole lines */
    int *stop;                /* shared by all parts: set when one fails */
    int64_t lines;            /* lines read */
    size_t rows;
    ColumnPart cols[C_COUNT];
    Buf bad;                  /* BadRecord[] */
    Buf labels;               /* Span[] of the current line's labels */
    Buf key;                  /* decoded escaped object keys; an endpoint's fields being encoded */
    Interner endpoints;
    int failure;
    int64_t failure_line;     /* FAIL_UTF8: the line, within the part */
    const uchar *failure_at;  /* FAIL_UTF8: the first bad byte */
} Part;

static void part_free(Part *part) {
    for (int c = 0; c < C_COUNT; c++) {
        buf_free(&part->cols[c].values);
        buf_free(&part->cols[c].valid);
        buf_free(&part->cols[c].data);
    }
    buf_free(&part->bad);
    buf_free(&part->labels);
    buf_free(&part->key);
    interner_free(&part->endpoints);
}

/* ------------------------------------------------------------------------------------------ */
/* The parser: cursor, nesting depth and the first error of one line                          */

enum { ERR_NONE, ERR_SYNTAX, ERR_TYPE, ERR_FATAL };

typedef struct {
    const uchar *p, *start, *end; /* cursor; the line's first byte and its end */
    int depth;
    const char *prefix; /* "flow." while reading the flow object */
    Part *part;
    int64_t line;
    int err;
    const char *err_prefix, *err_path, *err_what;
    const uchar *err_at;
} Parser;

typedef struct {
    const char *text;
    size_t len;
} Key;

#define KEY_IS(key, word) ((key)->len == sizeof(word) - 1 && memcmp((key)->text, word, sizeof(word) - 1) == 0)

static int syntax_error_at(Parser *ps, const uchar *at, const char *what) {
    ps->err = ERR_SYNTAX;
    ps->err_at = at;
    ps->err_what = at >= ps->end ? "unexpected end of line" : what;
    return -1;
}

static int syntax_error(Parser *ps, const char *what) {
    return syntax_error_at(ps, ps->p, what);
}

static int type_error(Parser *ps, const char *path, const char *what) {
    ps->err = ERR_TYPE;
    ps->err_prefix = ps->prefix;
    ps->err_path = path;
    ps->err_what = what;
    return -1;
}

static int out_of_memory(Parser *ps) {
    ps->err = ERR_FATAL;
    ps->part->failure = FAIL_MEMORY;
    return -1;
}

static inline int peek(const Parser *ps) {
    return ps->p < ps->end ? *ps->p : -1;
}

static inline void skip_ws(Parser *ps) {
    const uchar *p = ps->p, *end = ps->end;
    if (p < end && *p > ' ')
        return; /* the usual case: compact JSON */
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    ps->p = p;
}

/* ------------------------------------------------------------------------------------------ */
/* Strings                                                                                    */

/* Bytes that end a run of plain string text: quote, backslash, controls and non-ASCII. */
static uchar STRING_STOP[256];

static void init_tables(void) {
    for (int c = 0; c < 256; c++)
        STRING_STOP[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
}

static inline const uchar *skip_plain(const uchar *p, const uchar *end) {
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i bytes = _mm_loadu_si128((const __m128i *)p);
        /* Signed compare: controls (0x00-0x1f) and non-ASCII (0x80-0xff, negative) are < 0x20. */
        __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash)),
                                    _mm_cmplt_epi8(bytes, space));
        int mask = _mm_movemask_epi8(stop);
        if (mask)
            return p + __builtin_ctz((unsigned)mask);
        p += 16;
    }
#endif
    while (p < end && !STRING_STOP[*p])
        p++;
    return p;
}

static int hex_digit(uchar c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The code unit of 4 hex digits at p (which has 4 readable bytes), or -1. */
static long hex4(const uchar *p) {
    long value = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(p[i]);
        if (d < 0)
            return -1;
        value = value * 16 + d;
    }
    return value;
}

/* Validates the escape at *pp (a backslash) and steps over it. */
static int read_escape(Parser *ps, const uchar **pp) {
    const uchar *p = *pp, *end = ps->end;
    if (end - p < 2)
        return syntax_error_at(ps, end, "unexpected end of line");
    if (p[1] != 'u') {
        if (!strchr("\"\\/bfnrt", p[1]) || p[1] == 0)
            return syntax_error_at(ps, p, "invalid escape in a string");
        *pp = p + 2;
        return 0;
    }
    if (end - p < 6)
        return syntax_error_at(ps, end, "unexpected end of line");
    long unit = hex4(p + 2);
    if (unit < 0)
        return syntax_error_at(ps, p, "invalid \\u escape in a string");
    if (unit >= 0xD800 && unit <= 0xDBFF) {
        /* A high surrogate must be followed by an escaped low one. */
        long low = end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
        if (low < 0xDC00 || low > 0xDFFF)
            return syntax_error_at(ps, p, "unpaired UTF-16 surrogate in a \\u escape");
        *pp = p + 12;
        return 0;
    }
    if (unit >= 0xDC00 && unit <= 0xDFFF)
        return syntax_error_at(ps, p, "unpaired UTF-16 surrogate in a \\u escape");
    *pp = p + 6;
    return 0;
}

/* Length of the well-formed UTF-8 sequence at p (first byte >= 0x80), or 0 (Unicode table 3-7). */
static size_t utf8_length(const uchar *p, const uchar *end) {
    uchar c = p[0], low = 0x80, high = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        low = c == 0xE0 ? 0xA0 : 0x80;
        high = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        low = c == 0xF0 ? 0x90 : 0x80;
        high = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n || p[1] < low || p[1] > high)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

/* read_string for strings with escapes, controls or non-ASCII bytes. */
static int read_string_slow(Parser *ps, Span *span) {
    const uchar *p = ps->p + 1, *end = ps->end;
    span->raw = p;
    span->escaped = 0;
    for (;;) {
        p = skip_plain(p, end);
        if (p >= end)
            return syntax_error_at(ps, end, "unexpected end of line");
        uchar c = *p;
        if (c == '"')
            break;
        if (c == '\\') {
            span->escaped = 1;
            if (read_escape(ps, &p) < 0)
                return -1;
        } else if (c < 0x20) {
            return syntax_error_at(ps, p, "unescaped control character in a string");
        } else {
            size_t n = utf8_length(p, end);
            if (n == 0) {
                ps->err = ERR_FATAL;
                ps->part->failure = FAIL_UTF8;
                ps->part->failure_line = ps->line;
                ps->part->failure_at = p;
                return -1;
            }
            p += n;
        }
    }
    span->len = (size_t)(p - span->raw);
    ps->p = p + 1;
    return 0;
}

/* Validates the string at the cursor (on its opening quote) and steps past it. */
static inline int read_string(Parser *ps, Span *span) {
    const uchar *p = ps->p + 1, *stop = skip_plain(p, ps->end);
    if (stop < ps->end && *stop == '"') { /* plain text: the usual case */
        span->raw = p;
        span->len = (size_t)(stop - p);
        span->escaped = 0;
        ps->p = stop + 1;
        return 0;
    }
    return read_string_slow(ps, span);
}

static uchar *put_utf8(uchar *w, unsigned long cp) {
    if (cp < 0x80) {
        *w++ = (uchar)cp;
    } else if (cp < 0x800) {
        *w++ = (uchar)(0xC0 | cp >> 6);
        *w++ = (uchar)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *w++ = (uchar)(0xE0 | cp >> 12);
        *w++ = (uchar)(0x80 | (cp >> 6 & 0x3F));
        *w++ = (uchar)(0x80 | (cp & 0x3F));
    } else {
        *w++ = (uchar)(0xF0 | cp >> 18);
        *w++ = (uchar)(0x80 | (cp >> 12 & 0x3F));
        *w++ = (uchar)(0x80 | (cp >> 6 & 0x3F));
        *w++ = (uchar)(0x80 | (cp & 0x3F));
    }
    return w;
}

/* Appends the text of a span that read_string validated (decoded text is never longer than raw). */
static int decode_span(const Span *span, Buf *out) {
    if (!span->escaped)
        return buf_put(out, span->raw, span->len);
    if (buf_reserve(out, span->len) < 0)
        return -1;
    uchar *w = (uchar *)out->data + out->len;
    const uchar *p = span->raw, *end = span->raw + span->len;
    while (p < end) {
        if (*p != '\\') {
            *w++ = *p++;
            continue;
        }
        uchar e = p[1];
        p += 2;
        switch (e) {
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case 't': *w++ = '\t'; break;
        case 'u': {
            unsigned long cp = (unsigned long)hex4(p);
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned long)hex4(p + 2) - 0xDC00);
                p += 6;
            }
            w = put_utf8(w, cp);
            break;
        }
        default: *w++ = e; /* '"', '\\' or '/' */
        }
    }
    out->len = (size_t)(w - (uchar *)out->data);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Numbers and literals                                                                       */

static inline int is_digit(int c) {
    return c >= '0' && c <= '9';
}

/* Validates the number at the cursor; *integral tells whether it has no fraction or exponent. */
static int read_number(Parser *ps, int *integral) {
    const uchar *p = ps->p, *end = ps->end;
    if (*p == '-')
        p++;
    if (p < end && *p == '0')
        p++;
    else if (p < end && is_digit(*p))
        while (p < end && is_digit(*p))
            p++;
    else
        return syntax_error_at(ps, p, "invalid number");
    *integral = 1;
    if (p < end && *p == '.') {
        if (++p >= end || !is_digit(*p))
            return syntax_error_at(ps, p, "invalid number");
        while (p < end && is_digit(*p))
            p++;
        *integral = 0;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            return syntax_error_at(ps, p, "invalid number");
        while (p < end && is_digit(*p))
            p++;
        *integral = 0;
    }
    ps->p = p;
    return 0;
}

/* The integer spelled by the validated digits [p, end); -1 when it does not fit in int64. */
static int to_int64(const uchar *p, const uchar *end, int64_t *out) {
    int negative = *p == '-';
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, value = 0;
    for (p += negative; p < end; p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (value > (limit - digit) / 10)
            return -1;
        value = value * 10 + digit;
    }
    if (!negative)
        *out = (int64_t)value;
    else
        *out = value == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)value;
    return 0;
}

static int read_literal(Parser *ps, const char *word, size_t n) {
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return syntax_error(ps, "expected a value");
    ps->p += n;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Containers and skipping                                                                    */

/* Steps into the object or array at the cursor. */
static int open_container(Parser *ps) {
    if (ps->depth >= MAX_DEPTH)
        return syntax_error(ps, "nested deeper than 512 levels");
    ps->depth++;
    ps->p++;
    return 0;
}

/* Reads `"key" :` at the cursor, leaving the cursor on the value. */
static inline int read_member_head(Parser *ps, Span *key) {
    if (peek(ps) != '"')
        return syntax_error(ps, "expected a string key");
    if (read_string(ps, key) < 0)
        return -1;
    skip_ws(ps);
    if (peek(ps) != ':')
        return syntax_error(ps, "expected ':' after an object key");
    ps->p++;
    skip_ws(ps);
    return 0;
}

/*
 * What objects and arrays share: past the separating ',' to the next item (1), or past the closing
 * `close` (0, one level up), or a syntax error (-1). `*first` is 1 before the first item.
 */
static inline int next_item(Parser *ps, int *first, int close, const char *expected) {
    skip_ws(ps);
    int c = peek(ps);
    if (c == close) {
        ps->p++;
        ps->depth--;
        return 0;
    }
    if (!*first) {
        if (c != ',')
            return syntax_error(ps, expected);
        ps->p++;
        skip_ws(ps);
    }
    *first = 0;
    return 1;
}

/*
 * Steps to the next member of the object being read: 1 with its key in `key` and the cursor on
 * its value, 0 after the closing '}', -1 on error. `*first` is 1 before the first call.
 */
static inline int next_member(Parser *ps, int *first, Key *key) {
    int step = next_item(ps, first, '}', "expected ',' or '}' after an object member");
    if (step <= 0)
        return step;
    Span span;
    if (read_member_head(ps, &span) < 0)
        return -1;
    if (!span.escaped) {
        key->text = (const char *)span.raw;
        key->len = span.len;
        return 1;
    }
    Buf *decoded = &ps->part->key;
    decoded->len = 0;
    if (decode_span(&span, decoded) < 0)
        return out_of_memory(ps);
    key->text = decoded->data;
    key->len = decoded->len;
    return 1;
}

/* Like next_member for arrays: 1 with the cursor on the next element, 0 after the ']'. */
static int next_element(Parser *ps, int *first) {
    return next_item(ps, first, ']', "expected ',' or ']' after an array element");
}

static int skip_scalar(Parser *ps, int c) {
    Span span;
    int integral;
    switch (c) {
    case '"': return read_string(ps, &span);
    case 't': return read_literal(ps, "true", 4);
    case 'f': return read_literal(ps, "false", 5);
    case 'n': return read_literal(ps, "null", 4);
    default:
        if (c == '-' || is_digit(c))
            return read_number(ps, &integral);
        return syntax_error(ps, "expected a value");
    }
}

/*
 * Validates and steps over the value at the cursor. Iterative: one bit per container opened
 * here says whether it is an object, so depth costs no stack.
 */
static int skip_value(Parser *ps) {
    uint64_t objects[MAX_DEPTH / 64]; /* a level's bit is written when it opens, before any read */
    const int base = ps->depth;
    for (;;) {
        int c = peek(ps);
        if (c == '{' || c == '[') {
            if (open_container(ps) < 0)
                return -1;
            int level = ps->depth - base - 1;
            uint64_t bit = 1ull << (level % 64);
            objects[level / 64] = c == '{' ? objects[level / 64] | bit : objects[level / 64] & ~bit;
            skip_ws(ps);
            if (peek(ps) != (c == '{' ? '}' : ']')) {
                Span key;
                if (c == '{' && read_member_head(ps, &key) < 0)
                    return -1;
                continue; /* the first value inside */
            }
            ps->p++;
            ps->depth--;
        } else if (skip_scalar(ps, c) < 0) {
            return -1;
        }
        /* After a value: close finished containers, then step to the next value. */
        for (;;) {
            if (ps->depth == base)
                return 0;
            int level = ps->depth - base - 1;
            int object = (int)(objects[level / 64] >> (level % 64) & 1);
            skip_ws(ps);
            c = peek(ps);
            if (c == (object ? '}' : ']')) {
                ps->p++;
                ps->depth--;
                continue;
            }
            if (c != ',')
                return syntax_error(ps, object ? "expected ',' or '}' after an object member"
                                               : "expected ',' or ']' after an array element");
            ps->p++;
            skip_ws(ps);
            Span key;
            if (object && read_member_head(ps, &key) < 0)
                return -1;
            break;
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Typed fields: null, or the expected type (else a type error naming the field)               */

/* A string field; `out` NULL checks the type only. */
static int field_string(Parser *ps, Text *out, const char *path) {
    int c = peek(ps);
    if (c == 'n') {
        if (out)
            out->set = 0;
        return read_literal(ps, "null", 4);
    }
    if (c != '"')
        return type_error(ps, path, "is not a string");
    Span span;
    if (read_string(ps, &span) < 0)
        return -1;
    if (out) {
        out->span = span;
        out->set = 1;
    }
    return 0;
}

static int field_int(Parser *ps, int *has, int64_t *out, const char *path) {
    int c = peek(ps), integral;
    if (c == 'n') {
        *has = 0;
        return read_literal(ps, "null", 4);
    }
    if (c != '-' && !is_digit(c))
        return type_error(ps, path, "is not an integer");
    const uchar *start = ps->p;
    if (read_number(ps, &integral) < 0)
        return -1;
    if (!integral)
        return type_error(ps, path, "is not an integer");
    if (to_int64(start, ps->p, out) < 0)
        return type_error(ps, path, "does not fit in a 64-bit integer");
    *has = 1;
    return 0;
}

static int field_bool(Parser *ps, int *out, const char *path) {
    switch (peek(ps)) {
    case 'n': *out = -1; return read_literal(ps, "null", 4);
    case 't': *out = 1; return read_literal(ps, "true", 4);
    case 'f': *out = 0; return read_literal(ps, "false", 5);
    default: return type_error(ps, path, "is not a boolean");
    }
}

/* An object field: 1 with the object opened, 0 for null, -1 on error. */
static int open_object(Parser *ps, const char *path) {
    int c = peek(ps);
    if (c == 'n')
        return read_literal(ps, "null", 4);
    if (c != '{')
        return type_error(ps, path, "is not an object");
    return open_container(ps) < 0 ? -1 : 1;
}

/* An array field: 1 with the array opened, 0 for null, -1 on error. */
static int open_array(Parser *ps, const char *path) {
    int c = peek(ps);
    if (c == 'n')
        return read_literal(ps, "null", 4);
    if (c != '[')
        return type_error(ps, path, "is not an array");
    return open_container(ps) < 0 ? -1 : 1;
}

/* ------------------------------------------------------------------------------------------ */
/* The Hubble schema                                                                          */

static int parse_ip(Parser *ps, Level *level) {
    level->ip_present = 0;
    level->ip_source.set = level->ip_destination.set = 0;
    int r = open_object(ps, "IP"), first = 1;
    if (r <= 0)
        return r;
    level->ip_present = 1;
    Key key;
    while ((r = next_member(ps, &first, &key)) > 0) {
        if (KEY_IS(&key, "source"))
            r = field_string(ps, &level->ip_source, "IP.source");
        else if (KEY_IS(&key, "destination"))
            r = field_string(ps, &level->ip_destination, "IP.destination");
        else
            r = skip_value(ps);
        if (r < 0)
            return -1;
    }
    return r;
}

/* l4.TCP.flags: an object of booleans ({"SYN": true, "ACK": true}); unknown flags are type-checked only. */
static int parse_tcp_flags(Parser *ps, L4Proto *proto) {
    proto->has_flags = 0;
    proto->flags = 0;
    int r = open_object(ps, "l4.TCP.flags"), first = 1;
    if (r <= 0)
        return r;
    proto->has_flags = 1;
    Key key;
    while ((r = next_member(ps, &first, &key)) > 0) {
        int value = -1;
        if (field_bool(ps, &value, "l4.TCP.flags.*") < 0)
            return -1;
        int64_t bit = KEY_IS(&key, "SYN") ? TCP_FLAG_SYN : KEY_IS(&key, "ACK") ? TCP_FLAG_ACK
            : KEY_IS(&key, "FIN") ? TCP_FLAG_FIN : KEY_IS(&key, "RST") ? TCP_FLAG_RST : 0;
        proto->flags = value > 0 ? proto->flags | bit : proto->flags & ~bit; /* the last duplicate wins */
    }
    return r;
}

static int parse_l4_protocol(Parser *ps, L4Proto *proto, int index) {
    memset(proto, 0, sizeof *proto);
    int r = open_object(ps, L4[index].path), first = 1;
    if (r <= 0)
        return r;
    proto->present = 1;
    Key key;
    while ((r = next_member(ps, &first, &key)) > 0) {
        int field = -1;
        for (int i = 0; i < 2; i++)
            if (key.len == L4[index].field_lens[i] && memcmp(key.text, L4[index].fields[i], key.len) == 0)
                field = i;
        if (field >= 0)
            r = field_int(ps, &proto->has[field], &proto->num[field], L4[index].paths[field]);
        else if (index == L4_TCP && KEY_IS(&key, "flags"))
            r = parse_tcp_flags(ps, proto);
        else
            r = skip_value(ps);
        if (r < 0)
            return -1;
    }
    return r;
}

static int parse_l4(Parser *ps, Level *level) {
    level->l4_present = 0;
    memset(level->l4, 0, sizeof level->l4);
    int r = open_object(ps, "l4"), first = 1;
    if (r <= 0)
        return r;
    level->l4_present = 1;
    Key key;
    while ((r = next_member(ps, &first, &key)) > 0) {
        int index = -1;
        for (int i = 0; i < L4_COUNT; i++)
            if (key.len == L4[i].key_len && memcmp(key.text, L4[i].key, key.len) == 0)
                index = i;
        r = index >= 0 ? parse_l4_protocol(ps, &level->l4[index], index) : skip_value(ps);
        if (r < 0)
            return -1;
    }
    return r;
}

/* Labels: an array of strings, appended to the line's label pool. */
static int parse_labels(Parser *ps, Endpoint *ep, const char *path) {
    ep->labels_set = 0;
    int r = open_array(ps, path), first = 1;
    if (r <= 0)
        return r;
    Buf *pool = &ps->part->labels;
    ep->labels_set = 1;
    ep->labels_start = pool->len / sizeof(Span);
    ep->labels_count = 0;
    while ((r = next_element(ps, &first)) > 0) {
        Span label;
        if (peek(ps) != '"')
            return type_error(ps, path, "is not an array of strings");
        if (read_string(ps, &label) < 0)
            return -1;
        if (buf_put(pool, &label, sizeof label) < 0)
            return out_of_memory(ps);
        ep->labels_count++;
    }
    return r;
}

/* One element of workloads: its name goes to `name` (NULL: type checks only). */
static int parse_workload(Parser *ps, Text *name, const char *const *paths) {
    if (peek(ps) == 'n')
        return read_literal(ps, "null", 4);
    if (peek(ps) != '{')
        return type_error(ps, paths[EP_WORKLOADS], "is not an array of objects");
    if (open_container(ps) < 0)
        return -1;
    int r, first = 1;
    Key key;
    while ((r = next_member(ps, &first, &key)) > 0) {
        r = KEY_IS(&key, "name") ? field_string(ps, name, paths[EP_WORKLOAD_NAME]) : skip_value(ps);
        if (r < 0)
            return -1;
    }
    return r;
}

static int parse_workloads(Parser *ps, Endpoint *ep, const char *const *paths) {
    ep->workload.set = 0;
    int r = open_array(ps, paths[EP_WORKLOADS]), first = 1;
    if (r <= 0)
        return r;
    /* Only the first workload names the endpoint; the others are type-checked. */
    for (size_t index = 0; (r = next_element(ps, &first)) > 0; index++)
        if (parse_workload(ps, index == 0 ? &ep->workload : NULL, paths) < 0)
            return -1;
    return r;
}

static int parse_endpoint(Parser *ps, Endpoint *ep, int side) {
    const char *const *paths = ENDPOINT_PATHS[side];
    memset(ep, 0, sizeof *ep);
    const uchar *raw = ps->p;
    int r = open_object(ps, paths[EP_SELF]), first = 1;
    if (r <= 0)
        return r;
    ep->present = 1;
    ep->raw = raw;
    Key key;
    while ((r = next_member(ps, &first, &key)) > 0) {
        if (KEY_IS(&key, "namespace"))
            r = field_string(ps, &ep->namespace_, paths[EP_NAMESPACE]);
        else if (KEY_IS(&key, "pod_name"))
            r = field_string(ps, &ep->pod_name, paths[EP_POD_NAME]);
        else if (KEY_IS(&key, "labels"))
            r = parse_labels(ps, ep, paths[EP_LABELS]);
        else if (KEY_IS(&key, "workloads"))
            r = parse_workloads(ps, ep, paths);
        else
            r = skip_value(ps);
        if (r < 0)
            return -1;
    }
    ep->raw_len = (size_t)(ps->p - raw);
    return r;
}

/* One member of a flow (or of the top level, which may hold the flow's fields itself). */
static int parse_field(Parser *ps, Level *level, const Key *key) {
    switch (key->len) { /* most keys are none of ours: the length rules them out at once */
    case 2:
        if (KEY_IS(key, "IP"))
            return parse_ip(ps, level);
        if (KEY_IS(key, "l4"))
            return parse_l4(ps, level);
        break;
    case 4:
        if (KEY_IS(key, "time"))
            return field_string(ps, &level->time, "time");
        break;
    case 5:
        if (KEY_IS(key, "reply"))
            return field_bool(ps, &level->reply, "reply");
        break;
    case 6:
        if (KEY_IS(key, "source"))
            return parse_endpoint(ps, &level->endpoint[0], 0);
        break;
    case 7:
        if (KEY_IS(key, "verdict"))
            return field_string(ps, &level->verdict, "verdict");
        break;
    case 8:
        if (KEY_IS(key, "is_reply"))
            return field_bool(ps, &level->is_reply, "is_reply");
        break;
    case 11:
        if (KEY_IS(key, "destination"))
            return parse_endpoint(ps, &level->endpoint[1], 1);
        break;
    }
    return skip_value(ps);
}

static int parse_flow(Parser *ps, Record *rec) {
    rec->wrapped = 0;
    level_reset(&rec->flow);
    int r = open_object(ps, "flow"), first = 1;
    if (r <= 0)
        return r;
    rec->wrapped = 1;
    ps->prefix = "flow.";
    Key key;
    while ((r = next_member(ps, &first, &key)) > 0)
        if (parse_field(ps, &rec->flow, &key) < 0)
            return -1;
    ps->prefix = "";
    return r;
}

/* The whole line, with the cursor on its '{'. */
static int parse_record(Parser *ps, Record *rec) {
    if (open_container(ps) < 0)
        return -1;
    int r, first = 1;
    Key key;
    while ((r = next_member(ps, &first, &key)) > 0) {
        r = KEY_IS(&key, "flow") ? parse_flow(ps, rec) : parse_field(ps, &rec->top, &key);
        if (r < 0)
            return -1;
    }
    if (r < 0)
        return -1;
    skip_ws(ps);
    return ps->p < ps->end ? syntax_error(ps, "characters after the JSON object") : 0;
}

/* Syntax only, from the line's start: run after a type error, since a syntax error wins. */
static int validate_line(Parser *ps) {
    ps->p = ps->start;
    ps->depth = 0;
    skip_ws(ps);
    if (skip_value(ps) < 0)
        return -1;
    skip_ws(ps);
    return ps->p < ps->end ? syntax_error(ps, "characters after the JSON object") : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Rows                                                                                       */

/* Per field group: the flow's value when it has one, else the top level's. */
static void merge(const Record *rec, Level *out) {
    const Level *flow = &rec->flow, *top = &rec->top;
    out->time = flow->time.set ? flow->time : top->time;
    out->verdict = flow->verdict.set ? flow->verdict : top->verdict;
    const Level *ip = flow->ip_present ? flow : top;
    out->ip_present = ip->ip_present;
    out->ip_source = ip->ip_source;
    out->ip_destination = ip->ip_destination;
    memcpy(out->l4, (flow->l4_present ? flow : top)->l4, sizeof out->l4);
    for (int side = 0; side < 2; side++)
        out->endpoint[side] = flow->endpoint[side].present ? flow->endpoint[side] : top->endpoint[side];
    out->is_reply = flow->is_reply >= 0 ? flow->is_reply : top->is_reply;
    out->reply = flow->reply >= 0 ? flow->reply : top->reply;
}

/* Every 8 rows, each bitmap (booleans' values, nullable columns' validity) gets a zero byte. */
static int grow_bitmaps(Part *part) {
    static const uchar zero = 0;
    for (int c = 0; c < C_COUNT; c++) {
        ColumnPart *col = &part->cols[c];
        if ((COLUMNS[c].kind == K_BOOL && buf_put(&col->values, &zero, 1) < 0)
            || (COLUMNS[c].nullable && buf_put(&col->valid, &zero, 1) < 0))
            return -1;
    }
    return 0;
}

static inline void set_bit(Buf *bits, size_t row, int bit) {
    bits->data[row / 8] = (char)((uchar)bits->data[row / 8] | (uchar)(bit != 0) << (row % 8));
}

static inline void put_valid(ColumnPart *col, size_t row, int valid) {
    col->nulls += !valid;
    set_bit(&col->valid, row, valid);
}

static int put_i64(ColumnPart *col, size_t row, int valid, int64_t value) {
    put_valid(col, row, valid);
    return buf_put(&col->values, &value, sizeof value);
}

static void put_nullable_bool(ColumnPart *col, size_t row, int value) {
    set_bit(&col->values, row, value > 0);
    put_valid(col, row, value >= 0);
}

static int put_str(ColumnPart *col, size_t row, const Text *text) {
    if (text->set && decode_span(&text->span, &col->data) < 0)
        return -1;
    int64_t end = (int64_t)col->data.len;
    put_valid(col, row, text->set);
    return buf_put(&col->values, &end, sizeof end);
}

/* A tag byte (0 null, 1 set), then for a set text its uint64 length and decoded bytes. */
static int encode_text(Buf *out, const Span *span, int set) {
    uchar tag = (uchar)set;
    if (buf_put(out, &tag, 1) < 0 || !set)
        return set ? -1 : 0;
    size_t at = out->len;
    uint64_t len = 0;
    if (buf_put(out, &len, sizeof len) < 0 || decode_span(span, out) < 0)
        return -1;
    len = out->len - at - sizeof len;
    memcpy(out->data + at, &len, sizeof len);
    return 0;
}

/*
 * The number of an endpoint. Its key is the raw text of its JSON object (empty when it has none):
 * equal text means equal fields, so the fields are decoded only the first time a text is seen,
 * into the value read by endpoint_tuple: namespace, pod_name and workload as encode_text, then
 * the labels as a tag, a uint64 count and each label as encode_text. 0, -FAIL_MEMORY or -FAIL_FLOOD.
 */
static int intern_endpoint(Part *part, const Endpoint *ep, uint32_t *id) {
    const char *key = ep->present ? (const char *)ep->raw : "";
    size_t len = ep->present ? ep->raw_len : 0;
    uint64_t hash = hash_bytes(key, len);
    int found = interner_find(&part->endpoints, key, len, hash, id);
    if (found != 0)
        return found < 0 ? found : 0;
    Buf *value = &part->key;
    value->len = 0;
    uchar tag = (uchar)ep->labels_set;
    uint64_t count = ep->labels_count;
    if (encode_text(value, &ep->namespace_.span, ep->namespace_.set) < 0
        || encode_text(value, &ep->pod_name.span, ep->pod_name.set) < 0
        || encode_text(value, &ep->workload.span, ep->workload.set) < 0 || buf_put(value, &tag, 1) < 0
        || (tag && buf_put(value, &count, sizeof count) < 0))
        return -1;
    const Span *labels = (const Span *)part->labels.data;
    for (size_t i = 0; tag && i < ep->labels_count; i++)
        if (encode_text(value, &labels[ep->labels_start + i], 1) < 0)
            return -1;
    return interner_insert(&part->endpoints, key, len, hash, value->data, value->len, id);
}

/* 0, -FAIL_MEMORY or -FAIL_FLOOD. */
static int emit_row(Part *part, const Record *rec, int64_t line) {
    Level row;
    merge(rec, &row);
    uint32_t endpoints[2];
    int rc = intern_endpoint(part, &row.endpoint[0], &endpoints[0]);
    if (rc < 0 || (rc = intern_endpoint(part, &row.endpoint[1], &endpoints[1])) < 0)
        return rc;
    const size_t n = part->rows;
    if (n % 8 == 0 && grow_bitmaps(part) < 0)
        return -1;
    part->rows++;
    ColumnPart *cols = part->cols;
    set_bit(&cols[C_WRAPPED].values, n, rec->wrapped);
    set_bit(&cols[C_IP].values, n, row.ip_present);
    put_nullable_bool(&cols[C_IS_REPLY], n, row.is_reply);
    put_nullable_bool(&cols[C_REPLY], n, row.reply);
    const L4Proto *tcp = &row.l4[L4_TCP];
    int failed = buf_put(&cols[C_LINE].values, &line, sizeof line)
        | put_str(&cols[C_TIME], n, &row.time) | put_str(&cols[C_VERDICT], n, &row.verdict)
        | put_str(&cols[C_IP_SOURCE], n, &row.ip_source) | put_str(&cols[C_IP_DESTINATION], n, &row.ip_destination)
        | put_i64(&cols[C_TCP_FLAGS], n, tcp->has_flags, tcp->flags)
        | buf_put(&cols[C_SRC_ENDPOINT].values, &endpoints[0], sizeof endpoints[0])
        | buf_put(&cols[C_DST_ENDPOINT].values, &endpoints[1], sizeof endpoints[1]);
    for (int i = 0; i < L4_COUNT; i++) {
        const L4Proto *proto = &row.l4[i];
        set_bit(&cols[C_L4 + 3 * i].values, n, proto->present);
        failed |= put_i64(&cols[C_L4 + 3 * i + 1], n, proto->has[0], proto->num[0])
            | put_i64(&cols[C_L4 + 3 * i + 2], n, proto->has[1], proto->num[1]);
    }
    return failed ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Lines and parts                                                                            */

static int add_bad(Part *part, int64_t line, const Parser *ps, const char *what) {
    BadRecord bad = {line, "", NULL, what, 0};
    if (ps && ps->err == ERR_TYPE) {
        bad.prefix = ps->err_prefix;
        bad.path = ps->err_path;
        bad.what = ps->err_what;
    } else if (ps) {
        bad.what = ps->err_what;
        bad.column = ps->err_at - ps->start + 1;
    }
    return buf_put(&part->bad, &bad, sizeof bad);
}

static inline int is_blank(uchar c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void scan_line(Part *part, const uchar *start, const uchar *end, int64_t line) {
    const uchar *p = start;
    while (p < end && is_blank(*p))
        p++;
    if (p == end)
        return; /* blank lines are not records */
    for (p = start; *p == ' ' || *p == '\t' || *p == '\r'; p++)
        ; /* stops at the non-blank byte at the latest */
    if (*p != '{') {
        if (add_bad(part, line, NULL, "not a JSON object") < 0)
            part->failure = FAIL_MEMORY;
        return;
    }
    Parser ps = {.p = p, .start = start, .end = end, .prefix = "", .part = part, .line = line};
    Record rec;
    rec.wrapped = 0;
    level_reset(&rec.flow);
    level_reset(&rec.top);
    part->labels.len = 0;
    if (parse_record(&ps, &rec) == 0) {
        int rc = emit_row(part, &rec, line);
        if (rc < 0)
            part->failure = -rc;
        return;
    }
    if (ps.err == ERR_TYPE) {
        Parser check = ps;
        if (validate_line(&check) < 0)
            ps = check;
    }
    if (ps.err != ERR_FATAL && add_bad(part, line, &ps, NULL) < 0)
        part->failure = FAIL_MEMORY;
}

static void scan_part(Part *part) {
    const uchar *p = part->begin, *end = part->end;
    int64_t line = 0, zero = 0;
    for (int c = 0; c < C_COUNT; c++)
        if (COLUMNS[c].kind == K_STR && buf_put(&part->cols[c].values, &zero, sizeof zero) < 0)
            part->failure = FAIL_MEMORY;
    while (p < end && !part->failure && !__atomic_load_n(part->stop, __ATOMIC_RELAXED)) {
        const uchar *newline = memchr(p, '\n', (size_t)(end - p));
        const uchar *stop = newline ? newline : end;
        scan_line(part, p, stop, line++);
        p = newline ? newline + 1 : end;
    }
    part->lines = line;
    if (part->failure)
        __atomic_store_n(part->stop, 1, __ATOMIC_RELAXED);
}

static void *run_part(void *arg) {
    scan_part((Part *)arg);
    return NULL;
}

/* Cuts [data, data + len) into `n` parts that end just after a newline (some may be empty). */
static void split(Part *parts, int n, const uchar *data, size_t len) {
    const uchar *end = data + len, *begin = data;
    for (int i = 0; i < n; i++) {
        const uchar *cut = end;
        if (i < n - 1) {
            cut = data + len / (size_t)n * (size_t)(i + 1);
            if (cut < begin)
                cut = begin;
            const uchar *newline = memchr(cut, '\n', (size_t)(end - cut));
            cut = newline ? newline + 1 : end;
        }
        parts[i].begin = begin;
        parts[i].end = cut;
        begin = cut;
    }
}

static void run_parts(Part *parts, int n) {
    pthread_t threads[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int i = 1; i < n; i++)
        started[i] = pthread_create(&threads[i], NULL, run_part, &parts[i]) == 0;
    scan_part(&parts[0]);
    for (int i = 1; i < n; i++) {
        if (started[i])
            pthread_join(threads[i], NULL);
        else
            scan_part(&parts[i]); /* no thread to be had: scan it here */
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Joining the parts into Python objects                                                      */

/* A block of memory handed over to Python: exposes the buffer protocol, frees it when collected. */
typedef struct {
    PyObject_HEAD
    char *data;
    Py_ssize_t len;
} OwnedBuffer;

static int owned_getbuffer(PyObject *self, Py_buffer *view, int flags) {
    OwnedBuffer *owned = (OwnedBuffer *)self;
    return PyBuffer_FillInfo(view, self, owned->data, owned->len, 1, flags);
}

static void owned_dealloc(PyObject *self) {
    free(((OwnedBuffer *)self)->data);
    Py_TYPE(self)->tp_free(self);
}

static PyBufferProcs OWNED_BUFFER_PROCS = {owned_getbuffer, NULL};

static PyTypeObject OwnedBufferType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "jobs.engines.flows._hubble_scan.Buffer",
    .tp_basicsize = sizeof(OwnedBuffer),
    .tp_dealloc = owned_dealloc,
    .tp_as_buffer = &OWNED_BUFFER_PROCS,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Read-only memory filled by the scanner (one Arrow buffer).",
};

/* A Python buffer that takes over `b`'s memory (`b` is left empty). */
static PyObject *hand_over(Buf *b) {
    if (b->data == NULL && !(b->data = malloc(1)))
        return PyErr_NoMemory();
    OwnedBuffer *owned = PyObject_New(OwnedBuffer, &OwnedBufferType);
    if (!owned)
        return NULL;
    owned->data = b->data;
    owned->len = (Py_ssize_t)b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return (PyObject *)owned;
}

/* (null_count, validity or None, buffers...) in pyarrow.Array.from_buffers order. */
static PyObject *column_tuple(ColumnPart *col, Kind kind) {
    PyObject *valid = col->nulls ? hand_over(&col->valid) : Py_NewRef(Py_None);
    PyObject *values = valid ? hand_over(&col->values) : NULL;
    PyObject *data = values && kind == K_STR ? hand_over(&col->data) : NULL;
    PyObject *tuple = NULL;
    if (kind == K_STR && data)
        tuple = Py_BuildValue("(nOOO)", (Py_ssize_t)col->nulls, valid, values, data);
    else if (kind != K_STR && values)
        tuple = Py_BuildValue("(nOO)", (Py_ssize_t)col->nulls, valid, values);
    Py_XDECREF(valid);
    Py_XDECREF(values);
    Py_XDECREF(data);
    return tuple;
}

/* (rows, columns) of one part. */
static PyObject *part_tuple(Part *part) {
    PyObject *columns = PyTuple_New(C_COUNT);
    for (int c = 0; columns && c < C_COUNT; c++) {
        PyObject *column = column_tuple(&part->cols[c], COLUMNS[c].kind);
        if (!column)
            Py_CLEAR(columns);
        else
            PyTuple_SET_ITEM(columns, c, column);
    }
    return columns ? Py_BuildValue("(nN)", (Py_ssize_t)part->rows, columns) : NULL;
}

static PyObject *text_or_none(const char **p, const char *end) {
    if (*p >= end)
        return NULL;
    uchar tag = (uchar) * (*p)++;
    if (!tag)
        Py_RETURN_NONE;
    uint64_t len;
    if (end - *p < 8)
        return NULL;
    memcpy(&len, *p, 8);
    *p += 8;
    if ((uint64_t)(end - *p) < len)
        return NULL;
    PyObject *text = PyUnicode_DecodeUTF8(*p, (Py_ssize_t)len, "strict");
    *p += len;
    return text;
}

/* (namespace, pod_name, workload, labels) from an endpoint's value (see intern_endpoint). */
static PyObject *endpoint_tuple(const char *key, size_t len) {
    const char *p = key, *end = key + len;
    PyObject *tuple = PyTuple_New(4);
    if (!tuple)
        return NULL;
    for (int i = 0; i < 3; i++) {
        PyObject *text = text_or_none(&p, end);
        if (!text)
            goto fail;
        PyTuple_SET_ITEM(tuple, i, text);
    }
    if (p >= end)
        goto fail;
    uchar tag = (uchar)*p++;
    if (!tag) {
        PyTuple_SET_ITEM(tuple, 3, Py_NewRef(Py_None));
        return tuple;
    }
    uint64_t count;
    if (end - p < 8)
        goto fail;
    memcpy(&count, p, 8);
    p += 8;
    PyObject *labels = PyList_New((Py_ssize_t)count);
    if (!labels)
        goto fail;
    PyTuple_SET_ITEM(tuple, 3, labels);
    for (uint64_t i = 0; i < count; i++) {
        PyObject *text = text_or_none(&p, end);
        if (!text)
            goto fail;
        PyList_SET_ITEM(labels, (Py_ssize_t)i, text);
    }
    return tuple;
fail:
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_SystemError, "corrupt endpoint key");
    Py_DECREF(tuple);
    return NULL;
}

static PyObject *endpoint_list(const Interner *in) {
    size_t n = interner_count(in);
    const Entry *entries = (const Entry *)in->entries.data;
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        PyObject *item = endpoint_tuple(in->values.data + entries[i].value_off, entries[i].value_len);
        if (!item)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    return list;
}

static PyObject *bad_list(const Part *parts, int n, int64_t first_line) {
    PyObject *list = PyList_New(0);
    int64_t line_base = first_line;
    for (int k = 0; list && k < n; line_base += parts[k].lines, k++) {
        const BadRecord *bad = (const BadRecord *)parts[k].bad.data;
        for (size_t i = 0; i < parts[k].bad.len / sizeof *bad; i++) {
            PyObject *reason;
            if (bad[i].path)
                reason = PyUnicode_FromFormat("invalid JSON line: %s%s %s", bad[i].prefix, bad[i].path, bad[i].what);
            else if (bad[i].column)
                reason = PyUnicode_FromFormat("invalid JSON line: %s at column %lld", bad[i].what,
                                              (long long)bad[i].column);
            else
                reason = PyUnicode_FromString(bad[i].what);
            PyObject *item = reason ? Py_BuildValue("(LN)", (long long)(bad[i].line + line_base), reason) : NULL;
            if (!item || PyList_Append(list, item) < 0) {
                Py_XDECREF(item);
                Py_CLEAR(list);
                break;
            }
            Py_DECREF(item);
        }
    }
    return list;
}

/* Global endpoint numbers: every part's endpoints, in part order, into one interner. 0 or a FAIL_. */
static int merge_endpoints(const Part *parts, int n, Interner *all, uint32_t **remap) {
    for (int k = 0; k < n; k++) {
        const Interner *in = &parts[k].endpoints;
        const Entry *entries = (const Entry *)in->entries.data;
        size_t count = interner_count(in);
        remap[k] = malloc((count ? count : 1) * sizeof(uint32_t));
        if (!remap[k])
            return FAIL_MEMORY;
        for (size_t i = 0; i < count; i++) {
            const Entry *e = &entries[i];
            const char *key = in->keys.data + e->key_off;
            int rc = interner_find(all, key, e->key_len, e->hash, &remap[k][i]);
            if (rc == 0)
                rc = interner_insert(all, key, e->key_len, e->hash, in->values.data + e->value_off, e->value_len,
                                     &remap[k][i]);
            if (rc < 0)
                return -rc;
        }
    }
    return FAIL_NONE;
}

/* Line numbers and endpoint numbers of every part made global, in place (no GIL needed). */
static void globalize(Part *parts, int n, int64_t first_line, uint32_t *const *remap) {
    int64_t base = first_line;
    for (int k = 0; k < n; base += parts[k].lines, k++) {
        int64_t *lines = (int64_t *)parts[k].cols[C_LINE].values.data;
        uint32_t *src = (uint32_t *)parts[k].cols[C_SRC_ENDPOINT].values.data;
        uint32_t *dst = (uint32_t *)parts[k].cols[C_DST_ENDPOINT].values.data;
        for (size_t i = 0; i < parts[k].rows; i++) {
            lines[i] += base;
            src[i] = remap[k][src[i]];
            dst[i] = remap[k][dst[i]];
        }
    }
}

static PyObject *build_result(Part *parts, int n, int64_t first_line, const Interner *all) {
    size_t rows = 0;
    for (int k = 0; k < n; k++)
        rows += parts[k].rows;
    PyObject *chunks = PyTuple_New(n);
    for (int k = 0; chunks && k < n; k++) {
        PyObject *chunk = part_tuple(&parts[k]);
        if (!chunk)
            Py_CLEAR(chunks);
        else
            PyTuple_SET_ITEM(chunks, k, chunk);
    }
    PyObject *endpoints = chunks ? endpoint_list(all) : NULL;
    PyObject *bad = endpoints ? bad_list(parts, n, first_line) : NULL;
    PyObject *result = bad ? Py_BuildValue("(nOOO)", (Py_ssize_t)rows, chunks, endpoints, bad) : NULL;
    Py_XDECREF(chunks);
    Py_XDECREF(endpoints);
    Py_XDECREF(bad);
    return result;
}

static void raise_utf8(const Part *parts, int n, int64_t first_line) {
    int64_t line_base = first_line;
    for (int k = 0; k < n; line_base += parts[k].lines, k++) {
        if (parts[k].failure != FAIL_UTF8)
            continue;
        const char *at = (const char *)parts[k].failure_at;
        char reason[96];
        snprintf(reason, sizeof reason, "invalid UTF-8 in a string on line %lld",
                 (long long)(parts[k].failure_line + line_base));
        PyObject *error = PyUnicodeDecodeError_Create("utf-8", at, 1, 0, 1, reason);
        if (error) {
            PyErr_SetObject(PyExc_UnicodeDecodeError, error);
            Py_DECREF(error);
        }
        return;
    }
}

static PyObject *HashFlood;

static PyObject *scan(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    long long first_line;
    int threads;
    if (!PyArg_ParseTuple(args, "y*Li:scan", &view, &first_line, &threads))
        return NULL;
    size_t len = (size_t)view.len;
    int n = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
    if ((size_t)n > len / MIN_PART_BYTES)
        n = len / MIN_PART_BYTES > 0 ? (int)(len / MIN_PART_BYTES) : 1;
    Part *parts = calloc((size_t)n, sizeof *parts);
    uint32_t **remap = calloc((size_t)n, sizeof *remap);
    Interner all = {0};
    int stop = 0, failure = parts && remap ? FAIL_NONE : FAIL_MEMORY;
    PyObject *result = NULL;
    if (!failure) {
        split(parts, n, (const uchar *)view.buf, len);
        for (int k = 0; k < n; k++)
            parts[k].stop = &stop;
        Py_BEGIN_ALLOW_THREADS
        run_parts(parts, n);
        for (int k = 0; k < n; k++)
            failure = failure ? failure : parts[k].failure;
        if (!failure)
            failure = merge_endpoints(parts, n, &all, remap);
        if (!failure)
            globalize(parts, n, first_line, remap);
        Py_END_ALLOW_THREADS
    }
    if (failure == FAIL_MEMORY)
        PyErr_NoMemory();
    else if (failure == FAIL_UTF8)
        raise_utf8(parts, n, first_line);
    else if (failure == FAIL_FLOOD)
        PyErr_Format(HashFlood, "the endpoint objects collide in the scanner's hash table (more than %d probes): "
                     "refused as a hash-flooding attempt", MAX_PROBES);
    else
        result = build_result(parts, n, first_line, &all);
    for (int k = 0; parts && k < n; k++) {
        part_free(&parts[k]);
        if (remap)
            free(remap[k]);
    }
    free(parts);
    free(remap);
    interner_free(&all);
    PyBuffer_Release(&view);
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* Module                                                                                     */

/* 32 bytes as the four little-endian words of the hash key. */
static int put_hash_key(const char *bytes, Py_ssize_t len) {
    if (len != 32) {
        PyErr_SetString(PyExc_ValueError, "the hash key is 32 bytes");
        return -1;
    }
    for (int w = 0; w < 4; w++) {
        uint64_t word = 0;
        for (int i = 7; i >= 0; i--)
            word = word << 8 | (uchar)bytes[8 * w + i];
        HASH_KEY[w] = word;
    }
    return 0;
}

static PyObject *set_hash_key(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer key;
    if (!PyArg_ParseTuple(args, "y*:set_hash_key", &key))
        return NULL;
    int rc = put_hash_key(key.buf, key.len);
    PyBuffer_Release(&key);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* A fresh random key from os.urandom (getrandom(2) on Linux). */
static int seed_hash_key(void) {
    PyObject *os = PyImport_ImportModule("os");
    PyObject *bytes = os ? PyObject_CallMethod(os, "urandom", "i", 32) : NULL;
    int rc = bytes && PyBytes_Check(bytes) ? put_hash_key(PyBytes_AS_STRING(bytes), PyBytes_GET_SIZE(bytes)) : -1;
    Py_XDECREF(bytes);
    Py_XDECREF(os);
    return rc;
}

static PyMethodDef METHODS[] = {
    {"scan", scan, METH_VARARGS,
     "scan(chunk, first_line, threads) -> (rows, parts, endpoints, bad)\n\n"
     "Validate and extract every line of a chunk of Hubble JSON lines (see the module source).\n"
     "parts: per thread, in line order, (rows, columns) with per entry of COLUMNS a tuple\n"
     "(null_count, validity or None, Arrow buffers...); endpoints: distinct\n"
     "(namespace, pod_name, workload, labels); bad: (line, reason) in line order.\n"
     "Raises UnicodeDecodeError when a string holds bytes that are not UTF-8, HashFlood when\n"
     "endpoint objects collide in the hash table past MAX_PROBES."},
    {"set_hash_key", set_hash_key, METH_VARARGS,
     "set_hash_key(key)\n\n"
     "Replace the endpoint hash's random per-process key with these 32 bytes. Only for tests that\n"
     "make collisions on purpose; never while a scan runs."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_hubble_scan", "Native scanner for Cilium Hubble JSON lines.", -1, METHODS,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__hubble_scan(void) {
    init_tables();
    if (PyType_Ready(&OwnedBufferType) < 0 || seed_hash_key() < 0)
        return NULL;
    PyObject *module = PyModule_Create(&MODULE);
    if (!module)
        return NULL;
    HashFlood = PyErr_NewExceptionWithDoc("jobs.engines.flows._hubble_scan.HashFlood",
                                          "Endpoint objects collided in the hash table past MAX_PROBES.",
                                          PyExc_ValueError, NULL);
    if (!HashFlood || PyModule_AddObjectRef(module, "HashFlood", HashFlood) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    static const char *const KIND_NAMES[] = {"int64", "bool", "string", "uint32"};
    PyObject *columns = PyTuple_New(C_COUNT);
    for (int c = 0; columns && c < C_COUNT; c++) {
        PyObject *item = Py_BuildValue("(ss)", COLUMNS[c].name, KIND_NAMES[COLUMNS[c].kind]);
        if (!item)
            Py_CLEAR(columns);
        else
            PyTuple_SET_ITEM(columns, c, item);
    }
    if (!columns || PyModule_AddObject(module, "COLUMNS", columns) < 0
        || PyModule_AddIntConstant(module, "MAX_DEPTH", MAX_DEPTH) < 0
        || PyModule_AddIntConstant(module, "MAX_PROBES", MAX_PROBES) < 0
        || PyModule_AddIntConstant(module, "MIN_PART_BYTES", MIN_PART_BYTES) < 0) {
        Py_XDECREF(columns);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
