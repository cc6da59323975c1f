/*
** cachier.h - internal interfaces shared by the files of the extension.
**
** This is the one internal header, sectioned "Interface to code in X.c"
** as SQLite's fts5Int.h is; store.h holds what a store author needs, and
** the stores made of several files have private headers of their own
** (store_tables.h, redis_store.h). The persistent formats (entry ids, the
** value codec's bits) are defined once, below.
**
** Architecture (one concern per file). A call of memoize() goes
**   memoize.c -> fninfo.c (which function, which settings, which store)
**   -> key_codec.c (the key) -> hot.c (the hot tier) -> store.h (the
**   store: one of store_*.c) -> value_codec.c (decode) ... or, on a miss,
**   inflight.c (wait or take the key's mark) -> call.c (compute) ->
**   value_codec.c (encode) -> the store's write.
**
** The SQL surface and the connection
**   cachier.c          entry point, registration tables, connection state,
**                      cachier_version(), cachier_debug(), statement cache
**   memoize.c          memoize(), memoize_with(), cachier_precache(),
**                      cachier_clear(), cachier_enable(); the phases of a
**                      call (serve, await, compute and store)
**   vtab_functions.c   cachier_functions (writable settings)
**   vtab_entries.c     cachier_entries (query and delete entries)
**   vtab_stats.c       cachier_stats (counters)
**   vtab_query.c       cachier_query tables: a SELECT's rows memoized
**                      through memoize() (call.c computes them)
**   vtab_schema.c      the "cachier" module that owns the shadow tables
**   vtab_common.c      what the eponymous tables share
**   vtab_settings.c    cachier_settings (effective settings, their source)
**   log.c              cachierLog(): sqlite3_log() and cachier_log
**   get.c              cachier_get(): a cache-only read
**   fallback.c         where main's functions cache when main is read-only
**   uninstall.c        cachier_uninstall(): remove cachier's objects
**   guard.c            who may call the DIRECTONLY functions (SQLite 3.40
**                      lets a CHECK constraint call them)
** Functions, keys, values and settings
**   fninfo.c           per-connection cache of resolved functions
**   call.c             resolving and calling the user's function by name
**   key_codec.c        type-exact key encoding, key hash, args as JSON
**   value_codec.c      how values are stored: zstd, trained dictionaries
**   rowset_codec.c     a query's result set as one value (row sets)
**   settings.c         per-function settings (the one table of them),
**                      memoize_with() options, duration and size parsing
**   seal.c             sealed settings: the per-user key file, the seal
**                      (MAC) of a cachier_config row
**   sha256.c           SHA-256 and HMAC-SHA-256
**   json.c             a JSON object reader for memoize_with() options
** Time, waiting, refresh, bounds
**   staleness.c        the clock (real and test) and freshness decisions:
**                      fresh, servable stale, or recompute
**   inflight.c         in-flight marks: waiting for another's computation,
**                      crash-proof (kernel-released file locks)
**   refresh.c          next_time refreshes (queue, backoff, background
**                      thread) and stale cleanup
**   evict.c            size bounds: which entries go when a bound is hit
**   stats.c            in-memory per-function counters
**   hot.c              the hot tier: repeated hits served from memory
**   memo.c             the statement memo: repeated argument lists within
**                      one statement served from memory
**   depends.c          invalidation: depends_on (tracking triggers, change
**                      counters, entry stamps), version, cachier_invalidate()
** Stores (store.h: the interface every store implements)
**   store.c            the registry: which store a function uses, opening
**                      and closing a connection's stores
**   store_main.c       the default store: shadow tables in "main", and its
**                      writes from old read snapshots (a connection of its own)
**   store_memory.c     a process-wide in-memory store
**   store_file.c       a cache database file of its own, grouped commits
**   store_tables.c     the SQL of the three stores above (store_tables.h)
**   store_schema.c     their tables: creation, schema versions, migration
**   store_walversion.c their version for the hot tier (the WAL index)
**   store_redis.c      a Redis server shared between machines: opening it,
**                      its methods on one entry (redis_store.h)
**   redis_conn.c       Redis store names, one connection with deadlines
**   redis_format.c     Redis key names and the entry format (pure)
**   redis_script.c     the Redis store's Lua scripts (sql/redis/NAME.lua)
**   redis_scan.c       Redis listing, totals, eviction, clearing (SCAN)
**   redis_dict.c       zstd dictionaries on Redis
**   redis_marks.c      in-flight marks on Redis
**   redis_tracking.c   the hot tier's invalidations (CLIENT TRACKING)
**   store_redis_none.c instead of the Redis files in a build without Redis
**                      (make REDIS=0): Redis names are an error saying so
*/
#ifndef CACHIER_H
#define CACHIER_H

#include "sqlite3ext.h"
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Every file except cachier.c sees the API routines through this pointer. */
#ifndef CACHIER_MAIN_FILE
SQLITE_EXTENSION_INIT3
#endif

#ifdef CACHIER_TEST
/* Test builds route cachier's own allocations (and the SQLite calls that
** allocate for it: mprintf, str_finish, value_text, bind_value,
** bind_text, and bind_blob with SQLITE_TRANSIENT) through
** wrappers, so
** that cachier_test_fail_alloc(N) can make the Nth next one fail;
** CACHIER_FAULT() counts as one allocation too, at the calls into SQLite
** that allocate (registrations). Release builds call SQLite directly. */
void *cachierTestMalloc(sqlite3_uint64 n);
void *cachierTestRealloc(void *pOld, sqlite3_uint64 n);
int cachierTestFault(void);
char *cachierTestMprintf(const char *zFmt, ...);
char *cachierTestStrFinish(sqlite3_str *pStr);
const unsigned char *cachierTestValueText(sqlite3_value *pVal);
int cachierTestBindValue(sqlite3_stmt *pStmt, int i, const sqlite3_value*);
int cachierTestBindBlob(sqlite3_stmt *pStmt, int i, const void *p, int n,
                        void (*xDel)(void*));
int cachierTestBindText(sqlite3_stmt *pStmt, int i, const char *z, int n,
                        void (*xDel)(void*));
# undef sqlite3_mprintf
# undef sqlite3_str_finish
# undef sqlite3_value_text
# define sqlite3_mprintf(...)      cachierTestMprintf(__VA_ARGS__)
# define sqlite3_str_finish(pStr)  cachierTestStrFinish(pStr)
# define sqlite3_value_text(pVal)  cachierTestValueText(pVal)
# undef sqlite3_bind_value
# define sqlite3_bind_value(pStmt,i,pVal) cachierTestBindValue(pStmt,i,pVal)
# undef sqlite3_bind_blob
# define sqlite3_bind_blob(pStmt,i,p,n,xDel) \
    cachierTestBindBlob(pStmt,i,p,n,xDel)
# undef sqlite3_bind_text
# define sqlite3_bind_text(pStmt,i,z,n,xDel) \
    cachierTestBindText(pStmt,i,z,n,xDel)
