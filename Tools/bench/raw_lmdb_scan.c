/*
 * The floor for a replay: read a sledger ledger in (at, seq) order with raw LMDB and do
 * nothing with what is read but touch every byte of each record (a sum), so that the
 * difference to `sledger replay` is decoding, checking and the fold itself.
 *
 *     raw_lmdb_scan LEDGER_DIR
 *
 * Walks the log in seq order with one cursor, as sledger does (the few events the lags index
 * lists are merged in by sledger; this floor leaves them where they are).
 * Prints one JSON line: {"events":N,"seconds":S,"events_per_s":R,"checksum":X}
 * Build: cc -O2 -o raw_lmdb_scan raw_lmdb_scan.c -llmdb
 */
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(call) do { int rc_ = (call); if (rc_) { fprintf(stderr, "%s: %s\n", #call, mdb_strerror(rc_)); exit(1); } } while (0)

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: raw_lmdb_scan LEDGER_DIR\n"); return 2; }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    MDB_env *env; MDB_txn *txn; MDB_dbi log; MDB_cursor *cursor;
    CHECK(mdb_env_create(&env));
    CHECK(mdb_env_set_maxdbs(env, 16));
    CHECK(mdb_env_set_mapsize(env, 0));
    CHECK(mdb_env_open(env, argv[1], MDB_RDONLY | MDB_NOTLS, 0600));
    CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
    CHECK(mdb_dbi_open(txn, "log", 0, &log));
    CHECK(mdb_cursor_open(txn, log, &cursor));
    MDB_val k, v;
    uint64_t events = 0, sum = 0;
    int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST);
    while (rc == 0) {
        const unsigned char *p = v.mv_data;
        for (size_t i = 0; i < v.mv_size; i++) sum += p[i];
        events++;
        rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
    }
    if (rc != MDB_NOTFOUND) CHECK(rc);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"events\":%llu,\"seconds\":%.3f,\"events_per_s\":%.0f,\"checksum\":%llu}\n",
           (unsigned long long)events, s, events / s, (unsigned long long)sum);
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return 0;
}
