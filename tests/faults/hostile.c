/*
** hostile.c - hostile-database corpus for cachier (fault campaign 4).
**
**   hostile EXTENSION.so OUTDIR [NAME]
**
** (NAME: run only the crafted database of that name, e.g. fcs_huge.)
**
** Generates a corpus of crafted databases in OUTDIR/corpus: a base
** database written through the extension (plain, compressed and
** dictionary-compressed entries, a pending next_time refresh, settings),
** then one copy per damage, made with plain SQL (or, for zstd frame
** headers, by rewriting the bytes): keys with huge or overlong varints,
** truncated keys, unknown tags; bad codecs and subtypes; truncated and
** garbage zstd frames, frames whose content size lies (low, huge); huge
** declared sizes; bad cachier_config values (durations, sizes, levels,
** INT_MAX attempts, hash_func names such as 'load_extension' and
** 'CACHIER_CLEAR', stores naming other paths, a Redis server on a
** loopback port this driver listens on, and 127.0.0.1:1); damaged
** dictionaries; triggers on cachier_data and cachier_config; extra and
** missing columns; a newer and an older schema version; views, CHECK
** constraints and generated columns calling cachier functions.
**
** Then each file, with trusted_schema off and on, is copied into a fresh
** directory and opened there with the extension, in a child that runs
** the listing, memoize (hits and a miss), stats, settings, refresh,
** cleanup, every view, and an insert into every table. Checks:
**   - no crash (ASan+UBSan) and no hang: 10 s of CPU time (a loop), or
**     60 s of wall time (a wait; on a loaded machine a run's few seconds
**     of CPU time stretched past a 10 s wall-clock bound);
**   - bounded allocation: SQLite's allocator (which cachier uses) never
**     holds more than 64 MB (allocations past it are refused and counted);
**   - no outside effect: no file appears outside the run's directory
**     (the existing directory the crafted stores name by absolute path
**     stays empty, the directory around the run's holds only it), nothing connects to the listening port,
**     and no trigger, view or constraint of the file ran a cachier
**     function (they write to table "evil", which must stay empty).
** Errors from SQL are expected and fine. Prints one FAIL line per failed
** run and a summary; exits 1 on failure.
*/
#define _DEFAULT_SOURCE 1
#include "faults.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#define HANG_CPU_SECONDS  10
#define HANG_WALL_SECONDS 60
#define ALLOC_BOUND  (64*1024*1024)
#define OUTSIDE_ABS  "/tmp/cachier-hostile-outside"

typedef struct Damage Damage;
struct Damage {
  const char *zName;
  const char *zSql;    /* run on a copy of the base, with plain SQLite */
};

