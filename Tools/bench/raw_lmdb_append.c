/* Raw LMDB append baseline for `sledger import` (Tools/bench/import_benchmark.sh).
 *
 *     cc -O2 -o raw_lmdb_append raw_lmdb_append.c -llmdb
 *     raw_lmdb_append [--mode log|indexed|both] [--dir DIR] FILE.ndjson
 *     raw_lmdb_append --append ENV_DIR FILE.ndjson
 *
 * What the fastest possible LMDB ingest of the same file costs, with none of sledger's work
 * (no validation, no binary record, no checksum, no hash chain, no idempotency, no interning):
 *
 * - `log`: every non-blank line's bytes stored as the value under its `seq` (u64 big-endian,
 *   1, 2, 3 ...) with MDB_APPEND, in one write transaction committed durably.
 * - `indexed`: the same, plus three string-keyed secondary indexes per event, put in input
 *   order (no sorting): `by_user_at` (user NUL at NUL seq), `by_session_seq` (session NUL seq;
 *   events with no session skipped) and `by_at_seq` (at NUL seq), each with an empty value.
 *   Keys are built from the JSON text as written (ndjson_scan.h, not a full JSON parser).
 *
 * The environment is opened like sledger's writer: MDB_WRITEMAP | MDB_NOTLS, default (full)
 * sync on commit. Each mode uses a fresh environment in DIR/raw-log or DIR/raw-indexed
 * (DIR defaults to the current directory). Timing runs from opening the environment to the
 * end of the commit (when it returns, the data is on disk). Prints one JSON line:
 *
 *     {"file":"...","events":N,"bytes":B,"log":{"seconds":S,"events_per_s":R,"used_bytes":U},"indexed":{...}}
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ndjson_scan.h"

static void check(int rc, const char *what) {
    if (rc != MDB_SUCCESS) {
        fprintf(stderr, "raw_lmdb_append: %s: %s\n", what, mdb_strerror(rc));
        exit(1);
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put_be64(unsigned char *out, uint64_t v) {
    for (int i = 7; i >= 0; i--) { out[i] = (unsigned char)v; v >>= 8; }
}

static int blank(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') return 0;
    return 1;
}

/* key = a NUL b NUL seq(8, big-endian), or a NUL seq when b is NULL. */
static size_t make_key(unsigned char *buf, size_t cap, slice a, slice b, const unsigned char seq[8]) {
    size_t n = a.n + 1 + (b.p ? b.n + 1 : 0) + 8;
    if (n > cap || n > 511) return 0; /* LMDB's default max key size */
    unsigned char *q = buf;
    memcpy(q, a.p, a.n); q += a.n; *q++ = 0;
    if (b.p) { memcpy(q, b.p, b.n); q += b.n; *q++ = 0; }
    memcpy(q, seq, 8);
    return n;
}

typedef struct {
    double seconds;
    uint64_t events;
    size_t used_bytes;
} result;

static void fresh_dir(const char *dir) {
    char path[4096];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) { perror(dir); exit(1); }
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
}

