/*
** fuzz_sql.c - randomized robustness test of cachier through SQL.
**
**   fuzz_sql EXTENSION.so [ITERATIONS] [SEED]
**
** Built with ASan+UBSan by "make fuzz" and run by CI for a fixed number of
** iterations with a fixed seed (the same steps each run; what they meet
** still depends on the clock and on Redis' timing). Each iteration
** does one random thing to a cache that holds a few entries:
**   - corrupts stored rows (key bytes, value, subtype, created) as a broken
**     disk or a hostile writer might, then reads them back through
**     memoize() and cachier_entries, which must never crash or serve a
**     value for another key;
**   - feeds random text to memoize_with() options, cachier_functions
**     durations and sizes, and random function names to memoize();
**   - corrupts the refresh queue (refresh, attempts, retry_at, args),
**     turns next_time on with tiny stale_after values and small size
**     bounds, and runs cachier_refresh() and cachier_cleanup_stale() on
**     what is there;
**   - moves the function between the main and memory stores, and
**     corrupts the memory store's rows through a plain connection to it
**     (the memdb database "/cachier-memory"), with a random hot_bytes;
**   - with CACHIER_REDIS_PORT set (make fuzz runs it under
**     tests/with_redis.sh), moves it to a Redis store too, damages its
**     entries there (truncated, extended, header bytes changed, slots
**     moved, fields renamed, buckets replaced by strings) and kills
**     cachier's Redis connections (CLIENT KILL), so reconnections, the
**     hot tier's invalidations and the decoding of damaged entries are
**     exercised.
** Exits non-zero if memoize() ever returns a value that differs from what
** the function itself returns.
*/
#include <hiredis/hiredis.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long rngState;

static unsigned rnd(void){
  rngState = rngState*6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)(rngState >> 33);
}

/* Random printable-ish text of up to n bytes, biased toward syntax the
** parsers care about. */
static void randomText(char *z, int n){
  static const char *const aPiece[] = {
    "{", "}", "\"", ":", ",", "[", "]", "1", "-1", "0.5", "1e999", "true",
    "false", "null", "skip_cache", "max_age", "stale_after", "allow_none",
    " ", "minutes", "ms", "KB", "never", "none", "'", "\\", "\x01", "9",
    "verbose", "next_time", "hours", "GiB", "abc", "-", ".", "e"
  };
  int len = (int)(rnd() % (unsigned)n);
  int i = 0;
  while( i<len ){
    const char *p = aPiece[rnd() % (sizeof(aPiece)/sizeof(aPiece[0]))];
    int m = (int)strlen(p);
    if( i+m>=n ) break;
    memcpy(z+i, p, m);
    i += m;
  }
  z[i] = 0;
}

static int nMismatch = 0;