/* Every entry of tv has key 'tv' NUL varint(1) then one argument. */
#define TV1 "X'74760001'"
static const Damage aDamage[] = {
  { "base", "SELECT 1" },
  /* Keys. */
  { "k_huge_nargs", "UPDATE cachier_data SET k = X'747600FFFFFFFFFFFFFFFFFF01'" },
  { "k_huge_text_len", "UPDATE cachier_data SET k = " TV1 " || X'03FFFFFFFFFFFFFFFF7F41'" },
  { "k_huge_blob_len", "UPDATE cachier_data SET k = " TV1 " || X'04FFFFFFFF0F41'" },
  { "k_overlong_varint", "UPDATE cachier_data SET k = " TV1 " || X'0380808080808080808080808001'" },
  { "k_truncated", "UPDATE cachier_data SET k = substr(k, 1, length(k)-3)" },
  { "k_truncated_int", "UPDATE cachier_data SET k = " TV1 " || X'010000'" },
  { "k_unknown_tag", "UPDATE cachier_data SET k = " TV1 " || X'09'" },
  { "k_subtype_missing", "UPDATE cachier_data SET k = " TV1 " || X'83'" },
  { "k_many_args", "UPDATE cachier_data SET k = X'74760080' || zeroblob(1)" },
  { "k_empty", "UPDATE cachier_data SET k = X''" },
  { "k_no_nul", "UPDATE cachier_data SET k = X'7476'" },
  { "k_integer", "UPDATE cachier_data SET k = 12345" },
  { "k_text", "UPDATE cachier_data SET k = 'tv'" },
  { "k_hashfunc_mark_only", "UPDATE cachier_data SET k = X'747600FF'" },
  { "k_big", "UPDATE cachier_data SET k = " TV1 " || X'04' || X'8080C000' || zeroblob(1048576)" },
  /* Subtype column and codecs. */
  { "sub_negative", "UPDATE cachier_data SET subtype = -1" },
  { "sub_max", "UPDATE cachier_data SET subtype = 9223372036854775807" },
  { "sub_text", "UPDATE cachier_data SET subtype = 'zstd'" },
  { "sub_real", "UPDATE cachier_data SET subtype = 1e300" },
  { "codec_unknown_kind", "UPDATE cachier_data SET subtype = (subtype & 255) | (3 << 8)" },
  { "codec_zstd_plain_value", "UPDATE cachier_data SET subtype = (subtype & 255) | (1 << 8)" },
  { "codec_missing_dict", "UPDATE cachier_data SET subtype = (subtype & 255) | ((1 | (999 << 2)) << 8)" },
  { "codec_max_dict", "UPDATE cachier_data SET subtype = (subtype & 255) | ((2 | (1048575 << 2)) << 8)" },
  { "codec_integer_value", "UPDATE cachier_data SET v = 42 WHERE subtype > 255" },
  { "codec_null_value", "UPDATE cachier_data SET v = NULL WHERE subtype > 255" },
  /* Frames. */
  { "zstd_truncated", "UPDATE cachier_data SET v = substr(v, 1, length(v)/2) WHERE subtype > 255" },
  { "zstd_header_only", "UPDATE cachier_data SET v = substr(v, 1, 6) WHERE subtype > 255" },
  { "zstd_garbage", "UPDATE cachier_data SET v = substr(v, 1, 12) || randomblob(200) WHERE subtype > 255" },
  { "zstd_random", "UPDATE cachier_data SET v = randomblob(300) WHERE subtype > 255" },
  { "zstd_two_frames", "UPDATE cachier_data SET v = v || v WHERE subtype > 255" },
  { "zstd_skippable", "UPDATE cachier_data SET v = X'502A4D1808000000' || zeroblob(8) WHERE subtype > 255" },
  { "fcs_low", "" },                            /* C: content size 1 */
  { "fcs_high", "" },                           /* C: content size + 1000 */
  { "fcs_huge", "" },                           /* C: content size 2^40 */
  { "fcs_max", "" },                            /* C: content size 2^64-1 */
  { "fcs_900mb", "" },                          /* C: 900 MB, and bytes
                                                ** says so too */
  /* Declared sizes. */
  { "bytes_huge", "UPDATE cachier_data SET bytes = 9223372036854775807" },
  { "bytes_negative", "UPDATE cachier_data SET bytes = -1" },
  { "bytes_text", "UPDATE cachier_data SET bytes = 'many', compute_ns = 'x', created = 'y'" },
  { "created_extreme", "UPDATE cachier_data SET created = 1e308, compute_ns = -9223372036854775808" },
  /* Dictionaries. */
  { "dict_garbage", "UPDATE cachier_dict SET dict = randomblob(16384)" },
  { "dict_empty", "UPDATE cachier_dict SET dict = X''" },
  { "dict_text", "UPDATE cachier_dict SET dict = 'not a dictionary', samples = -1" },
  { "dict_huge_id", "UPDATE cachier_dict SET id = 9223372036854775807" },
  /* Refresh queue. */
  { "refresh_int_max", "UPDATE cachier_data SET refresh = 1, attempts = 2147483647, retry_at = -1" },
  { "refresh_args_garbage", "UPDATE cachier_data SET refresh = 1, args = X'FFFFFFFFFFFFFFFFFFFF', retry_at = NULL" },
  { "refresh_huge_attempts", "UPDATE cachier_data SET refresh = 1, attempts = 9223372036854775807, retry_at = 'x'" },
  /* Settings. */
  { "cfg_bad_durations", "UPDATE cachier_config SET stale_after = 'soon', wait_for_calc_timeout = -1, cleanup_interval = 0, stale_while_refresh = 'x', stale_if_error = -5" },
  { "cfg_extreme_durations", "UPDATE cachier_config SET stale_after = 1e308, wait_for_calc_timeout = 1e308, cleanup_interval = 1e-308, cleanup_stale = 1, next_time = 2147483647" },
  { "cfg_nan_durations", "UPDATE cachier_config SET stale_after = -1e308, wait_for_calc_timeout = X'00', cleanup_interval = -1" },
  { "cfg_bad_sizes", "UPDATE cachier_config SET entry_size_limit = -1, compress_min = -1, compress_level = 2147483647, max_entries = -1, max_bytes = 'lots', eviction = 'bogus'" },
  { "cfg_zero_bounds", "UPDATE cachier_config SET max_entries = 0, max_bytes = 0, compress_min = 0, compress_level = -2147483648" },
  { "cfg_hot_huge", "UPDATE cachier_config SET hot_bytes = 9223372036854775807 WHERE name = '*'" },
  { "cfg_hash_load_extension", "UPDATE cachier_config SET hash_func = 'load_extension'" },
  { "cfg_hash_cachier_clear", "UPDATE cachier_config SET hash_func = 'CACHIER_CLEAR'" },
  { "cfg_hash_memoize", "UPDATE cachier_config SET hash_func = 'memoize'" },
  { "cfg_hash_injection", "UPDATE cachier_config SET hash_func = 'abs\"(1); DROP TABLE cachier_data; --'" },
  { "cfg_hash_writefile", "UPDATE cachier_config SET hash_func = 'writefile'" },
  { "cfg_store_abs_path", "UPDATE cachier_config SET store = 'file:" OUTSIDE_ABS "/x.db'" },
  { "cfg_store_parent_path", "UPDATE cachier_config SET store = 'file:../outside.db'" },
  { "cfg_store_uri", "UPDATE cachier_config SET store = 'file:../outside-uri.db?vfs=unix&mode=rwc'" },
  { "cfg_store_redis_listener", "UPDATE cachier_config SET store = 'redis://127.0.0.1:@PORT@/0?retry_ms=0&timeout_ms=300'" },
  { "cfg_store_redis_port1", "UPDATE cachier_config SET store = 'redis://127.0.0.1:1/0'" },
  { "cfg_store_unix", "UPDATE cachier_config SET store = 'unix:" OUTSIDE_ABS ".sock'" },
  { "cfg_store_garbage", "UPDATE cachier_config SET store = X'00FF'" },
  { "cfg_duplicate_names", "CREATE TABLE c2 AS SELECT * FROM cachier_config; INSERT INTO c2 SELECT * FROM cachier_config; DROP TABLE cachier_config; ALTER TABLE c2 RENAME TO cachier_config" },
  { "cfg_name_null", "CREATE TABLE c2 AS SELECT * FROM cachier_config; UPDATE c2 SET name = NULL WHERE name = 'tv'; DROP TABLE cachier_config; ALTER TABLE c2 RENAME TO cachier_config" },
  /* Schema. */
  { "trigger_data_insert", "CREATE TRIGGER t1 AFTER INSERT ON cachier_data BEGIN INSERT INTO evil VALUES ('trigger on insert'); END" },
  { "trigger_data_memoize", "CREATE TRIGGER t1 AFTER INSERT ON cachier_data BEGIN INSERT INTO evil SELECT memoize('tv', 77); END" },
  { "trigger_data_update", "CREATE TRIGGER t1 BEFORE UPDATE ON cachier_data BEGIN INSERT INTO evil VALUES ('trigger on update'); END" },
  { "trigger_data_delete", "CREATE TRIGGER t1 BEFORE DELETE ON cachier_data BEGIN INSERT INTO evil VALUES ('trigger on delete'); END" },
  { "trigger_config", "CREATE TRIGGER t1 AFTER INSERT ON cachier_config BEGIN INSERT INTO evil VALUES ('trigger on config'); END" },
  { "trigger_config_update", "CREATE TRIGGER t1 AFTER UPDATE ON cachier_config BEGIN INSERT INTO evil VALUES ('trigger on config update'); END" },
  { "trigger_info", "CREATE TRIGGER t1 AFTER INSERT ON cachier_info BEGIN INSERT INTO evil VALUES ('trigger on info'); END" },
  { "trigger_dict", "CREATE TRIGGER t1 AFTER INSERT ON cachier_dict BEGIN INSERT INTO evil VALUES ('trigger on dict'); END" },
  { "data_extra_column", "ALTER TABLE cachier_data ADD COLUMN extra DEFAULT 'x'" },
  { "data_missing_column", "ALTER TABLE cachier_data DROP COLUMN compute_ns" },
  { "data_missing_v", "CREATE TABLE d2 AS SELECT id, k, subtype, created, compute_ns, bytes, refresh, attempts, retry_at, args FROM cachier_data; DROP TABLE cachier_data; ALTER TABLE d2 RENAME TO cachier_data" },
  { "data_is_view", "DROP TABLE cachier_data; CREATE VIEW cachier_data AS SELECT 1 AS id, X'00' AS k, 0 AS subtype, 0 AS created, 0 AS compute_ns, 0 AS bytes, 0 AS refresh, 0 AS attempts, NULL AS retry_at, NULL AS args, 1 AS v" },
  { "data_generated_column", "ALTER TABLE cachier_data ADD COLUMN g AS (abs(1)); PRAGMA writable_schema=1; UPDATE sqlite_schema SET sql = replace(sql, 'abs(1)', 'cachier_clear()') WHERE name = 'cachier_data'" },
  { "data_default_memoize", "ALTER TABLE cachier_data ADD COLUMN g DEFAULT (1); PRAGMA writable_schema=1; UPDATE sqlite_schema SET sql = replace(sql, 'DEFAULT (1)', 'DEFAULT (memoize(''tv'', 5))') WHERE name = 'cachier_data'" },
  { "data_index_expression", "CREATE INDEX ix ON cachier_data(k); PRAGMA writable_schema=1; UPDATE sqlite_schema SET sql = 'CREATE INDEX ix ON cachier_data(cachier_version() || k)' WHERE name = 'ix'" },
  { "config_missing_store", "ALTER TABLE cachier_config DROP COLUMN store" },
  { "config_extra_column", "ALTER TABLE cachier_config ADD COLUMN extra" },
  { "config_dropped", "DROP TABLE cachier_config" },
  { "info_dropped", "DROP TABLE cachier_info" },
  { "dict_dropped", "DROP TABLE cachier_dict" },
  { "schema_newer", "UPDATE cachier_info SET value = 4 WHERE key = 'schema_version'" },
  { "schema_huge", "UPDATE cachier_info SET value = 9223372036854775807 WHERE key = 'schema_version'" },
  { "schema_older", "UPDATE cachier_info SET value = 1 WHERE key = 'schema_version'" },
  { "schema_text", "UPDATE cachier_info SET value = 'three' WHERE key = 'schema_version'" },
  { "vtab_dropped", "PRAGMA writable_schema=1; DELETE FROM sqlite_schema WHERE name = 'cachier'" },
  { "vtab_other_module", "PRAGMA writable_schema=1; UPDATE sqlite_schema SET sql = 'CREATE VIRTUAL TABLE cachier USING cachier(''file:" OUTSIDE_ABS "/vt.db'')' WHERE name = 'cachier'" },
  { "view_memoize", "CREATE VIEW v1 AS SELECT memoize('tv', 5) AS x" },
  { "view_clear", "CREATE VIEW v1 AS SELECT cachier_clear() AS x" },
  { "view_precache", "CREATE VIEW v1 AS SELECT cachier_precache('tv', 'evil', 1) AS x" },
  { "view_entries", "CREATE VIEW v1 AS SELECT count(*) AS x FROM cachier_entries" },
  { "view_functions_insert", "CREATE VIEW v1 AS SELECT 1 AS x; CREATE TRIGGER tv1 INSTEAD OF INSERT ON v1 BEGIN INSERT INTO cachier_functions(name, store) VALUES ('tv', 'file:" OUTSIDE_ABS "/t.db'); END" },
  { "check_memoize", "CREATE TABLE c1(x CHECK (abs(x) IS NOT NULL)); PRAGMA writable_schema=1; UPDATE sqlite_schema SET sql = replace(sql, 'abs(x)', 'memoize(''tv'', x)') WHERE name = 'c1'" },
  { "check_clear", "CREATE TABLE c1(x CHECK (abs(1) >= 0)); PRAGMA writable_schema=1; UPDATE sqlite_schema SET sql = replace(sql, 'abs(1)', 'cachier_clear()') WHERE name = 'c1'" },
  { "trigger_user_table", "CREATE TABLE c1(x); CREATE TRIGGER t2 AFTER INSERT ON c1 BEGIN SELECT cachier_refresh(); INSERT INTO evil VALUES ('refresh from trigger'); END" },
};
#define N_DAMAGE ((int)(sizeof(aDamage)/sizeof(aDamage[0])))

