/*
 * SQLite's side of the replay comparison: the same events read in (at, seq) order through
 * the index on `at`, with a minimal fold of the expiry rule in C (per session: last
 * extension and expiry; a refresh counts only while the session is active), so that it does
 * comparable work per row to sledger's fold of the same rule, without its other checks.
 *
 *     sqlite_scan DB_FILE
 *
 * Prints one JSON line: {"events":N,"seconds":S,"events_per_s":R,"active_at_end":A}
 * Build: cc -O2 -o sqlite_scan sqlite_scan.c -lsqlite3
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ndjson_scan.h"

typedef struct { char *key; long long expires; int ended; } Slot;
static Slot *table; static size_t cap = 1 << 22, used = 0;

static uint64_t fnv(const unsigned char *s) { uint64_t h = 1469598103934665603ULL; while (*s) { h ^= *s++; h *= 1099511628211ULL; } return h; }
/* Doubles the table when it is half full (5.7M sessions at 100M events outgrew 2^22 slots). */
static void grow(void) {
    Slot *old = table; size_t old_cap = cap;
    cap *= 2;
    table = calloc(cap, sizeof(Slot));
    if (!table) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (size_t k = 0; k < old_cap; k++) {
        if (!old[k].key) continue;
        size_t i = fnv((const unsigned char *)old[k].key) & (cap - 1);
        while (table[i].key) i = (i + 1) & (cap - 1);
        table[i] = old[k];
    }
    free(old);
}
static Slot *find(const unsigned char *key, int create) {
    size_t i = fnv(key) & (cap - 1);
    while (table[i].key) { if (strcmp(table[i].key, (const char *)key) == 0) return &table[i]; i = (i + 1) & (cap - 1); }
    if (!create) return NULL;
    if (used + 1 > cap / 2) { grow(); return find(key, 1); }
    used++;
    table[i].key = strdup((const char *)key);
    return &table[i];
}
/* The row's `at` in nanoseconds: an INTEGER column (sqlite_import.c now) or RFC 3339 text
 * (databases made before it stored numbers). */
static long long instant(sqlite3_stmt *st, int column) {
    if (sqlite3_column_type(st, column) == SQLITE_INTEGER) return sqlite3_column_int64(st, column);
    const char *text = (const char *)sqlite3_column_text(st, column);
    return text ? rfc3339_ns(text, strlen(text)) : 0;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: sqlite_scan DB_FILE\n"); return 2; }
    table = calloc(cap, sizeof(Slot));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sqlite3 *db; sqlite3_stmt *st;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL)) { fprintf(stderr, "%s\n", sqlite3_errmsg(db)); return 1; }
    if (sqlite3_prepare_v2(db, "SELECT type, at, session FROM events ORDER BY at, seq", -1, &st, NULL)) {
        fprintf(stderr, "%s\n", sqlite3_errmsg(db)); return 1;
    }
    const long long life = 28LL * 86400 * 1000000000LL;
    unsigned long long events = 0; long long last = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *type = sqlite3_column_text(st, 0), *session = sqlite3_column_text(st, 2);
        long long at = instant(st, 1);
        last = at;
        events++;
        if (!session) continue;
        if (strcmp((const char *)type, "login") == 0) {
            Slot *s = find(session, 1); s->expires = at + life; s->ended = 0;
        } else if (strcmp((const char *)type, "refresh") == 0) {
            Slot *s = find(session, 0);
            if (s && !s->ended && s->expires > at) s->expires = at + life;
        } else {
            Slot *s = find(session, 0);
            if (s && !s->ended && s->expires > at) s->ended = 1;
        }
    }
    unsigned long long active = 0;
    for (size_t i = 0; i < cap; i++) if (table[i].key && !table[i].ended && table[i].expires > last) active++;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"events\":%llu,\"seconds\":%.3f,\"events_per_s\":%.0f,\"active_at_end\":%llu}\n", events, s, events / s, active);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}
