/* SQLite baseline for `sledger import` (Tools/bench/import_benchmark.sh).
 *
 *     cc -O2 -o sqlite_import sqlite_import.c -lsqlite3
 *     sqlite_import [--mode indexed|plain|indexed-after|all] [--dir DIR] [--commit-every N] FILE.ndjson
 *     sqlite_import --append DB_FILE FILE.ndjson
 *
 * Loads the same NDJSON into one SQLite table with a column for every key of SPEC.md
 * section 2 (`meta` as its JSON text; strings as written, escapes not decoded; `at` as
 * INTEGER nanoseconds since the epoch, so that comparisons and sorting follow time, which
 * the text does not once fractions appear), `seq` as the INTEGER PRIMARY KEY, in one
 * transaction, in WAL mode with synchronous=FULL (so COMMIT returns only when the events are
 * on disk, as sledger's import does). Other settings are SQLite's defaults. Modes, each on a
 * fresh database DIR/sqlite-MODE.db:
 *
 * - `indexed`: the indexes on (user, at), (session, at) and (at) exist before the rows go
 *   in (what a live store pays);
 * - `plain`: no index;
 * - `indexed-after`: rows first, then the three indexes built in the same transaction.
 *
 * `--commit-every N` commits after every N rows instead (and `indexed-after` then builds each
 * index in its own transaction): how to load 100M events, as sledger is loaded in calls of
 * 10M (Tools/bench/import_following.py). In WAL mode one transaction's pages all go to the
 * WAL first and are copied into the database at the end, so one 100M-row transaction needs
 * twice the database's size on disk.
 *
 * `--append` adds the file's events to an existing database (indexes in place, seq going
 * on from the largest) in one durable transaction: one batch of Tools/bench/compare_sqlite.sh's
 * appends to a large store.
 *
 * Timing runs from opening the database to the end of the commit and close. Prints one
 * JSON line: {"file":"...","events":N,"bytes":B,"indexed":{"seconds":S,"events_per_s":R,"db_bytes":D},...}
 * (with --append: {"file":"...","events":N,"append":{...}}).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ndjson_scan.h"

static sqlite3 *db;

static void check(int rc, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "sqlite_import: %s: %s\n", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        exit(1);
    }
}

static void exec(const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sqlite_import: %s: %s\n", sql, err ? err : "?");
        exit(1);
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int blank(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') return 0;
    return 1;
}

static const char *const create_indexes =
    "CREATE INDEX events_user_at ON events(user, at);"
    "CREATE INDEX events_session_at ON events(session, at);"
    "CREATE INDEX events_at ON events(at);";

typedef struct {
    double seconds;
    uint64_t events;
    long long db_bytes;
} result;

static long long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* Rows per transaction (0: all in one). */
static uint64_t commit_every = 0;

/* Inserts the events of data[0..size) with seq going on after `seq`; returns the count. */
static uint64_t insert_rows(const char *data, size_t size, uint64_t seq) {
    sqlite3_stmt *insert;
    check(sqlite3_prepare_v2(db,
                             "INSERT INTO events(seq, type, at, user, session, client, method, id, ip, agent, meta)"
                             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                             -1, &insert, NULL),
          "prepare");
    uint64_t count = 0;
    const char *p = data, *end = data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        size_t n = (size_t)(line_end - p);
        if (n > 0 && !blank(p, n)) {
            slice f[F_COUNT];
            seq++;
            count++;
            int64_t at = INT64_MIN;
            if (scan_event(p, n, f) != 0 || !f[F_TYPE].p || !f[F_AT].p || !f[F_USER].p ||
                (at = rfc3339_ns(f[F_AT].p, f[F_AT].n)) == INT64_MIN) {
                fprintf(stderr, "sqlite_import: line of seq %llu is not an event\n", (unsigned long long)seq);
                exit(1);
            }
            sqlite3_bind_int64(insert, 1, (sqlite3_int64)seq);
            for (int i = 0; i < F_COUNT; i++) {
                if (i == F_AT) sqlite3_bind_int64(insert, i + 2, at);
                else if (f[i].p) sqlite3_bind_text(insert, i + 2, f[i].p, (int)f[i].n, SQLITE_STATIC);
                else sqlite3_bind_null(insert, i + 2);
            }
            check(sqlite3_step(insert), "insert");
            sqlite3_reset(insert);
            if (commit_every && count % commit_every == 0) exec("COMMIT; BEGIN");
        }
        p = line_end + 1;
    }
    sqlite3_finalize(insert);
    return count;
}

static long long db_and_wal_bytes(const char *path) {
    char side[4200];
    snprintf(side, sizeof side, "%s-wal", path);
    return file_size(path) + file_size(side);
}