# undef sqlite3_malloc
# undef sqlite3_malloc64
# undef sqlite3_realloc64
# define sqlite3_malloc(n)         cachierTestMalloc((sqlite3_uint64)(n))
# define sqlite3_malloc64(n)       cachierTestMalloc(n)
# define sqlite3_realloc64(pOld,n) cachierTestRealloc(pOld, n)
# define CACHIER_FAULT()           cachierTestFault()
#else
# define CACHIER_FAULT()           0
#endif

/* The release, from ext/VERSION (the Makefile passes -DCACHIER_VERSION):
** one number for cachier_version() and the Python and Node packages. */
#ifndef CACHIER_VERSION
# error "build with make: CACHIER_VERSION comes from ext/VERSION"
#endif
/* The oldest SQLite cachier loads into: 3.39.0 added sqlite3_db_name(),
** the newest routine of sqlite3_api_routines it calls (an older SQLite's
** table ends before it). */
#define CACHIER_MIN_SQLITE         3039000
#define CACHIER_MIN_SQLITE_TEXT    "3.39.0"
#define CACHIER_SCHEMA_VERSION 5

/* Deepest allowed nesting of memoize() inside a memoized function. */
#define CACHIER_MAX_DEPTH 100
/* Most arguments a memoized function may take (SQLite allows 127 in all,
** memoize_with() uses one for options and both use one for the name). */
#define CACHIER_MAX_ARGS 126
/*
** ------------------------------------------------- persistent formats
**
** Each format below is defined here once; C code uses these macros, SQL
** text and Lua scripts get the numbers from them (bound parameters or
** strings made from them), never literals of their own.
**
** Entry ids. Every entry of every store has a 64-bit id (the rowid of the
** tables stores, the field names of a Redis store):
**
**     fn_hash:CACHIER_ID_FN_B | key_hash:CACHIER_ID_KEY_B | slot:CACHIER_ID_SLOT_B
**
** so the entries of one function are one contiguous id range (listing or
** clearing a function needs no index), and each key hash owns
** CACHIER_ID_SLOTS consecutive ids: colliding keys take the next free
** slot, so a lookup is one short range scan. The "base" of a key is the
** id of its slot 0; the "fn base" of a function is the first id of its
** range. Ids whose fn_hash has its top bit set are negative.
*/
#define CACHIER_ID_FN_B      16
#define CACHIER_ID_KEY_B     40
#define CACHIER_ID_SLOT_B    8
#define CACHIER_ID_FN_SHIFT  (CACHIER_ID_KEY_B + CACHIER_ID_SLOT_B)
#define CACHIER_ID_SLOTS     (1 << CACHIER_ID_SLOT_B)
#define CACHIER_ID_LAST_SLOT (CACHIER_ID_SLOTS - 1)
#define CACHIER_BITS(n)      ((((uint64_t)1) << (n)) - 1)
/* Construct an id from its parts, and take one apart. */
#define CACHIER_ID(fn, key, slot) ((sqlite3_int64)( \
    ((uint64_t)(fn) << CACHIER_ID_FN_SHIFT) \
  | (((uint64_t)(key) & CACHIER_BITS(CACHIER_ID_KEY_B)) << CACHIER_ID_SLOT_B) \
  | ((uint64_t)(slot) & CACHIER_BITS(CACHIER_ID_SLOT_B))))
#define CACHIER_ID_FN(id)   ((uint64_t)(id) >> CACHIER_ID_FN_SHIFT)
#define CACHIER_ID_KEY(id)  \
  (((uint64_t)(id) >> CACHIER_ID_SLOT_B) & CACHIER_BITS(CACHIER_ID_KEY_B))
#define CACHIER_ID_SLOT(id) ((int)((uint64_t)(id) & CACHIER_BITS(CACHIER_ID_SLOT_B)))
/* The base (slot 0) of id's key, and the first id of id's function. */
#define CACHIER_ID_BASE(id) \
  ((sqlite3_int64)((uint64_t)(id) & ~CACHIER_BITS(CACHIER_ID_SLOT_B)))
#define CACHIER_ID_FN_BASE(id) \
  ((sqlite3_int64)((uint64_t)(id) & ~CACHIER_BITS(CACHIER_ID_FN_SHIFT)))
/* Kept for the code that still names it. */
#define CACHIER_SLOT_BITS CACHIER_ID_SLOT_B

/*
** The value codec (value_codec.c): how a value is stored rides in the high
** bits of the stores' subtype column, which every hit reads anyway:
**
**     subtype column = subtype:CACHIER_COL_SUBTYPE_B | codec
**     codec          = kind:CACHIER_CODEC_KIND_B | dictionary id:CACHIER_CODEC_DICT_B
**
** kind is CACHIER_KIND_RAW (stored as it is), CACHIER_KIND_TEXT or
** CACHIER_KIND_BLOB (a zstd frame of a TEXT or BLOB value). A column
** value above CACHIER_COL_SUBTYPE_MAX means the value is encoded.
*/
#define CACHIER_COL_SUBTYPE_B   8
#define CACHIER_COL_SUBTYPE_MAX 255
#define CACHIER_CODEC_KIND_B    2
#define CACHIER_CODEC_DICT_B    20
#define CACHIER_KIND_RAW        0
#define CACHIER_KIND_TEXT       1
#define CACHIER_KIND_BLOB       2
#define CACHIER_COL(subtype, codec) \
  (((subtype) & CACHIER_COL_SUBTYPE_MAX) | ((codec) << CACHIER_COL_SUBTYPE_B))
#define CACHIER_COL_SUBTYPE(col) ((col) & CACHIER_COL_SUBTYPE_MAX)
#define CACHIER_COL_CODEC(col)   ((col) >> CACHIER_COL_SUBTYPE_B)
#define CACHIER_CODEC(kind, dict) ((kind) | ((dict) << CACHIER_CODEC_KIND_B))
#define CACHIER_CODEC_KIND(c)    ((c) & (int)CACHIER_BITS(CACHIER_CODEC_KIND_B))
#define CACHIER_CODEC_DICT(c)    ((c) >> CACHIER_CODEC_KIND_B)

/*
** Row sets (rowset_codec.c): the value of a cachier_query entry
** (vtab_query.c), one BLOB holding a query's whole result:
**
**     CACHIER_ROWSET_V1:1 byte | varint(nCol) | nRow:CACHIER_ROWSET_NROW_B bytes
**     | { value }*(nRow*nCol), row after row
**
** varint is 7 bits a byte, least significant first, high bit set on all
** but the last; nRow is big-endian; each value is encoded as key_codec.c
** encodes an argument: tag (the SQLite type, or'ed with 0x80 when a
** subtype byte such as JSON's follows), then 8 big-endian bytes for an
** INTEGER or a REAL's bit pattern, varint(length) and the bytes for TEXT
** and BLOB, nothing for NULL.
*/
#define CACHIER_ROWSET_V1      0x52  /* 'R' */
#define CACHIER_ROWSET_NROW_B  8

