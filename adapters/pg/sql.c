/*
 * Every statement the adapter prepares, with '@' standing for the schema
 * (a plain lowercase identifier, checked at open) and the types of its
 * parameters: i = int8, t = text, b = bytea. All parameters and results
 * travel in binary, and every integer column is bigint, so one decoder
 * reads them all.
 */
#include "sql.h"

const struct orderly__pg_sql orderly__pg_sql[PG_COUNT] = {
    [PG_LOAD] = { "SELECT data, version FROM @.records WHERE key = $1", "t" },
    [PG_INSERT_RECORD] = { "INSERT INTO @.records (key, version, data) VALUES ($1, 1, $2)"
                           " ON CONFLICT (key) DO NOTHING",
                           "tb" },
    /* Another instance's uncommitted save of the same key holds the row:
     * this UPDATE waits for it, then re-reads the version and matches
     * nothing, which is the ECONFLICT of a lost race. */
    [PG_UPDATE_RECORD] = { "UPDATE @.records SET data = $2, version = version + 1"
                           " WHERE key = $1 AND version = $3",
                           "tbi" },
    [PG_RECORD_VERSION] = { "SELECT version FROM @.records WHERE key = $1", "t" },
    [PG_SCAN_RECORDS] = { "SELECT key, data, version FROM @.records WHERE key > $1"
                          " ORDER BY key LIMIT $2",
                          "ti" },
    [PG_PUSH] = { "INSERT INTO @.items (queue, id, grp, kind, state, attempts, created, due,"
                  " lease_token, lease_until, payload) VALUES ($1, CASE $1"
                  " WHEN 1 THEN nextval('@.ids_1') WHEN 2 THEN nextval('@.ids_2')"
                  " ELSE nextval('@.ids_3') END, $2, $3, 0, 0, $4, $5, 0, 0, $6) RETURNING id",
                  "itiiib" },
    /*
     * One round of a claim, in one statement. cand reads up to $3
     * claimable rows past $8 in id order; pick keeps the first $4 whose
     * group has no older pending row outside cand (or leased under this
     * claim's token $7, 0 before the first round); lck locks those, skipping
     * rows another transaction holds and re-checking each against its
     * latest committed version, so only rows this claim takes are locked.
     * ok drops a locked row whose older group sibling was skipped: a row
     * held elsewhere keeps its group's younger rows waiting, across every
     * instance. The token is drawn from the sequence only when ok is not
     * empty. The last row reports where the next round starts and the
     * sizes of cand and pick, so the caller knows whether one can find more.
     * NOT IN over a CTE is a hashed lookup, so the checks stay linear in
     * the window. lck tests "state + 0", which no partial index's
     * predicate covers, so the rows are fetched by primary key, one per
     * picked id: when the statistics undercount the table (a queue filled
     * since the last ANALYZE) the planner otherwise scanned every pending
     * row through items_group and joined it against pick, 460 ms for a
     * claim of 64 out of 20,000 rows instead of 2 ms.
     * $1 queue, $2 now, $3 window, $4 max, $5 lease_until,
     * $6 max_attempts, $7 token so far, $8 after id.
     */
    [PG_CLAIM] = { "WITH cand AS MATERIALIZED ("
                   "  SELECT id, grp FROM @.items"
                   "  WHERE queue = $1 AND id > $8 AND state IN (0, 1)"
                   "    AND ((state = 0 AND due <= $2) OR (state = 1 AND lease_until <= $2))"
                   "  ORDER BY id LIMIT $3),"
                   " pick AS MATERIALIZED ("
                   "  SELECT c.id FROM cand c"
                   "  WHERE c.grp = '' OR NOT EXISTS ("
                   "    SELECT 1 FROM @.items g"
                   "    WHERE g.queue = $1 AND g.grp = c.grp AND g.id < c.id AND g.state IN (0, 1)"
                   "      AND NOT (g.state = 1 AND $7 > 0 AND g.lease_token = $7)"
                   "      AND g.id NOT IN (SELECT id FROM cand))"
                   "  ORDER BY c.id LIMIT $4),"
                   " lck AS MATERIALIZED ("
                   "  SELECT i.id, i.grp, i.state FROM @.items i"
                   "  WHERE i.queue = $1 AND i.id IN (SELECT id FROM pick)"
                   "    AND ((i.state + 0 = 0 AND i.due <= $2)"
                   "      OR (i.state + 0 = 1 AND i.lease_until <= $2))"
                   "  ORDER BY i.id FOR UPDATE SKIP LOCKED),"
                   " ok AS MATERIALIZED ("
                   "  SELECT l.id, l.state FROM lck l"
                   "  WHERE l.grp = '' OR NOT EXISTS ("
                   "    SELECT 1 FROM @.items g"
                   "    WHERE g.queue = $1 AND g.grp = l.grp AND g.id < l.id AND g.state IN (0, 1)"
                   "      AND NOT (g.state = 1 AND $7 > 0 AND g.lease_token = $7)"
                   "      AND g.id NOT IN (SELECT id FROM lck))),"
                   " tok AS MATERIALIZED ("
                   "  SELECT CASE WHEN $7 > 0 THEN $7 ELSE nextval('@.tokens') END AS t"
                   "  WHERE EXISTS (SELECT 1 FROM ok)),"
                   " up AS ("
                   "  UPDATE @.items i SET state = 1, lease_token = tok.t, lease_until = $5,"
                   "    attempts = CASE WHEN i.attempts < $6 THEN i.attempts + 1"
                   "               ELSE i.attempts END"
                   "  FROM ok, tok WHERE i.queue = $1 AND i.id = ok.id"
                   "  RETURNING i.id, i.grp, i.kind, ok.state, i.attempts, i.payload, i.created,"
                   "    i.due, i.lease_token, i.lease_until)"
                   " SELECT 0::bigint AS mark, * FROM up"
                   " UNION ALL"
                   " SELECT 1, CASE WHEN (SELECT count(*) FROM pick) = $4"
                   "   THEN (SELECT max(id) FROM pick) ELSE (SELECT coalesce(max(id), 0) FROM cand)"
                   "   END, '', 0, 0, (SELECT count(*) FROM cand), ''::bytea, 0, 0, 0,"
                   "   (SELECT count(*) FROM pick)"
                   " ORDER BY 1, 2",
                   "iiiiiiii" },
    [PG_GET] = { "SELECT id, grp, kind, state, attempts, payload, created, due, lease_token,"
                 " lease_until FROM @.items WHERE queue = $1 AND id = $2",
                 "ii" },
    [PG_FINISH] = { "UPDATE @.items SET state = $3, due = $4, attempts = $6"
                    " WHERE queue = $1 AND id = $2 AND state = 1 AND lease_token = $5",
                    "iiiiii" },
    [PG_EXISTS] = { "SELECT 1 FROM @.items WHERE queue = $1 AND id = $2", "ii" },
    [PG_RESET] = { "UPDATE @.items SET state = $3, due = $4,"
                   " attempts = CASE WHEN $3 = 0 THEN 0 ELSE attempts END"
                   " WHERE queue = $1 AND id = $2",
                   "iiii" },
    [PG_SCAN_ANY] = { "SELECT id, grp, kind, state, attempts, payload, created, due, lease_token,"
                      " lease_until FROM @.items WHERE queue = $1 AND id > $2"
                      " ORDER BY id LIMIT $3",
                      "iii" },
    [PG_SCAN_STATE] = { "SELECT id, grp, kind, state, attempts, payload, created, due,"
                        " lease_token, lease_until FROM @.items"
                        " WHERE queue = $1 AND id > $2 AND state = $4 ORDER BY id LIMIT $3",
                        "iiii" },
    /* Oldest finish first, bounded. No claim ever wants a DONE row, so a
     * purge never blocks a claim; two purges at once wait on each other's
     * rows rather than skip them, so a count below max means done. */
    [PG_PURGE] = { "DELETE FROM @.items WHERE queue = $1 AND id IN ("
                   " SELECT id FROM @.items WHERE queue = $1 AND state = 2 AND due <= $2"
                   " ORDER BY due LIMIT $3)",
                   "iii" },
    [PG_STATS] = { "SELECT count(*) FILTER (WHERE state = 0),"
                   " count(*) FILTER (WHERE state = 0 AND due <= $2),"
                   " count(*) FILTER (WHERE state = 1 AND lease_until > $2),"
                   " count(*) FILTER (WHERE state = 1 AND lease_until <= $2),"
                   " count(*) FILTER (WHERE state = 2),"
                   " count(*) FILTER (WHERE state = 3),"
                   " coalesce(min(created) FILTER (WHERE state IN (0, 1)), 0)"
                   " FROM @.items WHERE queue = $1",
                   "ii" },
    /* The earliest claimable instant outside one claim's leases ($2; 0,
     * which no claim is issued, leaves out nothing). Each arm reads one
     * (queue, state) range of items_state: the READY one stops at its
     * first entry, the LEASED one (few rows) is filtered row by row. */
    [PG_NEXT_DUE_EXCEPT] = { "SELECT (SELECT min(due) FROM @.items WHERE queue = $1 AND state = 0),"
                             " (SELECT min(lease_until) FROM @.items"
                             " WHERE queue = $1 AND state = 1 AND lease_token <> $2)",
                             "ii" },
    /* A key is held, from the first idem call on it to the end of the
     * transaction, by a transaction-scoped advisory lock on a hash of the
     * schema and key: a second instance fails to take it at once
     * (EINFLIGHT) instead of waiting on the uncommitted row. */
    [PG_IDEM_LOCK] = { "SELECT pg_try_advisory_xact_lock(hashtextextended('@:' || $1, 0))", "t" },
    [PG_IDEM_GET] = { "SELECT fingerprint, expires, result FROM @.idem"
                      " WHERE key = $1 AND expires > $2",
                      "ti" },
    /* Lock and insert-if-absent in one statement: the first column says
     * whether the lock was taken, the second whether a row was written (an
     * expired mark counts as absent and is replaced). */
    [PG_IDEM_PUT] = { "WITH l AS MATERIALIZED ("
                      "  SELECT pg_try_advisory_xact_lock(hashtextextended('@:' || $1, 0)) AS ok),"
                      " ins AS ("
                      "  INSERT INTO @.idem (key, fingerprint, expires, result)"
                      "  SELECT $1, $2, $3, $4 FROM l WHERE l.ok"
                      "  ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint,"
                      "    expires = excluded.expires, result = excluded.result"
                      "  WHERE idem.expires <= $5 RETURNING 1)"
                      " SELECT (SELECT ok FROM l), (SELECT count(*) FROM ins)",
                      "tbibi" },
    [PG_IDEM_PURGE] = { "DELETE FROM @.idem WHERE key IN ("
                        " SELECT key FROM @.idem WHERE expires <= $1 ORDER BY expires LIMIT $2)",
                        "ii" },
};
