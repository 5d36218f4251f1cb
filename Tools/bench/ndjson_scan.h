/* A tiny ad-hoc scanner for the flat NDJSON events of SPEC.md section 2, shared by the
 * benchmark baselines. Not a JSON parser: it finds the top-level `"key":value` pairs of one
 * line and hands back each value as a slice of the line. String values are returned as
 * written between the quotes (escapes are not decoded); an object value (`meta`) is
 * returned whole, braces included. Lines from the project's generator are canonical, so
 * that is all the baselines need. Also `rfc3339_ns`, an instant as a number. Header-only: `#include "ndjson_scan.h"`.
 */
#ifndef NDJSON_SCAN_H
#define NDJSON_SCAN_H

#include <stddef.h>
#include <stdint.h>
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

/* Nanoseconds since the epoch of an RFC 3339 instant ("YYYY-MM-DDTHH:MM:SS", 0 to 9
 * fractional digits, then Z or a numeric offset), or INT64_MIN when the text is not one.
 * Used to store and compare instants as numbers: text order is not time order once some
 * instants carry a fraction ("...:00.25Z" sorts before "...:00Z"). */
static inline int64_t rfc3339_ns(const char *t, size_t n) {
    const char *p = t, *end = t + n;
    long v[6];
    static const char seps[6] = {'-', '-', 'T', ':', ':', 0};
    static const int widths[6] = {4, 2, 2, 2, 2, 2};
    for (int i = 0; i < 6; i++) {
        long x = 0;
        for (int d = 0; d < widths[i]; d++, p++) {
            if (p >= end || *p < '0' || *p > '9') return INT64_MIN;
            x = x * 10 + (*p - '0');
        }
        v[i] = x;
        if (seps[i]) {
            if (p >= end || (*p != seps[i] && !(seps[i] == 'T' && (*p == 't' || *p == ' ')))) return INT64_MIN;
            p++;
        }
    }
    int64_t frac = 0;
    int digits = 0;
    if (p < end && *p == '.') {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
            if (digits >= 9) return INT64_MIN;
            frac = frac * 10 + (*p - '0');
        }
        if (digits == 0) return INT64_MIN;
        for (int d = digits; d < 9; d++) frac *= 10;
    }
    long offset = 0;
    if (p < end && (*p == 'Z' || *p == 'z')) {
        p++;
    } else if (p + 6 == end && (*p == '+' || *p == '-') && p[3] == ':') {
        int sign = *p == '-' ? -1 : 1;
        for (int i = 1; i < 6; i++) if (i != 3 && (p[i] < '0' || p[i] > '9')) return INT64_MIN;
        offset = sign * (((p[1] - '0') * 10 + (p[2] - '0')) * 3600L + ((p[4] - '0') * 10 + (p[5] - '0')) * 60L);
        p += 6;
    } else {
        return INT64_MIN;
    }
    if (p != end) return INT64_MIN;
    long y = v[0], mo = v[1], d = v[2];
    y -= mo <= 2;
    long era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t secs = ((int64_t)era * 146097 + doe - 719468) * 86400 + v[3] * 3600 + v[4] * 60 + v[5] - offset;
    return secs * 1000000000LL + frac;
}

#endif
