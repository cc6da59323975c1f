/*
** store.h - the store interface.
**
** A store keeps cache entries: (function, encoded arguments) -> value plus
** metadata. memoize.c and the virtual tables talk to stores only through
** CachierStoreMethods, so the memoize logic does not know which one it
** talks to. Each store is one file:
**   store_main.c     "main": shadow tables in the connection's main database
**   store_file.c     "file:PATH": a cache database of its own (WAL, grouped
**                    commits), shared by every process on the machine
**   store_memory.c   "memory": one in-memory database per process
**   store_redis.c    "redis://..." and "unix:...": a Redis server, shared
**                    between machines (redis_conn.c: the connection)
** The first three keep the same tables (sql/schema.sql), so the SQL that reads
** and writes them is shared: store_tables.c. A function's store is its
** cachier_functions.store setting; a connection opens each store it needs
** once (storeOpen()) and closes them when it closes.
**
** Contract shared by every store:
**   - xLookup never writes and never takes a write lock (hits never write).
**   - A store that cannot be read behaves as empty; one that cannot be
**     written reports the error and the caller computes without storing.
**   - Values come back with the same type, bytes and subtype they went in.
*/
#ifndef CACHIER_STORE_H
#define CACHIER_STORE_H

#include "cachier.h"

typedef struct CachierStore CachierStore;
typedef struct CachierStoreMethods CachierStoreMethods;
typedef struct CachierScan CachierScan;

/* What a store holds for one function, for cachier_stats and eviction. */
typedef struct StoreTotal StoreTotal;
struct StoreTotal {
  char *zFn;
  sqlite3_int64 nEntries, nBytes, nStoredBytes;
  double avgComputeSeconds;
};
void storeFreeTotals(StoreTotal*, int);

/* One stored entry as a store returns it. pValue and the key bytes stay
** valid until the matching xLookupDone()/xScanNext()/xScanClose(). */
struct CachierEntry {
  sqlite3_int64 id;           /* store-wide identity of the entry */
  const char *zFn;
  const unsigned char *aKey; sqlite3_int64 nKey;
  sqlite3_value *pValue;
  int subtype;
  int codec;                  /* how pValue is stored (compress.c), 0: raw */
  double created;             /* unix seconds */
  sqlite3_int64 computeNs;    /* how long the function took */
  sqlite3_int64 nBytes;       /* logical size of the value */
  int refresh;                /* 1: a next_time refresh is pending */
  int attempts;               /* failed refresh attempts in a row */
  double retryAt;             /* no refresh attempt before this (0: now) */
  const unsigned char *aArgs; /* hash_func functions: encoded arguments */
  sqlite3_int64 nArgs;
};

/* An entry eviction may delete: its id, its stored size, and (for a scan
** of the whole store) its function. */
typedef struct EvictCandidate EvictCandidate;
struct EvictCandidate {
  sqlite3_int64 id;
  sqlite3_int64 nStored;
  int bStale;                 /* created before staleBefore */
  char *zFn;                  /* whole-store scans only; else NULL */
};

/* What xWrite stores. */
typedef struct CachierWrite CachierWrite;
struct CachierWrite {
  sqlite3_value *pValue;      /* the value, as the function returned it */
  int subtype;
  int codec;                  /* how it is stored (compress.c), 0: as is */
  const unsigned char *aStored; /* its encoded form when codec is not 0 */
  sqlite3_int64 nStored;
  double created;
  sqlite3_int64 computeNs;
  const unsigned char *aArgs; /* hash_func keys: the encoded arguments */
  sqlite3_int64 nArgs;
  double ttl;                 /* seconds after which the entry can no longer
                              ** be served (0: never); stores that expire
                              ** entries by themselves may use it */
};

/* xLookup flags: also fill created (to decide staleness); also fill id
** and refresh (to mark a refresh). */
#define CACHIER_LOOKUP_CREATED 0x01
#define CACHIER_LOOKUP_REFRESH 0x02