/*
** Entry stamps (depends.c). An entry of a function with depends_on or a
** version records what it was computed under, as one blob (no blob: no
** stamp):
**
**     stamp = version:64 | item*          (big-endian)
**     item  = track_id:64 | n:64          (one per dependency, in
**                                          depends_on order)
**
** version is the version's stamp: the first 8 bytes of the SHA-256 of
** its type-exact encoding (key_codec.c), 1 in place of 0; 0 means "no
** version". track_id is the random id (rowid) of the table's row in
** cachier_changes, the table of counters in the dependency's own database
** (a new one each time tracking is set up, so entries recorded before a
** gap in tracking never match again); n is its change counter, which the
** tracking triggers bump. Stamps are compared for equality only.
*/
#define CACHIER_STAMP_VERSION 8
#define CACHIER_DEPS_ITEM 16

/* A number as a C string literal, for SQL text made from the formats. */
#define CACHIER_STR_(x) #x
#define CACHIER_STR(x)  CACHIER_STR_(x)

typedef struct Cachier Cachier;
typedef struct FnStats FnStats;
typedef struct FnSettings FnSettings;
typedef struct CallOptions CallOptions;
typedef struct CachierKey CachierKey;
typedef struct CachierEntry CachierEntry;
typedef struct KeyBuf KeyBuf;
typedef struct FnInfo FnInfo;
typedef struct Inflight Inflight;
typedef struct InflightLock InflightLock;
typedef struct Refresher Refresher;
typedef struct ZstdState ZstdState;
typedef struct DecodedValue DecodedValue;
typedef struct HotTier HotTier;
typedef struct CachierStore CachierStore;
typedef struct SealState SealState;
typedef struct DepsCache DepsCache;
typedef struct LogRing LogRing;
typedef struct StmtMemo StmtMemo;
typedef struct MemoEntry MemoEntry;
typedef struct DepsState DepsState;
typedef struct QueryTab QueryTab;
typedef struct GuardStep GuardStep;

/**************************************************************************
** Interface to code in stats.c.
*/

/* Counters of one function on one connection. Nodes live until the
** connection closes, so a plan may keep a pointer to its function's node. */
struct FnStats {
  FnStats *pNext;
  char *zFn;                  /* canonical (lower-case) function name */
  sqlite3_int64 nHit, nMiss, nStaleHit, nCompute, nError, nWriteError;
  sqlite3_int64 nReadError;   /* lookups the store could not answer */
  sqlite3_int64 nMemoHit;     /* hits the statement memo served (memo.c) */
  sqlite3_int64 computeNs;    /* time spent inside the function */
  double cleanupDue;          /* no cleanup_stale check before this time */
  sqlite3_int64 nEviction;    /* entries this connection evicted */
  int nWritesToCheck;         /* stores until the bounds are checked again */
  sqlite3_int64 *aRecent;     /* ids of the latest hits (a ring), for LRU */
  int iRecent;
  sqlite3_int64 nInvalidated; /* entries found but outdated by a change of
                              ** a dependency or of the version */
  /* What of nHit, nMiss, nCompute and computeNs the store's lasting
  ** counters have already (statsFlush()), and when they got it. */
  sqlite3_int64 nHitFlushed, nMissFlushed, nComputeFlushed, computeNsFlushed;
  sqlite3_int64 flushedNs;    /* cachierMonotonicNs(); 0: never */
};

FnStats *cachierStatsFor(Cachier*, const char *zFn);
void cachierStatsFreeAll(Cachier*);
#define STATS_FLUSH_NOW     1  /* statsFlush(): now, not once a second */
#define STATS_FLUSH_CLOSING 2  /* ... and the connection closes */
void statsFlush(Cachier*, FnStats*, CachierStore*, int flags);

/**************************************************************************
** Interface to code in cachier.c.
*/

/* Statements the connection keeps prepared (see cachierStmt()). */
enum {
  STMT_POINT, STMT_POINT_REFRESH, STMT_LOOKUP, STMT_LOOKUP_REFRESH,
  STMT_INSERT, STMT_WRITE, STMT_SETTINGS,
  STMT_DELETE_ID, STMT_DB_VERSION, STMT_MARK_REFRESH, STMT_GET,
  STMT_DICT_ID, STMT_SCHEMA_VERSION,
  STMT_BEGIN, STMT_BEGIN_IMMEDIATE, STMT_COMMIT,   /* cachier's own dbs */
  STMT_POINT_STAMP, STMT_LOOKUP_STAMP, STMT_POINT_TIMED,
  STMT_COUNT
};

/* Per-connection state: user data of every function and module. It is
** reference counted because SQLite calls one destructor per registration. */
struct Cachier {
  sqlite3 *db;
  int nRef;
  int enabled;                /* cachier_enable() switch */
  int depth;                  /* current memoize() nesting */
  int anchored;               /* anchor vtab connected: statements may be kept */
  sqlite3_stmt *aStmt[STMT_COUNT];
  int hasTestClock;           /* cachier_test_clock() is in force */
  double testClock;
  int hashBits;               /* test builds: weaken the key hash (0: full 40) */
  int ownBusyTries;           /* test builds: main's writer gives up after
                              ** this many busy tries (0: OWN_BUSY_TRIES) */
  sqlite3_int64 settingsGen;  /* bumped by every cachier_functions write */
  sqlite3_int64 memoGen;      /* bumped by what may change a statement
                              ** memo's values (cachierMemoChanged()) */
  FnStats *pStats;
  FnInfo *pFnInfo;            /* resolved functions (fninfo.c) */
#ifdef CACHIER_TEST
  char *zLastLog;             /* last cachierLog() line */
#endif
  CachierStore *pMainStore;
  CachierStore *pStores; /* other open stores (store_*.c) */
  Inflight *pInflight;        /* in-flight marks beside main (inflight.c) */
#ifdef CACHIER_TEST
  char *zWaitMarker;          /* cachier_test_wait_marker() */
  char *zTestStore;           /* cachier_test_default_store() */
  sqlite3_int64 testGroupAgeNs; /* cachier_test_group_age(); 0: default */
#endif
  int noInflight;             /* test builds: marks switched off */
  int bSchemaScanned;         /* guardScanSchema() ran (guard.c) */
  Refresher *pRefresher;      /* background refresh thread (refresh.c) */
  ZstdState *pZstd;           /* compression contexts, dictionaries */
  SealState *pSeal;           /* the seal key, rows logged (seal.c) */
  DepsCache *pDepsCache;      /* stamps read lately (depends.c) */
  LogRing *pLog;              /* the latest messages (log.c) */
  int bMainNoWrite;           /* a write to main failed: read-only */
  int bFallbackLogged;        /* fallback.c said where it caches */
  const char *zRefreshOff;    /* why background refresh cannot run here
                              ** (refresh.c); NULL: it can */
  QueryTab *pQueryTabs;       /* connected cachier_query tables */
  GuardStep *pGuardStep;      /* cachier's statement running now, innermost
                              ** (guard.c guardStep()) */
};

