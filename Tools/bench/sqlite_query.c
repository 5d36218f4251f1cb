/* SQLite's side of the query comparison (Tools/bench/compare_sqlite.sh): the questions of
 * `sledger who --at T`, `sessions --at T`, `sessions --at T --user U` and `user U --at T`
 * asked in SQL of the events table that sqlite_import.c makes (one table; indexes on
 * (user, at), (session, at) and (at); `at` in nanoseconds).
 *
 *     sqlite_query DB_FILE who|sessions|user|user-active T_NS [USER]
 *
 * Prints the answer as tab-separated rows (NULL as \N, instants in nanoseconds):
 *
 *   who          user, sessions                            (users with an active session at T)
 *   sessions     user, session                             (every session active at T)
 *   user         session, client, method, login_at, last_extended_at, expires_at,
 *                refresh_count, status, ended_at, end_reason (every session of USER, as of T)
 *   user-active  the same, only the sessions active at T
 *
 * The SQL follows SPEC.md section 5 under the default policy (lifetime 28 days for every
 * client but `code`, whose tokens do not expire; `logout_all` ends the user's sessions
 * active at it, tokens excepted) for a log that obeys the rules, as Tools/generate_events.py
 * writes them: every refresh, logout and token deletion it holds took effect. Under those
 * assumptions a session that is not a token is active at T when it was extended (login or
 * refresh) in (T - 28 days, T], has no logout/token_deleted at or before T, and no
 * logout_all of its user after its login (in (at, seq) order) and at or before T; a token is
 * active when logged in at or before T and not deleted. A log with findings can make
 * these answers differ from sledger's, which applies the rules event by event.
 *
 * The token branch has no index to use (there is none on type or client in the prescribed
 * schema), so `who` and `sessions` scan the table for token logins: that is SQLite's cost
 * with this schema. Opened read-only; the query runs once. Build:
 * cc -O2 -o sqlite_query sqlite_query.c -lsqlite3
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIFE "(28 * 86400 * 1000000000)"

/* Sessions active at :t, all users: extended within the lifetime, or tokens. */
static const char *const active_sql =
    "WITH extended AS ("
    "  SELECT DISTINCT session FROM events"
    "  WHERE at > :t - " LIFE " AND at <= :t AND type IN ('login', 'refresh')),"
    " candidates AS ("
    "  SELECT l.seq, l.at, l.user, l.session, l.client FROM extended x"
    "  JOIN events l ON l.session = x.session AND l.type = 'login' AND l.client <> 'code'"
    "  UNION ALL"
    "  SELECT seq, at, user, session, client FROM events"
    "  WHERE type = 'login' AND client = 'code' AND at <= :t),"
    " active AS ("
    "  SELECT c.user, c.session FROM candidates c"
    "  WHERE c.at <= :t"
    "  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.session = c.session AND e.at <= :t"
    "                  AND e.type IN ('logout', 'token_deleted'))"
    "  AND (c.client = 'code' OR NOT EXISTS ("
    "       SELECT 1 FROM events e WHERE e.user = c.user AND e.at <= :t AND e.type = 'logout_all'"
    "       AND (e.at > c.at OR (e.at = c.at AND e.seq > c.seq)))))";