struct CachierStoreMethods {
  const char *zName;
  /* Find pKey. *pFound is 1 and *pEntry filled when present: pValue,
  ** subtype, codec (and nBytes when codec is not 0) always, created only with CACHIER_LOOKUP_CREATED, nothing else
  ** (a hit reads no more than it serves). Call xLookupDone() when done with the
  ** entry, found or not. */
  int (*xLookup)(CachierStore*, const CachierKey*, int flags, CachierEntry*,
                 int *pFound);
  void (*xLookupDone)(CachierStore*);
  /* xLookup with CACHIER_LOOKUP_CREATED (the refresh state too where it
  ** costs nothing more: callers use only the value and its time) that
  ** also sees what other connections committed after this connection's
  ** read snapshot began (a waiter looks with it for the result it waited
  ** for). */
  int (*xLookupLatest)(CachierStore*, const CachierKey*, CachierEntry*,
                       int *pFound);
  /* Store a value for pKey, replacing any entry of the same key (and so
  ** clearing its refresh mark). */
  int (*xWrite)(CachierStore*, const CachierKey*, const CachierWrite*);
  /* Mark entry id for a next_time refresh (once: a marked entry is left
  ** as it is, so its backoff survives). */
  int (*xMarkRefresh)(CachierStore*, sqlite3_int64 id);
  /* The ids of zFn's entries (all functions' if NULL) marked for refresh
  ** and due at `now`, in *paId (sqlite3_free it). */
  int (*xRefreshDue)(CachierStore*, const char *zFn, double now,
                     sqlite3_int64 **paId, int *pnId);
  /* Read entry id in full (every field), as of now. Call xLookupDone(). */
  int (*xGet)(CachierStore*, sqlite3_int64 id, CachierEntry*, int *pFound);
  /* A refresh of entry id failed: keep its value, record the attempt and
  ** when to try again. */
  int (*xRefreshFailed)(CachierStore*, sqlite3_int64 id, int attempts,
                        double retryAt);
  /* Up to nMax of zFn's entries (the whole store's if NULL) in eviction
  ** order: those created before staleBefore first, then by ePolicy
  ** (EVICT_LRU: oldest stored first; EVICT_COST: least compute time per
  ** stored byte first). *paCand is sqlite3_malloc'ed (free each zFn). */
  int (*xEvictionCandidates)(CachierStore*, const char *zFn, int ePolicy,
                             double staleBefore, int nMax,
                             EvictCandidate **paCand, int *pnCand);
  /* Delete zFn's entries created before `before`. */
  int (*xDeleteOlder)(CachierStore*, const char *zFn, double before,
                      sqlite3_int64 *pnDeleted);
  /* Delete the entries of zFn (all entries if zFn is NULL). */
  int (*xClear)(CachierStore*, const char *zFn, sqlite3_int64 *pnDeleted);
  /* Delete one entry by its id (as returned in CachierEntry.id). */
  int (*xDelete)(CachierStore*, sqlite3_int64 id);
  /* Iterate over the entries of zFn (every entry if zFn is NULL). */
  int (*xScanOpen)(CachierStore*, const char *zFn, CachierScan**);
  int (*xScanNext)(CachierScan*, CachierEntry*, int *pEof);
  void (*xScanClose)(CachierScan*);
  /* STORE_ABSENT, STORE_READY, STORE_NEWER or STORE_OLD (migrating an old
  ** layout first, when it can). */
  int (*xState)(CachierStore*, int *peState);
  /* The message of an error rc a method of this store returned. */
  const char *(*xErrmsg)(CachierStore*, int rc);
  /* Entries, bytes, stored bytes and average compute time per function
  ** (zFn's only, if not NULL), in *paTotal (storeFreeTotals()). */
  int (*xTotals)(CachierStore*, const char *zFn, StoreTotal **paTotal,
                 int *pnTotal);
  /* zstd dictionaries (compress.c): zFn's newest (*piId 0 if none) and its
  ** zstd id; one by id (sqlite3_free *ppDict); add one; remove one. */
  int (*xDictLatest)(CachierStore*, const char *zFn, sqlite3_int64 *piId,
                     unsigned *pZstdId);
  int (*xDictLoad)(CachierStore*, sqlite3_int64 iId, void **ppDict,
                   sqlite3_int64 *pnDict);
  int (*xDictAdd)(CachierStore*, const char *zFn, const void *aDict,
                  sqlite3_int64 nDict, int nSample, double created,
                  sqlite3_int64 *piId);
  int (*xDictDelete)(CachierStore*, sqlite3_int64 iId);
  /* Make the writes so far durable and visible to others (stores that
  ** group their commits; NULL otherwise). Thread-safe. */
  int (*xFlush)(CachierStore*, int *pnCommitted);
  /* Release an in-flight mark after the write it guarded; a store that
  ** has not committed that write yet keeps the mark until it has. */
  void (*xMarkDone)(CachierStore*, InflightLock*, int bWrote);
  /* The file holding the entries, NULL if none (cachier_cache_path()). */
  const char *(*xPath)(CachierStore*);
  /* Called at each memoize() call on the store (NULL: nothing to do): a
  ** grouping store commits a group that has grown old. */
  void (*xTick)(CachierStore*);
  /* The statement that used the store ended (NULL: nothing to do). */
  void (*xStatementEnd)(CachierStore*);
  /* The store's version into aVer (STORE_VERSION_BYTES): it changes with
  ** every commit, by any connection or process. Returns 0 when it cannot
  ** be told cheaply (the hot tier then keeps nothing; NULL: never).
  ** bRecheck: also check where the version is read from (once per
  ** statement: the journal mode of the user's database may change between
  ** statements). */
  int (*xVersion)(CachierStore*, unsigned char *aVer, int bRecheck);
  /* 1 if what a lookup now finds may enter the hot tier, whose values
  ** are of version aVer: the lookup reads exactly that version, in a
  ** transaction that cannot roll back what it reads. */
  int (*xMayFill)(CachierStore*, const unsigned char *aVer);
  /* A number that changes when another connection commits to the store
  ** (PRAGMA data_version): what this connection read from it (settings
  ** of its own such as dictionaries) may be out of date. */
  int (*xDataVersion)(CachierStore*, sqlite3_int64 *pV);
  /* After a miss and taking the key's mark: could the lookup have missed a
  ** value another connection committed meanwhile (so look again)? NULL:
  ** always assume so. */
  int (*xSnapshotStale)(CachierStore*);
  void (*xClose)(CachierStore*);
  /* In-flight marks kept by the store itself (NULL: the file locks of
  ** inflight.c). xMarkTry takes the mark of the key whose slot range
  ** starts at iBase without waiting: INFLIGHT_HELD, INFLIGHT_BUSY (another
  ** holds it) or INFLIGHT_NONE (cannot tell: compute unmarked). */
  int (*xMarkTry)(CachierStore*, sqlite3_int64 iBase);
  void (*xMarkRelease)(CachierStore*, sqlite3_int64 iBase);
  int (*xMarkIsComputing)(CachierStore*, sqlite3_int64 iBase);
  /* End every mark of the functions whose 16-bit name hash (the top of
  ** their ids) is iFnHash (of all functions if it is -1); how many there
  ** were. */
  sqlite3_int64 (*xMarkClear)(CachierStore*, int iFnHash);
};