/* One row of a function registration table. */
#define CACHIER_FN_WRITES 1   /* calls functions or writes: DIRECTONLY */
#define CACHIER_FN_PURE   2   /* deterministic and innocuous */
typedef struct CachierFunction CachierFunction;
struct CachierFunction {
  const char *zName;
  int nArg;
  int eKind;
  void (*xFunc)(sqlite3_context*, int, sqlite3_value**);
};

sqlite3_stmt *stmtKept(sqlite3*, sqlite3_stmt **ppKept, int bKeep,
                       const char *zSql);
void stmtKeptDone(sqlite3_stmt *pKept, sqlite3_stmt *pStmt);
sqlite3_stmt *cachierStmt(Cachier*, int id, const char *zSql);
void cachierStmtDone(Cachier*, int id, sqlite3_stmt*);
void cachierStmtFinalizeAll(Cachier*);
int cachierAnchor(Cachier*);
int cachierIsOwnFunction(const char *zName);
void cachierLog(Cachier*, const char *zFmt, ...);
const char *cachierMainFile(Cachier*);
int cachierIsWal(sqlite3*);
int cachierOneStatementRuns(sqlite3*);

/**************************************************************************
** Interface to code in log.c.
*/
#define CACHIER_LOG_NOTICE  0
#define CACHIER_LOG_WARNING 1
#define CACHIER_LOG_VERBOSE 2  /* a decision of a "verbose" call */
void cachierLogV(Cachier*, int eLevel, const char *zFn, const char *zFmt,
                 va_list);
void cachierLogFn(Cachier*, int eLevel, const char *zFn, const char *zFmt,
                  ...);
void cachierLogFree(Cachier*);

/**************************************************************************
** Interface to code in fallback.c.
*/
const char *fallbackSpec(Cachier*, const char *zSpec, int eMainState);
void fallbackWriteFailed(Cachier*, int rc);
CachierStore *fallbackStore(Cachier*);

/**************************************************************************
** Interface to code in guard.c.
*/
int guardSqlNames(const char *zSql, const char *zWord, int bCall);
int guardDirectCall(sqlite3_context*, const char *zFn);
int guardSqlOtherSchema(const char *zSql, const char *zTable);
int guardOtherSchema(Cachier*, const char *zTable, char **pzErr);
int guardDirectOrTempCall(sqlite3_context*, const char *zFn);
const char *guardSkipSpace(const char *z);

/* The start of the SQL of cachier's own statements that call its
** DIRECTONLY functions (a cachier_query table's read, its DROP). Such a
** statement vouches for the calls it makes only while guardStep() runs
** it, not while it is left on a row. */
#define GUARD_OWN_SQL "/* cachier */ "
struct GuardStep {
  sqlite3_stmt *pStmt;
  GuardStep *pOuter;
};
int guardStep(Cachier*, sqlite3_stmt*);

/**************************************************************************
** Interface to code in key_codec.c.
*/

/* A growable byte buffer for encoded keys. */
struct KeyBuf {
  unsigned char *a;
  sqlite3_int64 n, nAlloc;
  unsigned char aStatic[256];
};
void keyBufInit(KeyBuf*);
void keyBufFree(KeyBuf*);
int keyEncodeArgs(KeyBuf*, const char *zFn, int nFn, int nArg,
                  sqlite3_value **apArg);
int keyEncodeHashFuncKey(KeyBuf*, const char *zFn, int nFn,
                         sqlite3_value *pKey);
int keyEncodeArgsOnly(KeyBuf*, int nArg, sqlite3_value **apArg);
int keyEncodeArgsAfterName(KeyBuf*, int nFn, int nArg, sqlite3_value **apArg);
/* For the few static functions of a hit's path that have more than one
** caller (so the compiler would keep them out of line): always inlined. */
#if defined(__GNUC__)
# define CACHIER_HOT_INLINE inline __attribute__((always_inline))
#else
# define CACHIER_HOT_INLINE inline
#endif
/* varint(1), the INTEGER tag, 8 bytes: keyEncodeOneInt()'s output. */
#define KEY_ONE_INT_BYTES 10
void keyEncodeOneInt(unsigned char *a, sqlite3_int64 v);
int keyBufReserve(KeyBuf*, sqlite3_int64 n);
int keyEncodeValue(KeyBuf*, sqlite3_value*);
char *keyToJson(const unsigned char *a, sqlite3_int64 n, int *pRc);
int keyDecodeArgs(const unsigned char *a, sqlite3_int64 n, int *pnArg,
                  unsigned char *aSub, sqlite3_stmt *pStmt);
int keyIsHashFuncKey(const unsigned char *a, sqlite3_int64 n);
/* A 64-bit hash of the encoded arguments a[0..n) under seed (multiply-
** xorshift over 8-byte words): the hot tier's and the statement memo's
** in-memory tables. Not persistent: entry ids use the key hash. A call
** hashes its arguments once (seed 0) and hands the hash to both. */
static inline uint64_t keyArgsHash(uint64_t seed, const unsigned char *a,
                     sqlite3_int64 n){
  const uint64_t m = 0x9e3779b97f4a7c15ULL;
  uint64_t h = seed ^ ((uint64_t)n * m);
  sqlite3_int64 i = 0;
  for(; i+8<=n; i+=8){
    uint64_t k;
    memcpy(&k, a+i, 8);
    h = (h ^ k) * m;
    h ^= h >> 29;
  }
  if( i<n ){
    /* The last 1..7 bytes, low byte first (no call to memcpy()). */
    const unsigned char *t = a+i;
    uint64_t k = 0;
    switch( n-i ){
      case 7: k |= (uint64_t)t[6] << 48; /* fall through */
      case 6: k |= (uint64_t)t[5] << 40; /* fall through */
      case 5: k |= (uint64_t)t[4] << 32; /* fall through */
      case 4: k |= (uint64_t)t[3] << 24; /* fall through */
      case 3: k |= (uint64_t)t[2] << 16; /* fall through */
      case 2: k |= (uint64_t)t[1] << 8;  /* fall through */
      default: k |= (uint64_t)t[0];
    }
    h = (h ^ k) * m;
    h ^= h >> 29;
  }
  return h ^ (h >> 32);
}
/* keyArgsHash(0, ...) of a function's arguments folded with the function's
** id range: the hot tier's hash of a whole key. The range is in the id's
** top bits (CACHIER_ID_FN()): spread over all 64 before the fold, so that
** the same arguments of two functions land in different buckets (which
** take the low bits). */
static inline uint64_t keyArgsHashFn(uint64_t hArgs, sqlite3_int64 iFnBase){
  uint64_t f = ((uint64_t)iFnBase >> 32) * 0xff51afd7ed558ccdULL;
  return hArgs ^ f ^ (f >> 29);
}
/* memcmp(a, b, n)==0 for the short byte strings of encoded keys: 8 bytes
** at a time, no call into the C library for the usual 10-byte key. */
static inline int keyBytesEq(const unsigned char *a, const unsigned char *b,
                             sqlite3_int64 n){
  uint64_t x, y;
  sqlite3_int64 i;
  if( n<8 ){
    for(i=0; i<n; i++){
      if( a[i]!=b[i] ) return 0;
    }
    return 1;
  }
  for(i=0; i+8<n; i+=8){
    memcpy(&x, a+i, 8);
    memcpy(&y, b+i, 8);
    if( x!=y ) return 0;
  }
  /* The last 8 bytes (overlapping the word before when n is not a
  ** multiple of 8). */
  memcpy(&x, a+n-8, 8);
  memcpy(&y, b+n-8, 8);
  return x==y;
}
const char *typeName(int eType);
sqlite3_int64 cachierValueBytes(sqlite3_value*);
#define CACHIER_NEWER_SCHEMA_MSG \
  "the cache in this database has a newer schema version than this build " \
  "of cachier understands"