/* Damage the entries of the Redis store (prefix "fuzz"), seeded by seed.
** A byte changed in place (r 3 and 9) is one of the header's 44
** (redis_format.c), never the value's own bytes, and a type byte is made
** one no value has: a value's bytes, or its type turned into another of
** the same size (an INTEGER's 8 bytes read as a REAL), changed in place
** make a well-formed entry of another value, which is data like any entry
** a writer chose (docs/security.md, "Entries are data from the file") and
** which no store can tell from the one it wrote. */
static const char zDamage[] =
  "math.randomseed(tonumber(ARGV[1]))\n"
  "local function poke(v, p)\n"
  "  local b = math.random(0, 255)\n"
  "  if p == 4 then b = math.random(4, 255) if b == 4 then b = 0 end end\n"
  "  return string.sub(v, 1, p - 1) .. string.char(b) .. string.sub(v, p + 1)\n"
  "end\n"
  "local n = 0\n"
  "for _, k in ipairs(redis.call('KEYS', 'fuzz:*')) do\n"
  "  if redis.call('TYPE', k).ok == 'hash' and math.random(3) == 1 then\n"
  "    local kv = redis.call('HGETALL', k)\n"
  "    for i = 1, #kv, 2 do\n"
  "      local f, v, r = kv[i], kv[i+1], math.random(9)\n"
  "      local nv = nil\n"
  "      if r == 1 then nv = string.sub(v, 1, math.random(0, #v))\n"
  "      elseif r == 2 then nv = v .. string.char(math.random(0, 255))\n"
  "      elseif r == 3 then\n"
  "        nv = poke(v, math.random(1, math.min(math.max(#v, 1), 44)))\n"
  "      elseif r == 4 then nv = ''\n"
  "      elseif r == 5 then nv = string.sub(v, 1, 2) .."
  " string.char(math.random(0, 3)) .. string.sub(v, 4)\n"
  "      elseif r == 6 then redis.call('HDEL', k, f)\n"
  "      elseif r == 7 then redis.call('HDEL', k, f)"
  " redis.call('HSET', k, f .. string.char(math.random(128, 255)), v)\n"
  "      elseif r == 8 then redis.call('DEL', k) redis.call('SET', k, v)"
  " break\n"
  "      else nv = poke(v, math.random(4, 44))\n"
  "      end\n"
  "      if nv then redis.call('HSET', k, f, nv) end\n"
  "      n = n + 1\n"
  "    end\n"
  "  end\n"
  "end\n"
  "return n\n";

static void redisDamage(redisContext *c){
  redisReply *pReply;
  if( c==0 ) return;
  pReply = redisCommand(c, "EVAL %s 0 %u", zDamage, rnd());
  if( pReply==0 ){
    fprintf(stderr, "redis: %s\n", c->errstr);
    exit(2);
  }
  if( pReply->type==REDIS_REPLY_ERROR ){
    fprintf(stderr, "redis damage script: %s\n", pReply->str);
    exit(2);
  }
  freeReplyObject(pReply);
}

/* Drop cachier's connections to Redis (the fuzzer's own stays). */
static void redisKill(redisContext *c){
  redisReply *pReply;
  if( c==0 ) return;
  pReply = redisCommand(c, (rnd()%2) ? "CLIENT KILL TYPE normal SKIPME yes"
                                     : "CLIENT KILL TYPE pubsub");
  if( pReply ) freeReplyObject(pReply);
}

/* memoize('ifnull', X, NULL) must equal X, whatever the store holds. */
static void checkIdentity(sqlite3 *db, sqlite3_int64 x){
  sqlite3_stmt *pStmt = 0;
  if( sqlite3_prepare_v2(db, "SELECT memoize('ifnull', ?1, NULL) IS ?1",
                         -1, &pStmt, 0)!=SQLITE_OK ) return;
  sqlite3_bind_int64(pStmt, 1, x);
  if( sqlite3_step(pStmt)==SQLITE_ROW && sqlite3_column_int(pStmt, 0)!=1 ){
    sqlite3_stmt *pShow = 0;
    fprintf(stderr, "MISMATCH: memoize('ifnull', %lld) served another value",
            x);
    /* What it serves now (a value kept in memory may since have gone). */
    if( sqlite3_prepare_v2(db, "SELECT typeof(v), quote(v) FROM"
                           " (SELECT memoize('ifnull', ?1, NULL) AS v)",
                           -1, &pShow, 0)==SQLITE_OK ){
      sqlite3_bind_int64(pShow, 1, x);
      if( sqlite3_step(pShow)==SQLITE_ROW ){
        fprintf(stderr, " (now: %s %s)", sqlite3_column_text(pShow, 0),
                sqlite3_column_text(pShow, 1));
      }
    }
    sqlite3_finalize(pShow);
    fprintf(stderr, "\n");
    nMismatch++;
  }
  sqlite3_finalize(pStmt);
}

static void execIgnore(sqlite3 *db, const char *zSql){
  sqlite3_exec(db, zSql, 0, 0, 0);
}