struct CachierStore {
  const CachierStoreMethods *pMethods;
  Cachier *pCachier;
  CachierStore *pNext;        /* the connection's other open stores */
  char *zSpec;                /* its canonical name: main, memory, file:/abs */
  char *zLockDb;              /* in-flight marks live beside this file;
                              ** NULL: beside main's (inflight.c) */
  Inflight *pInflight;        /* those marks, opened on first use */
  HotTier *pHot;              /* hits kept in memory (hot.c); NULL: none */
};

#define STORE_VERSION_BYTES 48


/* The value codec's side of stores (compress.c). */
int valueWrite(Cachier*, CachierStore*, const CachierKey*, const FnSettings*,
               sqlite3_value *pValue, sqlite3_int64 computeNs,
               const unsigned char *aArgs, sqlite3_int64 nArgs);
int valueResult(CachierStore*, sqlite3_context*, const CachierEntry*);
int valueDecode(CachierStore*, int codec, sqlite3_value *pStored,
                sqlite3_int64 nLogical, DecodedValue*);

/* Whether a store's tables exist and may be used by this build. */
#define STORE_ABSENT 0
#define STORE_READY  1
#define STORE_NEWER  2
#define STORE_OLD    3   /* an older schema this connection cannot upgrade */
#define STORE_UNAVAILABLE 4 /* the store cannot be opened */

/* ------------------------------------------------------------ registry */