#define CACHIER_OLD_SCHEMA_MSG \
  "the cache in this database has an older schema version and cannot be " \
  "upgraded (is the database read-only?)"
#define CACHIER_JSON_SUBTYPE 74   /* 'J', what SQLite's JSON functions set */

/* The identity of one cache entry: the key bytes (function name, NUL,
** encoded arguments), with the name alone for the store's fn column. */
struct CachierKey {
  const char *zFn; int nFn;
  const unsigned char *aKey; sqlite3_int64 nKey;
  sqlite3_int64 iBase;        /* first rowid of the key's slot range */
};
void keySetHash(Cachier*, CachierKey*, sqlite3_int64 iFnBase);
void keyFnRange(const char *zFn, sqlite3_int64 *piLo, sqlite3_int64 *piHi);

/**************************************************************************
** Interface to code in settings.c.
*/

#define CACHIER_NEVER 1e300   /* "never stale" */

char *settingLowerTrimmed(const char *z, int n);

/* Effective settings of one function (its row over the "*" row over the
** built-in defaults). */
struct FnSettings {
  double staleAfter;          /* seconds; CACHIER_NEVER: never stale */
  int nextTime;
  int allowNone;
  double waitForCalcTimeout;  /* seconds; 0: no limit */
  int cleanupStale;
  double cleanupInterval;     /* seconds */
  sqlite3_int64 entrySizeLimit; /* bytes; -1: no limit */
  char *zHashFunc;            /* NULL: key on the arguments */
  double staleWhileRefresh;   /* seconds past staleAfter; <0: the default */
  double staleIfError;        /* seconds past staleAfter; <0: the default */
  int backgroundRefresh;      /* refresh on a cachier thread (refresh.c) */
  sqlite3_int64 compressMin;  /* compress values this big; -1: never */
  int compressLevel;          /* zstd level */
  sqlite3_int64 dictId;       /* newest trained dictionary, 0: none */
  unsigned dictZstdId;        /* its zstd id (from its header) */
  sqlite3_int64 maxEntries;   /* bound on the function's entries; -1: none */
  sqlite3_int64 maxBytes;     /* bound on their stored bytes; -1: none */
  sqlite3_int64 storeMaxEntries; /* the '*' row's bounds: on the whole */
  sqlite3_int64 storeMaxBytes;   /* store (not inherited); -1: none */
  int eEviction;              /* EVICT_LRU or EVICT_COST */
  char *zStore;               /* its store's name (NULL: main) */
  sqlite3_int64 hotBytes;     /* '*' row: the hot tier's size per store */
  char *zDependsOn;           /* tables, canonical ("t, aux.u"); NULL: none */
  int bDependsUnsealed;       /* a depends_on was ignored (not sealed) */
  sqlite3_int64 version;      /* version stamp (depends.c); 0: none */
};
#define CACHIER_HOT_BYTES (4<<20)
#define CACHIER_STATEMENT_BYTES (4<<20)   /* the statement memo (memo.c) */
#define EVICT_LRU  0
#define EVICT_COST 1

/* memoize_with() options; a field is "unset" when its has-flag is 0. */
struct CallOptions {
  int skipCache, overwriteCache, verbose;
  int hasAllowNone, allowNone;
  int hasStaleAfter; double staleAfter;
  int hasMaxAge; double maxAge;
  int hasNextTime, nextTime;
  int hasWait; double waitForCalcTimeout;
  int hasCleanupStale, cleanupStale;
  int hasCleanupInterval; double cleanupInterval;
  int hasStaleWhileRefresh; double staleWhileRefresh;
  int hasStaleIfError; double staleIfError;
  int hasStatementBytes; sqlite3_int64 statementBytes;
  int bOnlyMemoBytes;         /* no option but statement_bytes is set */
};

/* One setting: a column of cachier_functions and cachier_config, a
** memoize_with() option, or both. The one table of them (aSetting[] in
** settings.c, read through settingColumn()) drives the columns'
** declaration and SQL, their validation, loading and option parsing. */
typedef struct SettingDef SettingDef;
struct SettingDef {
  const char *zName;          /* column name and option key */
  int eKind;                  /* SETTING_KIND_*: its syntax and C type */
  int flags;                  /* SETTING_* */
  int iFn;                    /* offset in FnSettings, -1: none */
  int iFnStar;                /* offset the '*' row sets, -1: none */
  int iOpt;                   /* offset in CallOptions, -1: not an option */
  int iOptHas;                /* offset of its has-flag, -1: none */
  double rDefault;            /* built-in default of a numeric kind */
  const char *zStarOnlyWhy;   /* SETTING_STAR_ONLY: why, for the error */
};
/* Kinds, with the C type of their FnSettings and CallOptions fields. */
#define SETTING_KIND_NAME     0   /* cachier_functions.name: none */
#define SETTING_KIND_DURATION 1   /* double seconds; CACHIER_NEVER */
#define SETTING_KIND_BOOL     2   /* int 0/1 */
#define SETTING_KIND_SIZE     3   /* sqlite3_int64 bytes; -1: none */
#define SETTING_KIND_COUNT    4   /* sqlite3_int64; -1: none */
#define SETTING_KIND_LEVEL    5   /* int zstd level */
#define SETTING_KIND_EVICTION 6   /* int EVICT_* */
#define SETTING_KIND_STORE    7   /* char* store name (sqlite3_malloc) */
#define SETTING_KIND_FUNCTION 8   /* char* SQL function name (idem) */
#define SETTING_KIND_DEPENDS  9   /* char* list of tables (idem) */
#define SETTING_KIND_VERSION  10  /* sqlite3_int64 version stamp; 0: none */
/* Flags. */
#define SETTING_NEVER_OK    0x01  /* a duration may be 'never' */
#define SETTING_NEGATIVE_OK 0x02  /* a duration may be negative */
#define SETTING_POSITIVE    0x04  /* a duration must be more than 0 */
#define SETTING_NULL_NEVER  0x08  /* option: JSON null means 'never' */
#define SETTING_STAR_ONLY   0x10  /* set in the '*' row only */
#define SETTING_NONE_OFF    0x20  /* 'none' loads as 0 (off) */
#define SETTING_OPTION_ONLY 0x40  /* a memoize_with() option, no column */
#define SETTING_SEALED      0x80  /* reaches code or the outside world:
                                  ** honoured only if its row is sealed */