/* ---------------------------------------------------------------------
** Generating the corpus.
*/

/* The base: entries of tv (main store), big (compressed, with a trained
** dictionary and without), tn (next_time, one refresh pending), and
** settings rows. Run in a child (with the extension). */
static int makeBase(const char *zExt, const char *zPath){
  static const char *const azSql[] = {
    "PRAGMA journal_mode=DELETE",
    "INSERT INTO cachier_functions(name, stale_after, compress_min) VALUES ('*', 3600, 600)",
    "INSERT INTO cachier_functions(name, stale_after, next_time) VALUES ('tn', 10, 1)",
    "INSERT INTO cachier_functions(name, allow_none) VALUES ('tv', 1)",
    "SELECT cachier_test_clock(1000000)",
    "SELECT memoize('tv', 1), memoize('tv', 'a'), memoize('tv', 2.5),"
    " memoize('tv', x'00ff'), memoize('tn', 1)",
    SERIES(10) "SELECT count(memoize('big', i)) FROM c",
    "SELECT cachier_train('big')",
    SERIES(14) "SELECT count(memoize('big', i)) FROM c",
    "SELECT cachier_test_clock(1000100)",
    "SELECT memoize('tn', 1)",
    "CREATE TABLE evil(x)",
  };
  char *zErr = 0;
  int i;
  sqlite3 *db;
  unlink(zPath);
  db = openWithExt(zPath, 0, zExt, &zErr);
  if( db==0 ){ fprintf(stderr, "base: %s\n", zErr); return FAULT_SETUP; }
  for(i=0; i<(int)(sizeof(azSql)/sizeof(azSql[0])); i++){
    if( runSql(db, azSql[i], 0) ){
      fprintf(stderr, "base: %s: %s\n", azSql[i], sqlite3_errmsg(db));
      return FAULT_SETUP;
    }
  }
  return sqlite3_close(db) ? FAULT_SETUP : FAULT_OK;
}