/* The connection's default store (shadow tables in "main"); never NULL
** after a successful storeMainOpen() in the init. */
CachierStore *cachierMainStore(Cachier*);
/* The store named zSpec (a cachier_functions.store value; NULL: main),
** opened on first use. NULL with *pzErr set if it cannot be opened. */
CachierStore *storeOpen(Cachier*, const char *zSpec, char **pzErr);
/* The store zFn's entries live in, as its settings say (zFn NULL: the
** default store, the '*' row's). NULL with *pzErr set on error. */
CachierStore *storeForFunction(Cachier*, const char *zFn, char **pzErr);
/* Check a store name for cachier_functions: SQLITE_OK, or an error with
** *pzWhy saying what is wrong. */
int storeSpecCheck(const char *zSpec, char **pzWhy);
/* Every store this connection may have entries in: main, the stores that
** cachier_functions names, and those already open. *paStore is
** sqlite3_malloc'ed (the stores themselves belong to the connection);
** stores that cannot be opened are skipped (and logged). */
int storeListAll(Cachier*, CachierStore ***paStore, int *pnStore);
/* Commit every open store's grouped writes (before waiting, connection
** close, cachier_flush()): how many values were committed, -1 if a commit
** failed. */
int storeFlushAll(Cachier*);
/* Close every store (connection close). */
void storeCloseAll(Cachier*);

/* ---------------------------------------------------- store_tables.c */

/* The tables of a store in one database connection. */
typedef struct TablesStore TablesStore;
/* A store of cachier's tables in db, named zSpec (bOwnDb: a connection of
** cachier's own, whose statements the store keeps and which it closes;
** else the user's, whose statements follow cachierStmt()). bGroup: group
** writes into transactions (store_file.c). */
CachierStore *tablesStoreNew(Cachier*, sqlite3 *db, int bOwnDb, int bGroup,
                             const char *zSpec);
/* Main is about to be read outside a transaction: note its version for
** the hot tier (store_tables.c). */
void tablesNoteSnapshot(CachierStore*);
/* Register what a connection of cachier's own needs to create the tables
** (the "cachier" module). */
int tablesPrepareDb(Cachier*, sqlite3 *db);
int storeSchemaVersion(sqlite3*);
/* Run the schema SQL (the "cachier" module's xCreate). */
int storeCreateTables(sqlite3*, char **pzErr);
int storeDropTables(sqlite3*);
/* Create the tables of a store if they do not exist. */
int storeEnsureTables(CachierStore*);

/* --------------------------------------------------------------- hot.c */

HotTier *hotFor(CachierStore*, sqlite3_int64 maxBytes);
int hotLookup(HotTier*, CachierStore*, const CachierKey*, int flags,
              CachierEntry*, int bRecheck);
int hotServeArgs(HotTier*, CachierStore*, sqlite3_context*,
                 const char *zFn, int nFn, sqlite3_int64 iFnBase,
                 const unsigned char *aArgs, sqlite3_int64 nArgs,
                 int bAllowNone, int bRecheck);
int hotBeforeLookup(HotTier*, CachierStore*, int bRecheck);
const unsigned char *hotVersion(HotTier*);
void hotInsert(HotTier*, CachierStore*, const CachierKey*, int flags,
               const CachierEntry*);
void hotForget(CachierStore*, const CachierKey*);
void hotForgetBase(CachierStore*, sqlite3_int64 iBase);
void hotClear(CachierStore*);
void hotFree(CachierStore*);
sqlite3_int64 hotHits(CachierStore*);

/* ----------------------------------------------------- the three stores */

CachierStore *storeMainOpen(Cachier*);
CachierStore *storeFileOpen(Cachier*, const char *zSpec, char **pzErr);
CachierStore *storeMemoryOpen(Cachier*, char **pzErr);
/* The absolute path a "file:PATH" store name means on this connection. */
char *storeFilePath(Cachier*, const char *zSpec);
/* A Redis store ("redis://..." or "unix:..."): check a name (and make its
** canonical form, if pzCanonical), open one. */
int storeRedisCheck(const char *zSpec, char **pzCanonical, char **pzWhy);
CachierStore *storeRedisOpen(Cachier*, const char *zSpec, char **pzErr);
void storeRedisRename(CachierStore*, const char *zSpec);
sqlite3_int64 storeRedisFailures(CachierStore*);

#endif /* CACHIER_STORE_H */