/* A parsed value: r, n or i by kind; z for the text kinds. */
typedef struct SettingValue SettingValue;
struct SettingValue {
  double r;
  sqlite3_int64 n;
  int i;
  const char *z;
};

const SettingDef *settingColumn(int iCol);
int settingColumnCount(void);
char *settingColumnList(void);
int settingParse(const SettingDef*, sqlite3_value*, SettingValue*,
                 char **pzWhy);
int settingRuleCheck(const SettingDef*, const SettingValue*, char **pzWhy);

void settingsDefaults(FnSettings*);
void settingsClear(FnSettings*);
int settingsLoad(Cachier*, const char *zFn, FnSettings*, char **pzErr);
sqlite3_stmt *settingsStoresPrepare(Cachier*);
const char *settingsStoresNext(Cachier*, sqlite3_stmt*);
int optionsParse(sqlite3*, sqlite3_value*, CallOptions*, char **pzErr);
int parseDuration(sqlite3_value*, int bAllowNegative, double *pSecs, char **pzErr);
int parseSize(sqlite3_value*, sqlite3_int64 *pBytes, char **pzErr);
int parseBool(sqlite3_value*, int *pOn, char **pzErr);
int parseEviction(sqlite3_value*, int *pePolicy, char **pzErr);
int parseCount(sqlite3_value*, sqlite3_int64 *pN, char **pzErr);

/**************************************************************************
** Interface to code in sha256.c.
*/

#define SHA256_BYTES 32
typedef struct Sha256 Sha256;
struct Sha256 {
  uint32_t h[8];
  uint64_t nBytes;
  unsigned char aBuf[64];
  unsigned nBuf;
};
typedef struct Hmac Hmac;
struct Hmac {
  Sha256 inner, outer;
};
void sha256Init(Sha256*);
void sha256Update(Sha256*, const void*, size_t);
void sha256Final(Sha256*, unsigned char aOut[SHA256_BYTES]);
void hmacInit(Hmac*, const unsigned char *aKey, size_t nKey);
void hmacUpdate(Hmac*, const void*, size_t);
void hmacFinal(Hmac*, unsigned char aOut[SHA256_BYTES]);

/**************************************************************************
** Interface to code in seal.c.
*/

#define SEAL_NONE    0        /* no sealed setting has a value */
#define SEAL_VALID   1
#define SEAL_INVALID 2
int sealCheck(Cachier*, sqlite3_stmt*, int iName, int iSeal);
int sealRow(Cachier*, sqlite3_int64 iRowid, char **pzErr);
int sealUpdateMaySeal(Cachier*, sqlite3_int64 iRowid, uint64_t mUnchanged);
int sealWarnOnce(Cachier*, const char *zWhat);
void sealFree(Cachier*);
int sealQuery(Cachier*, const char *zName, const char *zQuery, int bCreate,
              unsigned char aMac[SHA256_BYTES]);

/**************************************************************************
** Interface to code in json.c.
*/

/* One JSON token; its kinds are json_each()'s type names. */
#define JTOK_NULL    0
#define JTOK_TRUE    1
#define JTOK_FALSE   2
#define JTOK_INTEGER 3
#define JTOK_REAL    4
#define JTOK_TEXT    5
#define JTOK_ARRAY   6
#define JTOK_OBJECT  7
typedef struct JsonTok JsonTok;
struct JsonTok {
  int eType;                  /* JTOK_* */
  const char *z;              /* its first byte */
  int n;                      /* its bytes (a string's with its quotes) */
};
int jsonObjectCheck(const char *z, int *pi);
int jsonObjectNext(const char *z, int *pi, JsonTok *pKey, JsonTok *pVal);
char *jsonText(const JsonTok*);
int jsonNumber(const JsonTok*, sqlite3_int64 *pI, double *pR);

/**************************************************************************
** Interface to code in staleness.c.
*/

/* The time rules of one call: the function's settings, overridden by the
** call's options. */
typedef struct CallRules CallRules;
struct CallRules {
  double staleAfter;          /* past it an entry is stale */
  double maxAge;              /* past it an entry is never served */
  int nextTime;               /* serve stale entries, refresh them later */
  double staleWhileRefresh;   /* how long past staleAfter next_time serves */
  double staleIfError;        /* how long past staleAfter a stale value
                              ** stands in for an error */
  double waitForCalcTimeout;  /* 0: wait for another computation forever */
};
/* What an entry's age allows (entryAge()). */
#define AGE_FRESH        0    /* serve it */
#define AGE_STALE_SERVE  1    /* next_time: serve it and have it refreshed */
#define AGE_STALE        2    /* recompute it */
#define AGE_TOO_OLD      3    /* past max_age: recompute, never serve */

double cachierNow(Cachier*);
sqlite3_int64 cachierMonotonicNs(void);
sqlite3_int64 cachierComputeNs(Cachier*, sqlite3_int64 t0Ns, double tClock0);
int entryIsStale(double created, double now, double maxAge);
void callRules(const FnSettings*, const CallOptions*, CallRules*);
int entryAge(const CallRules*, double created, double now);
int staleIfErrorApplies(const CallRules*, double created, double now);
double refreshBackoff(int attempts);

/**************************************************************************
** Interface to code in refresh.c.
*/

/* Why background refresh cannot run on a connection without a mutex
** (cachier_debug(), cachier_log). */
#define CACHIER_REFRESH_OFF_WHY "off (the connection is not in SQLite's " \
  "serialized mode: refreshes wait for cachier_refresh())"
void refresherWake(Cachier*);
void refresherStop(Cachier*);
void cleanupMaybe(Cachier*, FnInfo*, CachierStore*, const CallOptions*);

/**************************************************************************
** Interface to code in evict.c.
*/

int evictBounded(const FnSettings*);
void evictNoteHit(FnStats*, sqlite3_int64 iId);
void evictMaybe(Cachier*, FnInfo*, CachierStore*, double staleAfter);

/**************************************************************************
** Interface to code in value_codec.c.
*/

#define CACHIER_COMPRESS_MIN   512
#define CACHIER_COMPRESS_LEVEL 3