static result run(const char *path, const char *data, size_t size, const char *mode) {
    char side[4200];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);

    double start = now();
    check(sqlite3_open(path, &db), "sqlite3_open");
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    exec("CREATE TABLE events(seq INTEGER PRIMARY KEY, type TEXT NOT NULL, at INTEGER NOT NULL, user TEXT NOT NULL,"
         " session TEXT, client TEXT, method TEXT, id TEXT, ip TEXT, agent TEXT, meta TEXT)");
    if (strcmp(mode, "indexed") == 0) exec(create_indexes);
    exec("BEGIN");
    uint64_t count = insert_rows(data, size, 0);
    if (strcmp(mode, "indexed-after") == 0) {
        if (commit_every) exec("COMMIT; BEGIN");
        if (commit_every) {
            /* One transaction per index. */
            const char *p = create_indexes;
            while (*p) {
                const char *semi = strchr(p, ';');
                size_t n = semi ? (size_t)(semi - p + 1) : strlen(p);
                char one[512];
                snprintf(one, sizeof one, "%.*s", (int)n, p);
                if (strspn(one, " \n\t;") != strlen(one)) { exec(one); exec("COMMIT; BEGIN"); }
                p += n;
            }
        } else {
            exec(create_indexes);
        }
    }
    exec("COMMIT");
    check(sqlite3_close(db), "sqlite3_close");
    db = NULL;
    result r = {now() - start, count, db_and_wal_bytes(path)};
    return r;
}

/* One durable transaction adding the file's events to the existing database at `path`. */
static result append(const char *path, const char *data, size_t size) {
    double start = now();
    check(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), "sqlite3_open");
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    exec("BEGIN IMMEDIATE");
    sqlite3_stmt *last;
    check(sqlite3_prepare_v2(db, "SELECT coalesce(max(seq), 0) FROM events", -1, &last, NULL), "prepare");
    check(sqlite3_step(last), "max(seq)");
    uint64_t seq = (uint64_t)sqlite3_column_int64(last, 0);
    sqlite3_finalize(last);
    uint64_t count = insert_rows(data, size, seq);
    exec("COMMIT");
    check(sqlite3_close(db), "sqlite3_close");
    db = NULL;
    result r = {now() - start, count, db_and_wal_bytes(path)};
    return r;
}

static void print_result(const char *name, result r) {
    printf(",\"%s\":{\"seconds\":%.3f,\"events_per_s\":%.0f,\"db_bytes\":%lld}", name, r.seconds,
           r.seconds > 0 ? (double)r.events / r.seconds : 0.0, r.db_bytes);
}

int main(int argc, char **argv) {
    const char *mode = "all", *dir = ".", *file = NULL, *append_to = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) mode = argv[++i];
        else if (strcmp(argv[i], "--append") == 0 && i + 1 < argc) append_to = argv[++i];
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) dir = argv[++i];
        else if (strcmp(argv[i], "--commit-every") == 0 && i + 1 < argc) commit_every = strtoull(argv[++i], NULL, 10);
        else if (argv[i][0] != '-' && !file) file = argv[i];
        else { file = NULL; break; }
    }
    static const char *const modes[] = {"indexed", "plain", "indexed-after"};
    int chosen[3], any = 0;
    for (int i = 0; i < 3; i++) any |= chosen[i] = strcmp(mode, "all") == 0 || strcmp(mode, modes[i]) == 0;
    if (!file || !any) {
        fprintf(stderr, "usage: sqlite_import [--mode indexed|plain|indexed-after|all] [--dir DIR] [--commit-every N] FILE.ndjson\n"
                        "       sqlite_import --append DB_FILE FILE.ndjson\n");
        return 2;
    }
    int fd = open(file, O_RDONLY);
    if (fd < 0) { perror(file); return 1; }
    struct stat st;
    if (fstat(fd, &st) != 0) { perror(file); return 1; }
    size_t size = (size_t)st.st_size;
    const char *data = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : "";
    if (data == MAP_FAILED) { perror("mmap"); return 1; }
    madvise((void *)data, size, MADV_SEQUENTIAL);

    printf("{\"file\":\"%s\",\"bytes\":%zu", file, size);
    if (append_to) {
        result r = append(append_to, data, size);
        printf(",\"events\":%llu", (unsigned long long)r.events);
        print_result("append", r);
        printf("}\n");
        return 0;
    }
    int first = 1;
    for (int i = 0; i < 3; i++) {
        if (!chosen[i]) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/sqlite-%s.db", dir, modes[i]);
        result r = run(path, data, size, modes[i]);
        if (first) printf(",\"events\":%llu", (unsigned long long)r.events);
        first = 0;
        print_result(modes[i], r);
        fflush(stdout);
    }
    printf("}\n");
    return 0;
}