static void copyFile(const char *zFrom, const char *zTo){
  char aBuf[65536];
  int in = open(zFrom, O_RDONLY), out;
  ssize_t n;
  if( in<0 ) fatal("open %s failed", zFrom);
  out = open(zTo, O_WRONLY|O_CREAT|O_TRUNC, 0666);
  if( out<0 ) fatal("create %s failed", zTo);
  while( (n = read(in, aBuf, sizeof(aBuf)))>0 ){
    if( write(out, aBuf, (size_t)n)!=n ) fatal("write %s failed", zTo);
  }
  close(in);
  close(out);
}

/* Rewrite the zstd frame header of v so its content size field says
** something else: eHow 0 = 1, 1 = true + 1000, 2 = 2^40, 3 = 2^64-1,
** 4 = 900,000,000. The
** field is made 8 bytes wide. 0 if v is not a frame. */
static unsigned char *lieAboutSize(const unsigned char *a, int n, int eHow,
                                   int *pnOut){
  static const int aFcsSize[4] = { 0, 2, 4, 8 };
  unsigned char *aOut;
  int fhd, bSingle, nDictId, nFcs, iFcs, nHdr, i;
  unsigned long long fcs = 0, newFcs;
  if( n<6 || a[0]!=0x28 || a[1]!=0xB5 || a[2]!=0x2F || a[3]!=0xFD ) return 0;
  fhd = a[4];
  bSingle = (fhd>>5)&1;
  nDictId = (int[]){0, 1, 2, 4}[fhd&3];
  nFcs = aFcsSize[fhd>>6];
  if( nFcs==0 && bSingle ) nFcs = 1;
  iFcs = 5 + (bSingle ? 0 : 1) + nDictId;
  nHdr = iFcs + nFcs;
  if( nHdr>n ) return 0;
  for(i=nFcs-1; i>=0; i--) fcs = (fcs<<8) | a[iFcs+i];
  if( nFcs==2 ) fcs += 256;
  switch( eHow ){
    case 0: newFcs = 1; break;
    case 1: newFcs = fcs + 1000; break;
    case 2: newFcs = 1ULL<<40; break;
    case 4: newFcs = 900000000ULL; break;
    default: newFcs = ~0ULL; break;
  }
  aOut = malloc((size_t)(n + 8));
  if( aOut==0 ) fatal("out of memory");
  memcpy(aOut, a, (size_t)iFcs);
  aOut[4] = (unsigned char)((fhd & 0x3F) | (3<<6));
  for(i=0; i<8; i++) aOut[iFcs+i] = (unsigned char)(newFcs >> (8*i));
  memcpy(aOut+iFcs+8, a+nHdr, (size_t)(n-nHdr));
  *pnOut = iFcs + 8 + (n - nHdr);
  return aOut;
}