/* A stored value decoded: its type (TEXT or BLOB) and bytes. */
struct DecodedValue {
  int eType;
  unsigned char *a;
  sqlite3_int64 n;
};
void decodedValueResult(sqlite3_context*, DecodedValue*, int subtype);
void decodedValueFree(DecodedValue*);
int compressLevelCheck(sqlite3_value*, int *pLevel, char **pzWhy);
int codecValueType(int codec);
void compressFreeAll(Cachier*);
const char *compressVersion(void);
/* The value codec's side of stores. */
int valueWrite(Cachier*, CachierStore*, const CachierKey*, const FnSettings*,
               sqlite3_value *pValue, sqlite3_int64 computeNs,
               const unsigned char *aArgs, sqlite3_int64 nArgs,
               const DepsState *pDeps);
int valueResult(CachierStore*, sqlite3_context*, const CachierEntry*);
int valueDecode(CachierStore*, int codec, sqlite3_value *pStored,
                sqlite3_int64 nLogical, DecodedValue*);

/**************************************************************************
** Interface to code in store.c.
*/

/* The connection's stores (each one's interface is in store.h). */
CachierStore *cachierMainStore(Cachier*);
CachierStore *storeOpen(Cachier*, const char *zSpec, char **pzErr);
CachierStore *storeForFunction(Cachier*, const char *zFn, char **pzErr);
int storeSpecCheck(const char *zSpec, char **pzWhy);
int storeListAll(Cachier*, CachierStore ***paStore, int *pnStore);
int storeFlushAll(Cachier*);
void storeCloseAll(Cachier*);

/**************************************************************************
** Interface to code in hot.c.
*/

HotTier *hotFor(CachierStore*, sqlite3_int64 maxBytes);
int hotLookup(HotTier*, CachierStore*, const CachierKey*, int flags,
              CachierEntry*, int bRecheck);
/* What memoize()'s fast path asks the tier about a function, the same at
** every call of a statement (filled once, when its plan is made). */
typedef struct HotProbe HotProbe;
struct HotProbe {
  const char *zFn;            /* the function's name, its length, */
  int nFn;
  sqlite3_int64 iFnBase;      /* and the first id of its range */
  int bAllowNone;             /* a stored NULL may be served */
  int (*xFresh)(void*, const CachierEntry*);  /* NULL, or whether an
                              ** entry is fresh by its stamps */
  void *pFreshArg;
};
int hotServeArgs(HotTier*, CachierStore*, sqlite3_context*, const HotProbe*,
                 const unsigned char *aArgs, sqlite3_int64 nArgs,
                 uint64_t hArgs, int bRecheck, CachierEntry *pServed);
int hotBeforeLookup(HotTier*, CachierStore*, int bRecheck);
const unsigned char *hotVersion(HotTier*);
void hotInsert(HotTier*, CachierStore*, const CachierKey*, int flags,
               const CachierEntry*);
void hotFree(CachierStore*);
sqlite3_int64 hotHits(CachierStore*);
/* Reference-counted bytes of a text or blob, handed to SQLite as a result
** without a copy (the tier and the statement memo keep values so). */
unsigned char *cachierSharedNew(const void *a, sqlite3_int64 n);
/* One more result holds the bytes of a block of cachierSharedNew() (the
** count's header is CACHIER_SHARED_HEADER bytes before them). */
#define CACHIER_SHARED_HEADER 16
static inline void cachierSharedRef(unsigned char *aShared){
  ++*(sqlite3_int64*)(void*)(aShared - CACHIER_SHARED_HEADER);
}
void cachierSharedRelease(void *aShared);
/* (What a store calls to keep the tier true is in store.h.) */

/**************************************************************************
** Interface to code in memo.c.
*/

/* One value of a statement memo: its encoded arguments (aKey), its type,
** subtype and value, and the entry's created time and id (for the rules
** checked on a memo hit). */
struct MemoEntry {
  uint64_t h;                 /* keyArgsHash(0, aKey) */
  sqlite3_int64 nKey;
  int eType;                  /* SQLITE_INTEGER ... SQLITE_NULL */
  int subtype;
  double created;             /* 0 unless the rules are timed */
  sqlite3_int64 id;           /* 0 unless an eviction bound needs it */
  sqlite3_int64 iVal;
  double rVal;
  unsigned char *aShared;     /* text or blob bytes (cachierSharedNew()) */
  sqlite3_int64 nVal;
  unsigned char aKey[];       /* the encoded arguments */
};
MemoEntry *memoFind(StmtMemo*, Cachier*, const unsigned char *aArgs,
                    sqlite3_int64 nArgs, uint64_t hArgs);
void memoResult(sqlite3_context*, const MemoEntry*);
void memoFill(StmtMemo **pm, Cachier*, sqlite3_int64 maxBytes,
              uint64_t hSeen, const unsigned char *aArgs, sqlite3_int64 nArgs,
              uint64_t hArgs, sqlite3_value *pValue, int subtype, double created,
              sqlite3_int64 id);
void memoFree(StmtMemo*);
void cachierMemoChanged(Cachier*);

/**************************************************************************
** Interface to code in inflight.c.
*/

struct InflightLock {
  Inflight *q;                /* the marks it belongs to, or */
  CachierStore *pStore; /* the store keeping the mark (pMarks) */
  sqlite3_int64 off;          /* offset of the held lock byte, -1: none */
  sqlite3_int64 iBase;
};
#define INFLIGHT_HELD 0
#define INFLIGHT_BUSY 1
#define INFLIGHT_NONE 2
int inflightAcquire(Cachier*, CachierStore*, sqlite3_int64 iBase,
                    double timeoutSecs, int bTry, InflightLock*,
                    int *pbWaited);
void inflightRelease(InflightLock*);
void inflightForget(InflightLock*);
void inflightUnlockLater(InflightLock*);
int inflightIsComputing(Cachier*, CachierStore*, sqlite3_int64 iBase);
void inflightClose(Inflight**);
int inflightHeld(const Inflight*);

/**************************************************************************
** Interface to code in call.c.
*/

typedef struct FnCall FnCall;
struct FnCall {
  char *zFn;                  /* canonical name */
  int nArg;
  sqlite3_stmt *pStmt;        /* SELECT "fn"(?1,...,?N) */
  unsigned char *aSub;        /* argument subtypes pStmt was prepared for */
};
int callCanonicalName(const char *zCaller, sqlite3_value *pName, char **pzFn,
                      char **pzErr);
int callCheckFunction(Cachier*, const char *zCaller, const char *zFn,
                      int nArg, char **pzErr);
int callCheckHashFunc(Cachier*, const char *zCaller, const char *zFn,
                      int nArg, char **pzErr);
int callCheckStoredFunction(Cachier*, const char *zCaller, const char *zFn,
                            int nArg, char **pzErr);
int callResolve(Cachier*, const char *zCaller, sqlite3_value *pName, int nArg,
                char **pzFn, char **pzErr);
