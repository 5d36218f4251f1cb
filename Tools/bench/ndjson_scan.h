/* A tiny ad-hoc scanner for the flat NDJSON events of SPEC.md section 2, shared by the
 * benchmark baselines. Not a JSON parser: it finds the top-level `"key":value` pairs of one
 * line and hands back each value as a slice of the line. String values are returned as
 * written between the quotes (escapes are not decoded); an object value (`meta`) is
 * returned whole, braces included. Lines from the project's generator are canonical, so
 * that is all the baselines need. Header-only: `#include "ndjson_scan.h"`.
 */
#ifndef NDJSON_SCAN_H
#define NDJSON_SCAN_H

#include <stddef.h>
#include <string.h>

typedef struct {
    const char *p;
    size_t n; /* 0 with p == NULL: absent */
} slice;

enum { F_TYPE, F_AT, F_USER, F_SESSION, F_CLIENT, F_METHOD, F_ID, F_IP, F_AGENT, F_META, F_COUNT };

static const char *const field_names[F_COUNT] = {
    "type", "at", "user", "session", "client", "method", "id", "ip", "agent", "meta",
};

static inline const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
    return p;
}

/* p points just after an opening quote; returns the closing quote (or end). */
static inline const char *string_end(const char *p, const char *end) {
    while (p < end && *p != '"') p += (*p == '\\') ? 2 : 1;
    return p < end ? p : end;
}

static inline int field_index(const char *k, size_t n) {
    for (int i = 0; i < F_COUNT; i++)
        if (strlen(field_names[i]) == n && memcmp(field_names[i], k, n) == 0) return i;
    return -1;
}

/* Fills `out` with the values of one line; returns 0, or -1 when the line is not an object
 * of this shape. Unknown keys are skipped. */
static inline int scan_event(const char *line, size_t len, slice out[F_COUNT]) {
    const char *p = line, *end = line + len;
    memset(out, 0, sizeof(slice) * F_COUNT);
    p = skip_ws(p, end);
    if (p >= end || *p++ != '{') return -1;
    for (;;) {
        p = skip_ws(p, end);
        if (p < end && *p == '}') return 0;
        if (p >= end || *p++ != '"') return -1;
        const char *k = p;
        p = string_end(p, end);
        if (p >= end) return -1;
        int f = field_index(k, (size_t)(p - k));
        p = skip_ws(p + 1, end);
        if (p >= end || *p++ != ':') return -1;
        p = skip_ws(p, end);
        if (p >= end) return -1;
        const char *v;
        size_t vn;
        if (*p == '"') {
            v = ++p;
            p = string_end(p, end);
            if (p >= end) return -1;
            vn = (size_t)(p - v);
            p++;
        } else if (*p == '{') {
            v = p;
            int depth = 0;
            while (p < end) {
                if (*p == '"') {
                    p = string_end(p + 1, end);
                    if (p >= end) return -1;
                } else if (*p == '{') {
                    depth++;
                } else if (*p == '}' && --depth == 0) {
                    p++;
                    break;
                }
                p++;
            }
            if (depth != 0) return -1;
            vn = (size_t)(p - v);
        } else {
            v = p;
            while (p < end && *p != ',' && *p != '}') p++;
            vn = (size_t)(p - v);
        }
        if (f >= 0) {
            out[f].p = v;
            out[f].n = vn;
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') { p++; continue; }
        if (p < end && *p == '}') return 0;
        return -1;
    }
}

#endif