/* Every session of :u as of :t, with its state and status. */
static const char *const user_sql =
    "WITH s AS ("
    "  SELECT l.seq, l.session, l.client, l.method, l.at AS login_at,"
    "   (SELECT max(e.at) FROM events e WHERE e.session = l.session AND e.at <= :t"
    "    AND e.type IN ('login', 'refresh')) AS ext,"
    "   (SELECT count(*) FROM events e WHERE e.session = l.session AND e.at <= :t"
    "    AND e.type = 'refresh') AS refreshes,"
    "   (SELECT e.at FROM events e WHERE e.session = l.session AND e.at <= :t"
    "    AND e.type IN ('logout', 'token_deleted') ORDER BY e.at, e.seq LIMIT 1) AS own_at,"
    "   (SELECT e.type FROM events e WHERE e.session = l.session AND e.at <= :t"
    "    AND e.type IN ('logout', 'token_deleted') ORDER BY e.at, e.seq LIMIT 1) AS own_type,"
    "   CASE WHEN l.client = 'code' THEN NULL ELSE"
    "   (SELECT min(e.at) FROM events e WHERE e.user = l.user AND e.at <= :t AND e.type = 'logout_all'"
    "    AND (e.at > l.at OR (e.at = l.at AND e.seq > l.seq))) END AS all_at"
    "  FROM events l WHERE l.user = :u AND l.type = 'login' AND l.at <= :t),"
    /* A logout_all ends the session only if it was still active then (not yet expired). */
    " t AS (SELECT *, CASE WHEN all_at IS NOT NULL AND ext + " LIFE " > all_at THEN all_at END AS all_eff FROM s),"
    " r AS (SELECT seq, session, client, method, login_at, ext,"
    "  CASE WHEN client = 'code' THEN NULL ELSE ext + " LIFE " END AS expires_at, refreshes,"
    "  CASE WHEN own_at IS NOT NULL AND (all_eff IS NULL OR own_at <= all_eff) THEN own_at ELSE all_eff END AS ended_at,"
    "  CASE WHEN own_at IS NOT NULL AND (all_eff IS NULL OR own_at <= all_eff) THEN own_type"
    "       WHEN all_eff IS NOT NULL THEN 'logout_all' END AS end_reason FROM t)"
    " SELECT session, client, method, login_at, ext, expires_at, refreshes,"
    "  CASE WHEN ended_at IS NOT NULL THEN end_reason"
    "       WHEN expires_at IS NOT NULL AND expires_at <= :t THEN 'expired' ELSE 'active' END AS status,"
    "  ended_at, end_reason FROM r";

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: sqlite_query DB_FILE who|sessions|user|user-active T_NS [USER]\n");
        return 2;
    }
    const char *kind = argv[2];
    char *sql;
    int per_user = strcmp(kind, "user") == 0 || strcmp(kind, "user-active") == 0;
    if (per_user && argc != 5) {
        fprintf(stderr, "sqlite_query: %s needs a USER\n", kind);
        return 2;
    }
    if (strcmp(kind, "who") == 0) {
        sql = sqlite3_mprintf("%s SELECT user, count(*) FROM active GROUP BY user ORDER BY user", active_sql);
    } else if (strcmp(kind, "sessions") == 0) {
        /* No ORDER BY: with one, SQLite walks the whole (user, at) index for the tokens to
         * save a sort, several times slower; the driver sorts both answers to compare them. */
        sql = sqlite3_mprintf("%s SELECT user, session FROM active", active_sql);
    } else if (strcmp(kind, "user") == 0) {
        sql = sqlite3_mprintf("SELECT * FROM (%s) ORDER BY login_at, session", user_sql);
    } else if (strcmp(kind, "user-active") == 0) {
        sql = sqlite3_mprintf("SELECT * FROM (%s) WHERE status = 'active' ORDER BY login_at, session", user_sql);
    } else {
        fprintf(stderr, "sqlite_query: unknown question %s\n", kind);
        return 2;
    }
    if (getenv("SQLITE_QUERY_PLAN")) { /* print SQLite's plan instead of the answer */
        char *plan = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
        sqlite3_free(sql);
        sql = plan;
    }
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite_query: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":t"), strtoll(argv[3], NULL, 10));
    if (per_user) sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":u"), argv[4], -1, SQLITE_STATIC);
    int rc, columns = sqlite3_column_count(st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < columns; i++) {
            const unsigned char *v = sqlite3_column_text(st, i);
            fputs(v ? (const char *)v : "\\N", stdout);
            putchar(i + 1 < columns ? '\t' : '\n');
        }
    }
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "sqlite_query: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_finalize(st);
    sqlite3_free(sql);
    sqlite3_close(db);
    return 0;
}