int callPrepare(Cachier*, FnCall*, const unsigned char *aSub, char **pzErr);
int callRun(Cachier*, FnCall*, sqlite3_value **apArg, char **pzErr);
int callRunEncoded(Cachier*, FnCall*, const unsigned char *aArgs,
                   sqlite3_int64 nArgs, char **pzErr);
void callReset(FnCall*);
void callFinalize(FnCall*);

/**************************************************************************
** Interface to code in depends.c.
*/

/* A statement's view of its function's dependencies: the stamp its
** entries must carry to be fresh, read once per statement and again when
** this connection changed something (memoize.c keeps one in its plan). */
struct DepsState {
  int eState;                 /* DEPS_* below */
  unsigned char *aStamp;      /* the current stamp (cachier.h): the
                              ** version, then the items; NULL: none */
  int nStamp;
  sqlite3_int64 nChanges;     /* sqlite3_total_changes64() when read */
  char **azSchema;            /* the dependencies' databases (nSchema) */
  int nSchema;
};
#define DEPS_NONE    0        /* no depends_on: nothing to check */
#define DEPS_KNOWN   1        /* aStamp is the current stamp */
#define DEPS_UNKNOWN 2        /* cannot be told (tracking missing, not
                              ** sealed): serve nothing, store nothing */
/* What a stored entry is worth, by its stamps (dependsVerdict()). */
#define VERDICT_FRESH    0
#define VERDICT_CHANGED  1    /* a dependency changed: stale */
#define VERDICT_OUTDATED 2    /* another version, or cannot be told */

int dependsRead(Cachier*, const FnSettings*, DepsState*);
int dependsUpToDate(Cachier*, const FnSettings*, DepsState*);
int dependsVerdict(const FnSettings*, const DepsState*, const CachierEntry*);
int dependsMayStore(Cachier*, const DepsState*, CachierStore*);
void dependsClear(DepsState*);
void dependsFreeAll(Cachier*);
int dependsCanonical(Cachier*, sqlite3_value*, char **pzOut, char **pzErr);
int dependsSync(Cachier*, char **pzErr);
int dependsVersionStamp(sqlite3_value*, sqlite3_int64 *pStamp);
int dependsDeleteOutdated(CachierStore*, const char *zFn, const FnSettings*,
                          sqlite3_int64 *pnDeleted);
char *dependsChanged(const FnSettings*, const DepsState*, const CachierEntry*);

/**************************************************************************
** Interface to code in memoize.c.
*/

/* One computation of a memoized function and the write of its result:
** the last phase of memoize(), and a refresh (refresh.c). */
typedef struct ComputeJob ComputeJob;
struct ComputeJob {
  FnCall *pCall;              /* the function's prepared call */
  sqlite3_value **apArg;      /* its arguments, or (apArg NULL) */
  const unsigned char *aArgs; /* their encoding */
  sqlite3_int64 nArgs;
  FnStats *pStats;            /* counts the computation; NULL: nobody */
  CachierStore *pStore; /* stores the result; NULL: nothing does */
  const CachierKey *pKey;
  const FnSettings *pSettings;
  int bAllowNone;             /* a NULL result may be stored */
  const unsigned char *aKeyArgs; /* hash_func keys: the arguments, kept */
  sqlite3_int64 nKeyArgs;     /* beside the entry for refreshes */
  const DepsState *pDeps;     /* the stamp to store it with; NULL: none */
  /* OUT: */
  sqlite3_value *pResult;     /* the result, until callReset(pCall) */
  sqlite3_int64 computeNs;    /* how long the function took */
  int eStored;                /* COMPUTE_STORED, _UNSTORABLE or _NOT_STORED */
  int rcWrite;                /* the store's error, if the write failed */
  char *zErr;                 /* the call's error message (sqlite3_free) */
};
#define COMPUTE_STORED      0 /* the result is in pStore */
#define COMPUTE_UNSTORABLE  1 /* NULL (not allowed) or over entry_size_limit */
#define COMPUTE_NOT_STORED  2 /* no pStore, or the write failed (rcWrite) */
int computeAndStore(Cachier*, ComputeJob*);

/**************************************************************************
** Interface to code in vtab_common.c.
*/

/* The sqlite3_vtab of cachier's eponymous tables. */
typedef struct CachierVtab CachierVtab;
struct CachierVtab {
  sqlite3_vtab base;
  Cachier *p;
};
int cachierVtabConnect(sqlite3*, void *pAux, const char *zDecl,
                       int bDirectOnly, sqlite3_vtab **ppVtab);
int cachierVtabDisconnect(sqlite3_vtab*);
int cachierVtabMainOnly(sqlite3_vtab*, const char *zTable);
void cachierBestIndexEq(sqlite3_index_info*, int iCol, double costScan,
                        double costEq, int bUnique);

/**************************************************************************
** Interface to code in rowset_codec.c.
*/
int rowsetEncode(sqlite3_stmt*, KeyBuf *pOut);
int rowsetOpen(const unsigned char *a, sqlite3_int64 n, int nColExpect,
               sqlite3_int64 *pnRow, sqlite3_int64 *piFirst);
int rowsetRow(const unsigned char *a, sqlite3_int64 n, int nCol, int bLast,
              sqlite3_int64 *pi, sqlite3_int64 *aOff);
void rowsetResult(sqlite3_context*, const unsigned char *a, sqlite3_int64 n,
                  sqlite3_int64 iOff);

/**************************************************************************
** Interface to code in vtab_query.c.
*/
int queryTableParams(Cachier*, const char *zFn);
int queryTableConnect(Cachier*, const char *zFn);
void queryFoldSettings(Cachier*, const char *zFn, FnSettings*);
void queryRefresh(Cachier*, const char *zFn);
#define QUERY_ROWS_FUNCTION "cachier_query_rows"

/**************************************************************************
** Interface to code in fninfo.c.
*/

FnInfo *fnInfoGet(Cachier*, const char *zCaller, sqlite3_value *pName,
                  int nArg, int *pRc, char **pzErr);
FnInfo *fnInfoFind(Cachier*, sqlite3_value *pName, int nArg);
int fnInfoRefresh(Cachier*, FnInfo*, char **pzErr);
sqlite3_int64 fnInfoLoads(const FnInfo*);
int fnInfoPark(FnInfo*, void *pPlan, void (*xFree)(void*));
void *fnInfoTakeParked(FnInfo*);
const char *fnInfoName(const FnInfo*);
int fnInfoArgCount(const FnInfo*);
FnStats *fnInfoStats(const FnInfo*);
const FnSettings *fnInfoSettings(const FnInfo*);
int fnInfoStoreState(const FnInfo*);
CachierStore *fnInfoStore(const FnInfo*);
FnCall *fnInfoCall(Cachier*, FnInfo*);
void fnInfoFree(FnInfo*);
void fnInfoFinalizeAll(Cachier*);
void fnInfoFlushStats(Cachier*, int bFromCall);
void fnInfoFreeAll(Cachier*);

#endif /* CACHIER_H */