static result run(const char *dir, const char *data, size_t size, int indexed, int existing) {
    if (!existing) fresh_dir(dir);
    double start = now();
    MDB_env *env;
    check(mdb_env_create(&env), "mdb_env_create");
    check(mdb_env_set_maxdbs(env, 8), "mdb_env_set_maxdbs");
    /* Sparse with MDB_WRITEMAP: only the pages used take disk space. */
    size_t have = 0;
    if (existing) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/data.mdb", dir);
        if (stat(path, &st) != 0) { perror(path); exit(1); }
        have = (size_t)st.st_size;
    }
    size_t map = (have + (size_t)size * 6 + ((size_t)256 << 20) + 4095) & ~(size_t)4095;
    check(mdb_env_set_mapsize(env, map), "mdb_env_set_mapsize");
    check(mdb_env_open(env, dir, MDB_WRITEMAP | MDB_NOTLS, 0600), "mdb_env_open");
    MDB_txn *txn;
    check(mdb_txn_begin(env, NULL, 0, &txn), "mdb_txn_begin");
    MDB_dbi log, by_user_at = 0, by_session_seq = 0, by_at_seq = 0;
    check(mdb_dbi_open(txn, "log", MDB_CREATE, &log), "mdb_dbi_open(log)");
    if (indexed) {
        check(mdb_dbi_open(txn, "by_user_at", MDB_CREATE, &by_user_at), "mdb_dbi_open(by_user_at)");
        check(mdb_dbi_open(txn, "by_session_seq", MDB_CREATE, &by_session_seq), "mdb_dbi_open(by_session_seq)");
        check(mdb_dbi_open(txn, "by_at_seq", MDB_CREATE, &by_at_seq), "mdb_dbi_open(by_at_seq)");
    }
    uint64_t seq = 0;
    if (existing) { /* go on from the last seq */
        MDB_cursor *c;
        MDB_val k, v;
        check(mdb_cursor_open(txn, log, &c), "mdb_cursor_open");
        if (mdb_cursor_get(c, &k, &v, MDB_LAST) == MDB_SUCCESS && k.mv_size == 8)
            for (int i = 0; i < 8; i++) seq = (seq << 8) | ((unsigned char *)k.mv_data)[i];
        mdb_cursor_close(c);
    }
    uint64_t first_seq = seq;
    unsigned char seqkey[8], kbuf[1024];
    MDB_val empty = {0, NULL};
    const char *p = data, *end = data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        size_t n = (size_t)(line_end - p);
        if (n > 0 && !blank(p, n)) {
            seq++;
            put_be64(seqkey, seq);
            MDB_val k = {8, seqkey}, v = {n, (void *)p};
            check(mdb_put(txn, log, &k, &v, MDB_APPEND), "mdb_put(log)");
            if (indexed) {
                slice f[F_COUNT];
                if (scan_event(p, n, f) != 0 || !f[F_USER].p || !f[F_AT].p) {
                    fprintf(stderr, "raw_lmdb_append: line of seq %llu is not an event\n", (unsigned long long)seq);
                    exit(1);
                }
                MDB_val key;
                key.mv_data = kbuf;
                if ((key.mv_size = make_key(kbuf, sizeof kbuf, f[F_USER], f[F_AT], seqkey)))
                    check(mdb_put(txn, by_user_at, &key, &empty, 0), "mdb_put(by_user_at)");
                if (f[F_SESSION].p) {
                    slice none = {NULL, 0};
                    if ((key.mv_size = make_key(kbuf, sizeof kbuf, f[F_SESSION], none, seqkey)))
                        check(mdb_put(txn, by_session_seq, &key, &empty, 0), "mdb_put(by_session_seq)");
                }
                slice none = {NULL, 0};
                if ((key.mv_size = make_key(kbuf, sizeof kbuf, f[F_AT], none, seqkey)))
                    check(mdb_put(txn, by_at_seq, &key, &empty, 0), "mdb_put(by_at_seq)");
            }
        }
        p = line_end + 1;
    }
    check(mdb_txn_commit(txn), "mdb_txn_commit");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) { fsync(dfd); close(dfd); }
    result r = {now() - start, seq - first_seq, 0};
    MDB_envinfo info;
    MDB_stat st;
    mdb_env_info(env, &info);
    mdb_env_stat(env, &st);
    r.used_bytes = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
    mdb_env_close(env);
    return r;
}

static void print_result(const char *name, result r) {
    printf("\"%s\":{\"seconds\":%.3f,\"events_per_s\":%.0f,\"used_bytes\":%zu}", name, r.seconds,
           r.seconds > 0 ? (double)r.events / r.seconds : 0.0, r.used_bytes);
}

int main(int argc, char **argv) {
    const char *mode = "both", *dir = ".", *file = NULL, *append_to = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) mode = argv[++i];
        else if (strcmp(argv[i], "--append") == 0 && i + 1 < argc) append_to = argv[++i];
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) dir = argv[++i];
        else if (argv[i][0] != '-' && !file) file = argv[i];
        else { file = NULL; break; }
    }
    int do_log = strcmp(mode, "log") == 0 || strcmp(mode, "both") == 0;
    int do_indexed = strcmp(mode, "indexed") == 0 || strcmp(mode, "both") == 0;
    if (!file || (!do_log && !do_indexed)) {
        fprintf(stderr, "usage: raw_lmdb_append [--mode log|indexed|both] [--dir DIR] FILE.ndjson\n"
                        "       raw_lmdb_append --append ENV_DIR FILE.ndjson\n");
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

    if (append_to) {
        result r = run(append_to, data, size, 1, 1);
        printf("{\"file\":\"%s\",\"events\":%llu,\"bytes\":%zu,", file, (unsigned long long)r.events, size);
        print_result("append", r);
        printf("}\n");
        return 0;
    }
    char path[4096];
    result log_r = {0}, idx_r = {0};
    if (do_log) {
        snprintf(path, sizeof path, "%s/raw-log", dir);
        log_r = run(path, data, size, 0, 0);
    }
    if (do_indexed) {
        snprintf(path, sizeof path, "%s/raw-indexed", dir);
        idx_r = run(path, data, size, 1, 0);
    }
    printf("{\"file\":\"%s\",\"events\":%llu,\"bytes\":%zu", file,
           (unsigned long long)(do_log ? log_r.events : idx_r.events), size);
    if (do_log) { printf(","); print_result("log", log_r); }
    if (do_indexed) { printf(","); print_result("indexed", idx_r); }
    printf("}\n");
    return 0;
}
