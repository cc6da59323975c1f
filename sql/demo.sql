-- demo.sql - cachier in the sqlite3 shell. Run from the repository root:
--   make demo        (= sqlite3 /tmp/cachier-demo.db < sql/demo.sql)
-- slow_square(x) and slow_upper(t) come from tests/demo/slowfn.c and sleep
-- 200 ms per call, like a slow API or an expensive computation would.

.load ./cachier
.load tests/demo/slowfn
.headers on
.mode box

.print
.print "== Setup: WAL mode (cheap cache writes), 5 numbers, 3 distinct values"
PRAGMA journal_mode=WAL;
CREATE TABLE nums(x INTEGER);
INSERT INTO nums VALUES (3), (4), (3), (5), (4);

.print
.print "== 1. First run: each distinct x is computed once (3 x 200 ms = ~0.6 s);"
.print "==    the repeated 3 and 4 are already served from the cache."
.timer on
SELECT x, memoize('slow_square', x) AS square FROM nums;
.timer off

.print
.print "== 2. Same query again: every row is a cache hit, no sleeping at all."
.timer on
SELECT x, memoize('slow_square', x) AS square FROM nums;
.timer off

.print
.print "== 3. The cache lives in this database file. Reopen it (a brand new"
.print "==    connection, as another process would): still instant."
.open /tmp/cachier-demo.db
.load ./cachier
.load tests/demo/slowfn
.timer on
SELECT x, memoize('slow_square', x) AS square FROM nums;
.timer off

.print
.print "== 4. Any scalar function works. Keys are exact: 'cachier' and 'Cachier'"
.print "==    are different keys, so 2 computations: ~0.4 s."
.timer on
WITH words(w) AS (VALUES ('cachier'), ('Cachier'), ('cachier'))
SELECT w, memoize('slow_upper', w) AS upper FROM words;
.timer off

.print
.print "== 5. Counters of this connection, opened in step 3 (cachier_stats)."
SELECT fn, hits, misses, computes, entries, round(hit_rate, 2) AS hit_rate,
       round(compute_seconds, 2) AS compute_s, round(saved_seconds, 2) AS saved_s
  FROM cachier_stats;

.print
.print "== 6. What is in the cache (cachier_entries): arguments, value, type."
SELECT fn, args, value, type FROM cachier_entries ORDER BY fn, args;

.print
.print "== 7. Settings per function (cachier_functions): entries of slow_square"
.print "==    now go stale after 30 minutes and are then recomputed."
INSERT INTO cachier_functions(name, stale_after) VALUES ('slow_square', '30 minutes');
SELECT name, stale_after FROM cachier_functions;
SELECT fn, args, round(age, 1) AS age_s, stale FROM cachier_entries
 WHERE fn = 'slow_square' ORDER BY args;

.print
.print "== 8. Per-call options: force a recomputation of one value (~0.2 s)."
.timer on
SELECT memoize_with('{"overwrite_cache": true}', 'slow_square', 5) AS square;
.timer off

.print
.print "== 9. next_time: a stale value is served at once and refreshed later."
.print "==    slow_square's entries go stale after half a second; wait 1 s."
UPDATE cachier_functions SET stale_after = 0.5, next_time = 1 WHERE name = 'slow_square';
.shell sleep 1
.timer on
SELECT memoize('slow_square', 3) AS stale_served;
.timer off
SELECT args, state FROM cachier_entries WHERE fn = 'slow_square' ORDER BY args;
.print "==    cachier_refresh() runs the marked refresh (~0.2 s):"
.timer on
SELECT cachier_refresh('slow_square') AS refreshed;
.timer off
SELECT args, state FROM cachier_entries WHERE fn = 'slow_square' ORDER BY args;

.print
.print "== Done. The cache is in /tmp/cachier-demo.db; DROP TABLE cachier removes it."