static void damageFrames(sqlite3 *db, int eHow){
  sqlite3_stmt *pSel = 0, *pUpd = 0;
  int nDone = 0;
  if( sqlite3_prepare_v2(db, "SELECT id, v FROM cachier_data WHERE subtype > 255",
                         -1, &pSel, 0)
   || sqlite3_prepare_v2(db, "UPDATE cachier_data SET v = ?2 WHERE id = ?1",
                         -1, &pUpd, 0) ){
    fatal("frames: %s", sqlite3_errmsg(db));
  }
  runSql(db, "BEGIN", 0);
  while( sqlite3_step(pSel)==SQLITE_ROW ){
    int nOut = 0;
    unsigned char *aOut = lieAboutSize(sqlite3_column_blob(pSel, 1),
                                       sqlite3_column_bytes(pSel, 1), eHow,
                                       &nOut);
    if( aOut==0 ) continue;
    sqlite3_bind_int64(pUpd, 1, sqlite3_column_int64(pSel, 0));
    sqlite3_bind_blob(pUpd, 2, aOut, nOut, SQLITE_TRANSIENT);
    sqlite3_step(pUpd);
    sqlite3_reset(pUpd);
    free(aOut);
    nDone++;
  }
  if( eHow==4 ){
    runSql(db, "UPDATE cachier_data SET bytes = 900000000 WHERE subtype > 255",
           0);
  }
  runSql(db, "COMMIT", 0);
  sqlite3_finalize(pSel);
  sqlite3_finalize(pUpd);
  if( nDone==0 ) fatal("frames: no compressed entry in the base");
}