/* Step zSql with one text parameter to the end, ignoring errors. */
static void runWithText(sqlite3 *db, const char *zSql, const char *zText){
  sqlite3_stmt *pStmt = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0)!=SQLITE_OK ) return;
  sqlite3_bind_text(pStmt, 1, zText, -1, SQLITE_TRANSIENT);
  while( sqlite3_step(pStmt)==SQLITE_ROW ){
    int i;
    for(i=0; i<sqlite3_column_count(pStmt); i++){
      (void)sqlite3_column_text(pStmt, i);
    }
  }
  sqlite3_finalize(pStmt);
}

int main(int argc, char **argv){
  sqlite3 *db = 0, *memDb = 0;
  char *zErr = 0;
  const char *zPort = getenv("CACHIER_REDIS_PORT");
  redisContext *pRedis = 0;
  char zStoreSql[400];
  long nIter = argc>2 ? atol(argv[2]) : 20000;
  long i;
  char zText[200];
  if( argc<2 ){
    fprintf(stderr, "usage: %s EXTENSION.so [ITERATIONS] [SEED]\n", argv[0]);
    return 2;
  }
  rngState = argc>3 ? strtoull(argv[3], 0, 10) : 20261125;
  if( zPort ){
    pRedis = redisConnect("127.0.0.1", atoi(zPort));
    if( pRedis==0 || pRedis->err ){
      fprintf(stderr, "cannot connect to redis on port %s\n", zPort);
      return 2;
    }
  }
  /* The stores case 13 moves the function between. */
  snprintf(zStoreSql, sizeof(zStoreSql),
      "INSERT OR REPLACE INTO cachier_functions(name, store)"
      " VALUES ('ifnull', CASE abs(random()) %% %d WHEN 0 THEN 'memory'"
      " WHEN 1 THEN 'main' ELSE"
      " 'redis://127.0.0.1:%s/0?prefix=fuzz&retry_ms=0&timeout_ms=2000' END);"
      " INSERT OR REPLACE INTO cachier_functions(name,"
      " hot_bytes) VALUES ('*', abs(random()) %% 3 * 2000)",
      zPort ? 3 : 2, zPort ? zPort : "0");
  /* SQL's random() from the same seed too, so a run takes the same steps
  ** (not the same path: stale_after of a microsecond makes the clock
  ** matter, and connections killed make Redis' timing matter). */
  sqlite3_test_control(SQLITE_TESTCTRL_PRNG_SEED, (int)(rngState & 0x7fffffff),
                       (sqlite3*)0);
  sqlite3_open(":memory:", &db);
  sqlite3_enable_load_extension(db, 1);
  if( sqlite3_load_extension(db, argv[1], "sqlite3_cachier_init", &zErr) ){
    fprintf(stderr, "cannot load %s: %s\n", argv[1], zErr);
    return 2;
  }
  for(i=0; i<nIter; i++){
    sqlite3_int64 x = (sqlite3_int64)(rnd() % 64);
    switch( rnd() % (pRedis ? 18 : 16) ){
      case 0: case 1: case 2:
        checkIdentity(db, x);
        break;
      case 3:
        execIgnore(db, "UPDATE cachier_data SET k = substr(k, 1, abs(random())"
                       " % (length(k)+1)) || randomblob(abs(random()) % 4)"
                       " WHERE abs(random()) % 4 = 0");
        break;
      case 4:
        execIgnore(db, "UPDATE cachier_data SET subtype = random() "
                       "WHERE abs(random()) % 4 = 0");
        break;
      case 5:
        execIgnore(db, "UPDATE cachier_data SET created = CASE abs(random())"
                       " % 3 WHEN 0 THEN 'x' WHEN 1 THEN -1e300 ELSE NULL END"
                       " WHERE abs(random()) % 4 = 0");
        break;
      case 6:
        execIgnore(db, "SELECT * FROM cachier_entries; "
                       "SELECT * FROM cachier_stats; "
                       "SELECT * FROM cachier_functions");
        break;
      case 7:
        randomText(zText, sizeof(zText));
        runWithText(db, "SELECT memoize_with(?1, 'abs', -3)", zText);
        break;
      case 8:
        randomText(zText, sizeof(zText));
        runWithText(db, "INSERT OR REPLACE INTO cachier_functions"
                        "(name, stale_after, entry_size_limit) VALUES"
                        " ('ifnull', ?1, ?1)", zText);
        break;
      case 9:
        randomText(zText, 24);
        runWithText(db, "SELECT memoize(?1, 1)", zText);
        break;
      case 10:
        execIgnore(db, "UPDATE cachier_data SET v = randomblob(3), "
                       "k = randomblob(abs(random()) % 12)"
                       " WHERE abs(random()) % 8 = 0");
        break;
      case 11:
        execIgnore(db, "UPDATE cachier_data SET refresh = abs(random()) % 3,"
                       " attempts = random(), retry_at = CASE abs(random()) % 3"
                       " WHEN 0 THEN NULL WHEN 1 THEN 'x' ELSE random() END,"
                       " args = CASE abs(random()) % 2 WHEN 0 THEN NULL"
                       " ELSE randomblob(abs(random()) % 16) END"
                       " WHERE abs(random()) % 3 = 0");
        break;
      case 12:
        execIgnore(db, "INSERT OR REPLACE INTO cachier_functions(name,"
                       " stale_after, next_time, stale_if_error, cleanup_stale,"
                       " max_entries, max_bytes, eviction)"
                       " VALUES ('ifnull', abs(random()) % 3 * 0.000001, 1,"
                       " 'never', abs(random()) % 2, abs(random()) % 20,"
                       " abs(random()) % 500, CASE abs(random()) % 2"
                       " WHEN 0 THEN 'lru' ELSE 'cost' END);"
                       " SELECT cachier_refresh(); SELECT cachier_refresh('ifnull', 0.001);"
                       " SELECT cachier_cleanup_stale(abs(random()) % 2"
                       " ? 'ifnull' : NULL);");
        break;
      case 13:
        execIgnore(db, zStoreSql);
        break;
      case 14:
        /* The memory store lives while a connection has it open: this
        ** one, opened once the extension has created it. */
        if( memDb==0 ){
          sqlite3_open_v2("file:/cachier-memory?vfs=memdb", &memDb,
                          SQLITE_OPEN_READWRITE|SQLITE_OPEN_URI, 0);
        }
        execIgnore(memDb, (rnd()%2)
            ? "UPDATE cachier_data SET k = substr(k, 1, abs(random())"
              " % (length(k)+1)) || randomblob(abs(random()) % 4),"
              " subtype = CASE abs(random()) % 2 WHEN 0 THEN subtype"
              " ELSE random() END WHERE abs(random()) % 4 = 0"
            : "UPDATE cachier_data SET v = randomblob(3), created = 'x',"
              " k = randomblob(abs(random()) % 12)"
              " WHERE abs(random()) % 4 = 0");
        break;
      case 16:
        redisDamage(pRedis);
        break;
      case 17:
        redisKill(pRedis);
        break;
      default:
        execIgnore(db, "DELETE FROM cachier_entries WHERE abs(random()) % 5 = 0;"
                       " DELETE FROM cachier_functions;");
        break;
    }
  }
  sqlite3_close(memDb);
  if( pRedis ) redisFree(pRedis);
  if( sqlite3_close(db)!=SQLITE_OK ){
    fprintf(stderr, "sqlite3_close failed: %s\n", sqlite3_errmsg(db));
    return 1;
  }
  printf("fuzz_sql: %ld iterations%s, %d mismatches\n", nIter,
         zPort ? " (with a Redis store)" : "", nMismatch);
  return nMismatch ? 1 : 0;
}