static void makeCorpus(const char *zExt, const char *zCorpus){
  char zBase[1200], zFile[1200];
  int status, i;
  pid_t pid;
  mkdirP(zCorpus);
  snprintf(zBase, sizeof(zBase), "%s/base.db", zCorpus);
  fflush(stdout);
  pid = fork();
  if( pid==0 ) exit(makeBase(zExt, zBase));
  waitpid(pid, &status, 0);
  if( status!=0 ) fatal("hostile: cannot make the base database");
  for(i=1; i<N_DAMAGE; i++){
    sqlite3 *db = 0;
    snprintf(zFile, sizeof(zFile), "%s/%s.db", zCorpus, aDamage[i].zName);
    copyFile(zBase, zFile);
    if( sqlite3_open_v2(zFile, &db, SQLITE_OPEN_READWRITE, 0) ) fatal("open");
    if( strncmp(aDamage[i].zName, "fcs_", 4)==0 ){
      const char *z = aDamage[i].zName + 4;
      damageFrames(db, strcmp(z, "low")==0 ? 0 : strcmp(z, "high")==0 ? 1
                       : strcmp(z, "huge")==0 ? 2 : strcmp(z, "max")==0 ? 3
                       : 4);
    }else if( sqlite3_exec(db, aDamage[i].zSql, 0, 0, 0) ){
      fatal("hostile: %s: %s", aDamage[i].zName, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
  }
}

/* ---------------------------------------------------------------------
** Running one file. iRun = damage*2 + trusted_schema.
*/
typedef struct HostileCtx HostileCtx;
struct HostileCtx {
  const char *zExt;
  const char *zOut;
};

static void onAlarm(int sig){
  static const char zWall[] = "HANG: the run did not finish within the"
                              " bound (wall time)\n";
  static const char zCpu[] = "HANG: the run did not finish within the"
                             " bound (CPU time)\n";
  if( sig==SIGPROF ){
    if( write(2, zCpu, sizeof(zCpu)-1) ){}
  }else{
    if( write(2, zWall, sizeof(zWall)-1) ){}
  }
  _exit(FAULT_HANG);
}

/* Arm (or with 0, disarm) both bounds of a run. */
static void hangBounds(int bOn){
  struct itimerval it;
  memset(&it, 0, sizeof(it));
  it.it_value.tv_sec = bOn ? HANG_CPU_SECONDS : 0;
  setitimer(ITIMER_PROF, &it, 0);
  alarm(bOn ? HANG_WALL_SECONDS : 0);
}

static const char *const azWorkload[] = {
  "SELECT * FROM cachier_entries",
  "SELECT fn, args, value FROM cachier_entries WHERE fn = 'tv'",
  "SELECT memoize('tv', 1), memoize('tv', 'a'), memoize('tv', 2.5),"
  " memoize('tv', x'00ff')",
  "SELECT memoize('tn', 1)",
  SERIES(16) "SELECT count(memoize('big', i)) FROM c",
  "SELECT memoize('tv', 1000)",                    /* a miss: a write */
  "SELECT memoize_with('{\"overwrite_cache\":true}', 'tv', 1)",
  "SELECT cachier_precache('tv', tv(3), 3)",
  "SELECT * FROM cachier_stats",
  "SELECT * FROM cachier_functions",
  "UPDATE cachier_functions SET stale_after = 60 WHERE name = 'tv'",
  "SELECT * FROM cachier",
  "SELECT cachier_refresh()",
  "SELECT cachier_cleanup_stale()",
  "SELECT cachier_cache_path('tv')",
  "SELECT cachier_debug()",
  "SELECT * FROM v1",
  "INSERT INTO v1 VALUES (1)",
  "INSERT INTO c1 VALUES (1)",
  "DELETE FROM cachier_entries WHERE fn = 'tv' AND args = '[2.5]'",
  "SELECT cachier_clear('big')",
  "SELECT cachier_train('tv')",
};

/* The listener: counts and drops every connection, at once (so a client
** does not wait for its timeouts). */
static atomic_int g_nConnect;
static void *listenerMain(void *pArg){
  int lsn = *(int*)pArg;
  for(;;){
    int fd = accept(lsn, 0, 0);
    if( fd<0 ){
      if( errno==EINTR ) continue;
      return 0;
    }
    atomic_fetch_add(&g_nConnect, 1);
    close(fd);
  }
}

/* 1 if zDir holds anything but "." "..", and zKeep; says what. */
static int dirHasOthers(const char *zDir, const char *zKeep){
  DIR *d = opendir(zDir);
  struct dirent *e;
  int bad = 0;
  if( d==0 ) return 0;
  while( (e = readdir(d))!=0 ){
    if( strcmp(e->d_name, ".")==0 || strcmp(e->d_name, "..")==0
     || (zKeep && strcmp(e->d_name, zKeep)==0) ) continue;
    fprintf(stderr, "OUTSIDE: %s/%s was created\n", zDir, e->d_name);
    bad = 1;
  }
  closedir(d);
  return bad;
}

/* Files outside the run's own directory that must not appear: in the
** directory around it, and in OUTSIDE_ABS (an existing, empty directory
** the crafted stores name). Cleans them up for the next run. */
static int outsideEffects(const char *zRunDir, const char *zHome){
  int bad = 0;
  if( access(OUTSIDE_ABS ".sock", F_OK)==0 ){
    fprintf(stderr, "OUTSIDE: %s was created\n", OUTSIDE_ABS ".sock");
    unlink(OUTSIDE_ABS ".sock");
    bad = 1;
  }
  if( dirHasOthers(OUTSIDE_ABS, 0) ){
    rmTree(OUTSIDE_ABS);
    mkdirP(OUTSIDE_ABS);
    bad = 1;
  }
  if( dirHasOthers(zRunDir, zHome) ) bad = 1;
  return bad;
}

static int hostileRun(const HostileCtx *c, int iRun){
  const Damage *pD = &aDamage[iRun/2];
  int bTrusted = iRun%2;
  char zRunDir[1100], zHome[1200], zFrom[1200], zDb[1300], zPort[16];
  sqlite3 *db = 0;
  char *zErr = 0, *zOut = 0;
  int i, lsn, ret = FAULT_OK, one = 1;
  struct sockaddr_in addr;
  socklen_t nAddr = sizeof(addr);

  signal(SIGALRM, onAlarm);
  signal(SIGPROF, onAlarm);
  hangBounds(1);
  memInstall();
  if( sqlite3_initialize() ) return FAULT_SETUP;

  /* A listener on a loopback port, named by the crafted Redis store. */
  lsn = socket(AF_INET, SOCK_STREAM, 0);
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(lsn, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if( lsn<0 || bind(lsn, (struct sockaddr*)&addr, sizeof(addr))
   || listen(lsn, 8) || getsockname(lsn, (struct sockaddr*)&addr, &nAddr) ){
    fprintf(stderr, "listen failed\n");
    return FAULT_SETUP;
  }
  {
    static int lsnFd;
    pthread_t t;
    lsnFd = lsn;
    if( pthread_create(&t, 0, listenerMain, &lsnFd) ) return FAULT_SETUP;
    pthread_detach(t);
  }
  snprintf(zPort, sizeof(zPort), "%d", ntohs(addr.sin_port));

  /* OUT/run-NAME-T/home/main.db; cwd home. The port goes into the rows
  ** that name it only, so this setup fires no trigger of another file. */
  snprintf(zRunDir, sizeof(zRunDir), "%s/run-%s-%d", c->zOut, pD->zName,
           bTrusted);
  rmTree(zRunDir);
  snprintf(zHome, sizeof(zHome), "%s/home", zRunDir);
  mkdirP(zHome);
  snprintf(zFrom, sizeof(zFrom), "%s/corpus/%s.db", c->zOut,
           iRun/2==0 ? "base" : pD->zName);
  snprintf(zDb, sizeof(zDb), "%s/main.db", zHome);
  copyFile(zFrom, zDb);
  if( chdir(zHome) ) return FAULT_SETUP;
  if( sqlite3_open_v2("main.db", &db, SQLITE_OPEN_READWRITE, 0)==SQLITE_OK ){
    char *z = sqlite3_mprintf("PRAGMA writable_schema=1; UPDATE cachier_config"
        " SET store = replace(store, '@PORT@', '%q')"
        " WHERE instr(store, '@PORT@')", zPort);
    sqlite3_exec(db, z, 0, 0, 0);
    sqlite3_free(z);
  }
  sqlite3_close(db);

  /* With the extension: nothing may go wrong, whatever fails. */
  g_mem.nLimit = ALLOC_BOUND;
  db = openWithExt("main.db", 0, c->zExt, &zErr);
  if( db==0 ){
    fprintf(stderr, "note: open/load failed: %s\n", zErr);
  }else{
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, bTrusted, 0);
    for(i=0; i<(int)(sizeof(azWorkload)/sizeof(azWorkload[0])); i++){
      if( runSql(db, azWorkload[i], 0) ){
        fprintf(stderr, "note: %s: %s\n", azWorkload[i], sqlite3_errmsg(db));
      }
    }
    if( runSql(db, "SELECT count(*) || ': ' || group_concat(x) FROM evil",
               &zOut)==SQLITE_OK && zOut && strncmp(zOut, "0:", 2)!=0 ){
      fprintf(stderr, "OUTSIDE: the file's own code ran: evil = %s\n", zOut);
      ret = FAULT_OUTSIDE;
    }
    sqlite3_free(zOut);
    if( sqlite3_close(db)!=SQLITE_OK ){
      fprintf(stderr, "LEAK: sqlite3_close: statements left\n");
      if( ret==FAULT_OK ) ret = FAULT_LEAK;
    }
  }
  if( g_mem.nRefused || g_mem.nPeak>ALLOC_BOUND ){
    fprintf(stderr, "BOUND: peak %lld bytes, %lld allocations refused past"
            " %d\n", g_mem.nPeak, g_mem.nRefused, ALLOC_BOUND);
    if( ret==FAULT_OK ) ret = FAULT_BOUND;
  }
  if( atomic_load(&g_nConnect)>0 ){
    fprintf(stderr, "OUTSIDE: %d connections to 127.0.0.1:%s\n",
            atomic_load(&g_nConnect), zPort);
    if( ret==FAULT_OK ) ret = FAULT_OUTSIDE;
  }
  if( outsideEffects(zRunDir, "home") && ret==FAULT_OK ) ret = FAULT_OUTSIDE;
  fprintf(stderr, "peak %lld bytes\n", g_mem.nPeak);
  hangBounds(0);
  sqlite3_shutdown();
  if( ret==FAULT_OK ) rmTree(zRunDir);
  return ret;
}

static int hostileChild(int iRun, void *pArg){
  return hostileRun((const HostileCtx*)pArg, iRun);
}

static void hostileName(int iRun, void *pArg, char *zOut, int nOut){
  HostileCtx *c = (HostileCtx*)pArg;
  snprintf(zOut, (size_t)nOut, "hostile %s/corpus/%s.db trusted_schema=%d",
           c->zOut, iRun/2==0 ? "base" : aDamage[iRun/2].zName, iRun%2);
}

int main(int argc, char **argv){
  HostileCtx c;
  Outcome o;
  int aRun[2*N_DAMAGE], i, n;
  char zCorpus[1000];
  time_t t0 = time(0);
  if( argc<3 ) fatal("usage: %s EXTENSION.so OUTDIR", argv[0]);
  /* The runs chdir to their own directory. */
  c.zExt = realpath(argv[1], 0);
  if( c.zExt==0 ) fatal("no such file: %s", argv[1]);
  mkdirP(argv[2]);
  c.zOut = realpath(argv[2], 0);
  if( c.zOut==0 ) fatal("no such directory: %s", argv[2]);
  rmTree(OUTSIDE_ABS);
  mkdirP(OUTSIDE_ABS);
  unlink(OUTSIDE_ABS ".sock");
  snprintf(zCorpus, sizeof(zCorpus), "%s/corpus", c.zOut);
  makeCorpus(c.zExt, zCorpus);
  sqlite3_shutdown();   /* so each run can install its own allocator */
  printf("hostile: %d crafted databases, trusted_schema off and on\n",
         N_DAMAGE);
  fflush(stdout);
  for(i=n=0; i<2*N_DAMAGE; i++){
    if( argc<4 || strcmp(argv[3], aDamage[i/2].zName)==0 ) aRun[n++] = i;
  }
  memset(&o, 0, sizeof(o));
  /* One at a time: outside effects are checked on shared paths. */
  runPool(&o, c.zOut, "hostile", 1, aRun, n, hostileChild, hostileName, &c);
  outcomePrint("hostile", &o, difftime(time(0), t0));
  rmTree(OUTSIDE_ABS);
  free((char*)c.zExt);
  free((char*)c.zOut);
  return outcomeFailures(&o) ? 1 : 0;
}
