/*
** store.h - the store interface.
**
** A store keeps cache entries: (function, encoded arguments) -> value plus
** metadata. The rest of cachier talks to stores only through the wrappers
** below (storeLookup(), storeFlush(), ...), which call the store's
** CachierStoreMethods, so the memoize logic does not know which one it
** talks to. A store fills in every core method; grouped commits, marks of
** its own and versions are optional capability tables (NULL when absent,
** the wrappers supplying the default). Each store is one file:
**   store_main.c     "main": shadow tables in the connection's main database
**   store_file.c     "file:PATH": a cache database of its own (WAL, grouped
**                    commits), shared by every process on the machine
**   store_memory.c   "memory": one in-memory database per process
**   store_redis.c    "redis://..." and "unix:...": a Redis server, shared
**                    between machines (redis_conn.c: the connection);
**                    store_redis_none.c in a build without it (REDIS=0)
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
  int codec;                  /* how pValue is stored (value_codec.c), 0: raw */
  double created;             /* unix seconds */
  sqlite3_int64 computeNs;    /* how long the function took */
  sqlite3_int64 nBytes;       /* logical size of the value */
  int refresh;                /* 1: a next_time refresh is pending */
  int attempts;               /* failed refresh attempts in a row */
  double retryAt;             /* no refresh attempt before this (0: now) */
  const unsigned char *aArgs; /* hash_func functions: encoded arguments */
  sqlite3_int64 nArgs;
  const unsigned char *aStamp; /* its stamp (cachier.h), NULL: none */
  int nStamp;
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
  int codec;                  /* how it is stored (value_codec.c), 0: as is */
  const unsigned char *aStored; /* its encoded form when codec is not 0 */
  sqlite3_int64 nStored;
  double created;
  sqlite3_int64 computeNs;
  const unsigned char *aArgs; /* hash_func keys: the encoded arguments */
  sqlite3_int64 nArgs;
  double ttl;                 /* seconds after which the entry can no longer
                              ** be served (0: never); stores that expire
                              ** entries by themselves may use it */
  const unsigned char *aStamp; /* the stamp (cachier.h), NULL: none */
  int nStamp;
};

/* xLookup flags: also fill created (to decide staleness); also fill id
** and refresh (to mark a refresh); also fill the stamp (aStamp, nStamp:
** functions with depends_on or a version). */
#define CACHIER_LOOKUP_CREATED 0x01
#define CACHIER_LOOKUP_REFRESH 0x02
#define CACHIER_LOOKUP_STAMP   0x04

/* Whether a store's tables exist and may be used by this build. */
#define STORE_ABSENT 0
#define STORE_READY  1
#define STORE_NEWER  2
#define STORE_OLD    3   /* an older schema this connection cannot upgrade */
#define STORE_UNAVAILABLE 4 /* the store cannot be opened */

typedef struct CachierStoreGroup CachierStoreGroup;
typedef struct CachierStoreMarks CachierStoreMarks;
typedef struct CachierStoreVersions CachierStoreVersions;
typedef struct CachierStoreStatus CachierStoreStatus;
typedef struct CachierStoreCounters CachierStoreCounters;

/* A function's counters as a store keeps them for every connection and
** process (cachier_stats' totals): what was added up, and when last. */
typedef struct StoreCounters StoreCounters;
struct StoreCounters {
  char *zFn;                  /* (xCountersRead: sqlite3_free each) */
  sqlite3_int64 nHit, nMiss, nCompute, computeNs;
  double at;                  /* unix seconds of the last addition */
  int bNoWait;                /* xCountersAdd: the connection closes, so
                              ** never wait for a lock (counts are lost) */
};

/* What xStatus reports of a store (cachier_debug()). */
struct CachierStoreStatus {
  sqlite3_int64 nFailures;    /* operations that failed, ever */
};

/*
** The core methods: every store fills in every one (no NULL entries).
** The optional capabilities hang off pGroup, pMarks and pVersions, each
** NULL when the store does not have it; the wrappers below say what its
** absence means.
*/
struct CachierStoreMethods {
  const char *zName;
  /* Find pKey. *pFound is 1 and *pEntry filled when present: pValue,
  ** subtype, codec (and nBytes when codec is not 0) always, created only
  ** with CACHIER_LOOKUP_CREATED, id and refresh only with
  ** CACHIER_LOOKUP_REFRESH, nothing else (a hit reads no more than it
  ** serves). Call xLookupDone() when done with the entry, found or not. */
  int (*xLookup)(CachierStore*, const CachierKey*, int flags, CachierEntry*,
                 int *pFound);
  void (*xLookupDone)(CachierStore*);
  /* xLookup with CACHIER_LOOKUP_CREATED|CACHIER_LOOKUP_STAMP (the refresh state too where it
  ** costs nothing more: callers use only the value and its time) that
  ** also sees what other connections committed after this connection's
  ** read snapshot began (a waiter looks with it for the result it waited
  ** for). */
  int (*xLookupLatest)(CachierStore*, const CachierKey*, CachierEntry*,
                       int *pFound);
  /* Store a value for pKey, replacing any entry of the same key (and so
  ** clearing its refresh mark). */
  int (*xWrite)(CachierStore*, const CachierKey*, const CachierWrite*);
  /* Read entry id in full (every field, the stamps too), as of now. Call xLookupDone(). */
  int (*xGet)(CachierStore*, sqlite3_int64 id, CachierEntry*, int *pFound);
  /* Delete one entry by its id (as returned in CachierEntry.id). */
  int (*xDelete)(CachierStore*, sqlite3_int64 id);

  /* Mark entry id for a next_time refresh (once: a marked entry is left
  ** as it is, so its backoff survives). */
  int (*xMarkRefresh)(CachierStore*, sqlite3_int64 id);
  /* The ids of zFn's entries (all functions' if NULL) marked for refresh
  ** and due at `now`, in *paId (sqlite3_free it). */
  int (*xRefreshDue)(CachierStore*, const char *zFn, double now,
                     sqlite3_int64 **paId, int *pnId);
  /* A refresh of entry id failed: keep its value, record the attempt and
  ** when to try again. */
  int (*xRefreshFailed)(CachierStore*, sqlite3_int64 id, int attempts,
                        double retryAt);

  /* Iterate over the entries of zFn (every entry if zFn is NULL). */
  int (*xScanOpen)(CachierStore*, const char *zFn, CachierScan**);
  int (*xScanNext)(CachierScan*, CachierEntry*, int *pEof);
  void (*xScanClose)(CachierScan*);

  /* Delete the entries of zFn (all entries if zFn is NULL). */
  int (*xClear)(CachierStore*, const char *zFn, sqlite3_int64 *pnDeleted);
  /* Delete zFn's entries created before `before`. */
  int (*xDeleteOlder)(CachierStore*, const char *zFn, double before,
                      sqlite3_int64 *pnDeleted);
  /* Up to nMax of zFn's entries (the whole store's if NULL) in eviction
  ** order: those created before staleBefore first, then by ePolicy
  ** (EVICT_LRU: oldest stored first; EVICT_COST: least compute time per
  ** stored byte first). *paCand is sqlite3_malloc'ed (free each zFn). */
  int (*xEvictionCandidates)(CachierStore*, const char *zFn, int ePolicy,
                             double staleBefore, int nMax,
                             EvictCandidate **paCand, int *pnCand);
  /* Entries, bytes, stored bytes and average compute time per function
  ** (zFn's only, if not NULL), in *paTotal (storeFreeTotals()). */
  int (*xTotals)(CachierStore*, const char *zFn, StoreTotal **paTotal,
                 int *pnTotal);

  /* STORE_ABSENT, STORE_READY, STORE_NEWER or STORE_OLD (migrating an old
  ** layout first, when it can). */
  int (*xState)(CachierStore*, int *peState);
  /* The message of an error rc a method of this store returned. */
  const char *(*xErrmsg)(CachierStore*, int rc);

  /* zstd dictionaries (value_codec.c): zFn's newest (*piId 0 if none) and its
  ** zstd id; one by id (sqlite3_free *ppDict); add one; remove one. */
  int (*xDictLatest)(CachierStore*, const char *zFn, sqlite3_int64 *piId,
                     unsigned *pZstdId);
  int (*xDictLoad)(CachierStore*, sqlite3_int64 iId, void **ppDict,
                   sqlite3_int64 *pnDict);
  int (*xDictAdd)(CachierStore*, const char *zFn, const void *aDict,
                  sqlite3_int64 nDict, int nSample, double created,
                  sqlite3_int64 *piId);
  int (*xDictDelete)(CachierStore*, sqlite3_int64 iId);

  /* The file holding the entries, NULL if none (cachier_cache_path()). */
  const char *(*xPath)(CachierStore*);
  /* Fill *pStatus (cachier_debug()). */
  void (*xStatus)(CachierStore*, CachierStoreStatus *pStatus);
  /* The open store is named zSpec now, a name of the same canonical form
  ** (storeOpen()): apply what else that name carries (a password, a
  ** timeout) from the next operation on. */
  void (*xReconfigure)(CachierStore*, const char *zSpec);
  void (*xClose)(CachierStore*);

  const CachierStoreGroup *pGroup;        /* NULL: each write commits */
  const CachierStoreMarks *pMarks;        /* NULL: inflight.c's file locks */
  const CachierStoreVersions *pVersions;  /* NULL: no hot tier */
  const CachierStoreCounters *pCounters;  /* NULL: no lasting counters */
};

/* Optional: a store that groups its writes into transactions. */
struct CachierStoreGroup {
  /* Make the writes so far durable and visible to others; *pnCommitted
  ** (if not NULL) gets how many values that committed. Thread-safe. */
  int (*xFlush)(CachierStore*, int *pnCommitted);
  /* Called at each memoize() call on the store: commit a group that has
  ** grown old. */
  void (*xTick)(CachierStore*);
  /* The statement that used the store ended. */
  void (*xStatementEnd)(CachierStore*);
  /* After a miss and taking the key's mark: could the lookup have missed a
  ** value another connection committed meanwhile (so look again)? */
  int (*xSnapshotStale)(CachierStore*);
  /* Release an in-flight mark after the write it guarded; a store that
  ** has not committed that write yet keeps the mark until it has. */
  void (*xMarkDone)(CachierStore*, InflightLock*, int bWrote);
};

/* Optional: in-flight marks kept by the store itself (a network store).
** iBase is the first id of the key's slot range. */
struct CachierStoreMarks {
  /* Take the mark without waiting: INFLIGHT_HELD, INFLIGHT_BUSY (another
  ** holds it) or INFLIGHT_NONE (cannot tell: compute unmarked). */
  int (*xMarkTry)(CachierStore*, sqlite3_int64 iBase);
  void (*xMarkRelease)(CachierStore*, sqlite3_int64 iBase);
  int (*xMarkIsComputing)(CachierStore*, sqlite3_int64 iBase);
  /* End every mark of the functions whose 16-bit name hash (the top of
  ** their ids) is iFnHash (of all functions if it is -1); how many there
  ** were. */
  sqlite3_int64 (*xMarkClear)(CachierStore*, int iFnHash);
};

/* Optional: versions, which the hot tier (hot.c) and cached settings
** (fninfo.c) need. */
struct CachierStoreVersions {
  /* The store's version into aVer (STORE_VERSION_BYTES): it changes with
  ** every commit, by any connection or process. Returns 0 when it cannot
  ** be told cheaply (the hot tier then keeps nothing). bRecheck: also
  ** check where the version is read from (once per statement: the journal
  ** mode of the user's database may change between statements). */
  int (*xVersion)(CachierStore*, unsigned char *aVer, int bRecheck);
  /* 1 if the store's version is still aVer, a version xVersion() gave
  ** (without its recheck): what the hot tier asks at every hit, so it
  ** costs a few compares. NULL: xVersion() and a compare. */
  int (*xVersionIs)(CachierStore*, const unsigned char *aVer);
  /* 1 if what a lookup now finds may enter the hot tier, whose values
  ** are of version aVer: the lookup reads exactly that version, in a
  ** transaction that cannot roll back what it reads. */
  int (*xMayFill)(CachierStore*, const unsigned char *aVer);
  /* A number that changes when another connection commits to the store
  ** (PRAGMA data_version): what this connection read from it (settings
  ** of its own such as dictionaries) may be out of date. */
  int (*xDataVersion)(CachierStore*, sqlite3_int64 *pV);
  /* The user's connection is about to start a read snapshot of the store
  ** (main only): note its version, so that what it reads may fill the
  ** tier. 1 with that version in aVer if no transaction is open and the
  ** version is known (the snapshot to come is then of it or newer), else
  ** 0. NULL: the store has no read snapshots. */
  int (*xNoteSnapshot)(CachierStore*, unsigned char *aVer);
  /* A statement of the user's connection that read the store (main
  ** only) is ending, and its read transaction with it unless another
  ** statement or an explicit transaction holds it: the store may note
  ** its version, as xNoteSnapshot does, for the next statement's reads.
  ** NULL: nothing to note. */
  void (*xNoteStatementEnd)(CachierStore*);
};

/* Optional: counters that outlive connections (stats.c flushes a
** connection's counts into them; cachier_stats shows their totals). */
struct CachierStoreCounters {
  /* Add pAdd's counts to pAdd->zFn's, stamped pAdd->at. Never waits long
  ** nor fails loudly: the caller keeps its counts for a later try. */
  int (*xCountersAdd)(CachierStore*, const StoreCounters *pAdd);
  /* The counters of zFn (of every function if NULL) in *pa (free each
  ** zFn, then *pa). */
  int (*xCountersRead)(CachierStore*, const char *zFn, StoreCounters **pa,
                       int *pn);
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

/**************************************************************************
** The wrappers: what the rest of cachier calls.
*/

/* What the rest of cachier calls, as os.c wraps sqlite3_file: one per
** method, with the default of an absent capability spelled out. */

static inline int storeLookup(CachierStore *pStore, const CachierKey *pKey,
                              int flags, CachierEntry *pEntry, int *pFound){
  return pStore->pMethods->xLookup(pStore, pKey, flags, pEntry, pFound);
}
static inline void storeLookupDone(CachierStore *pStore){
  pStore->pMethods->xLookupDone(pStore);
}
static inline int storeLookupLatest(CachierStore *pStore,
                                    const CachierKey *pKey,
                                    CachierEntry *pEntry, int *pFound){
  return pStore->pMethods->xLookupLatest(pStore, pKey, pEntry, pFound);
}
static inline int storeWrite(CachierStore *pStore, const CachierKey *pKey,
                             const CachierWrite *pWrite){
  return pStore->pMethods->xWrite(pStore, pKey, pWrite);
}
static inline int storeGet(CachierStore *pStore, sqlite3_int64 id,
                           CachierEntry *pEntry, int *pFound){
  return pStore->pMethods->xGet(pStore, id, pEntry, pFound);
}
static inline int storeDelete(CachierStore *pStore, sqlite3_int64 id){
  return pStore->pMethods->xDelete(pStore, id);
}
static inline int storeMarkRefresh(CachierStore *pStore, sqlite3_int64 id){
  return pStore->pMethods->xMarkRefresh(pStore, id);
}
static inline int storeRefreshDue(CachierStore *pStore, const char *zFn,
                                  double now, sqlite3_int64 **paId,
                                  int *pnId){
  return pStore->pMethods->xRefreshDue(pStore, zFn, now, paId, pnId);
}
static inline int storeRefreshFailed(CachierStore *pStore, sqlite3_int64 id,
                                     int attempts, double retryAt){
  return pStore->pMethods->xRefreshFailed(pStore, id, attempts, retryAt);
}
static inline int storeScanOpen(CachierStore *pStore, const char *zFn,
                                CachierScan **ppScan){
  return pStore->pMethods->xScanOpen(pStore, zFn, ppScan);
}
static inline int storeScanNext(CachierStore *pStore, CachierScan *pScan,
                                CachierEntry *pEntry, int *pEof){
  return pStore->pMethods->xScanNext(pScan, pEntry, pEof);
}
static inline void storeScanClose(CachierStore *pStore, CachierScan *pScan){
  pStore->pMethods->xScanClose(pScan);
}
static inline int storeClear(CachierStore *pStore, const char *zFn,
                             sqlite3_int64 *pnDeleted){
  return pStore->pMethods->xClear(pStore, zFn, pnDeleted);
}
static inline int storeDeleteOlder(CachierStore *pStore, const char *zFn,
                                   double before, sqlite3_int64 *pnDeleted){
  return pStore->pMethods->xDeleteOlder(pStore, zFn, before, pnDeleted);
}
static inline int storeEvictionCandidates(CachierStore *pStore,
                                          const char *zFn, int ePolicy,
                                          double staleBefore, int nMax,
                                          EvictCandidate **paCand,
                                          int *pnCand){
  return pStore->pMethods->xEvictionCandidates(pStore, zFn, ePolicy,
                                               staleBefore, nMax, paCand,
                                               pnCand);
}
static inline int storeTotals(CachierStore *pStore, const char *zFn,
                              StoreTotal **paTotal, int *pnTotal){
  return pStore->pMethods->xTotals(pStore, zFn, paTotal, pnTotal);
}
static inline int storeState(CachierStore *pStore, int *peState){
  return pStore->pMethods->xState(pStore, peState);
}
static inline const char *storeErrmsg(CachierStore *pStore, int rc){
  return pStore->pMethods->xErrmsg(pStore, rc);
}
static inline int storeDictLatest(CachierStore *pStore, const char *zFn,
                                  sqlite3_int64 *piId, unsigned *pZstdId){
  return pStore->pMethods->xDictLatest(pStore, zFn, piId, pZstdId);
}
static inline int storeDictLoad(CachierStore *pStore, sqlite3_int64 iId,
                                void **ppDict, sqlite3_int64 *pnDict){
  return pStore->pMethods->xDictLoad(pStore, iId, ppDict, pnDict);
}
static inline int storeDictAdd(CachierStore *pStore, const char *zFn,
                               const void *aDict, sqlite3_int64 nDict,
                               int nSample, double created,
                               sqlite3_int64 *piId){
  return pStore->pMethods->xDictAdd(pStore, zFn, aDict, nDict, nSample,
                                    created, piId);
}
static inline int storeDictDelete(CachierStore *pStore, sqlite3_int64 iId){
  return pStore->pMethods->xDictDelete(pStore, iId);
}
static inline const char *storePath(CachierStore *pStore){
  return pStore->pMethods->xPath(pStore);
}
static inline void storeStatus(CachierStore *pStore,
                               CachierStoreStatus *pStatus){
  pStore->pMethods->xStatus(pStore, pStatus);
}
static inline void storeReconfigure(CachierStore *pStore, const char *zSpec){
  pStore->pMethods->xReconfigure(pStore, zSpec);
}
static inline void storeClose(CachierStore *pStore){
  pStore->pMethods->xClose(pStore);
}

/* Grouped commits. Without them every write is committed at once: there
** is nothing to flush, tick or end, a lookup may always have missed a
** newer commit, and a mark is released as soon as its write is done. */
static inline int storeFlush(CachierStore *pStore, int *pnCommitted){
  const CachierStoreGroup *pGroup = pStore->pMethods->pGroup;
  if( pGroup ) return pGroup->xFlush(pStore, pnCommitted);
  if( pnCommitted ) *pnCommitted = 0;
  return SQLITE_OK;
}
static inline void storeTick(CachierStore *pStore){
  const CachierStoreGroup *pGroup = pStore->pMethods->pGroup;
  if( pGroup ) pGroup->xTick(pStore);
}
static inline void storeStatementEnd(CachierStore *pStore){
  const CachierStoreGroup *pGroup = pStore->pMethods->pGroup;
  if( pGroup ) pGroup->xStatementEnd(pStore);
}
static inline int storeSnapshotStale(CachierStore *pStore){
  const CachierStoreGroup *pGroup = pStore->pMethods->pGroup;
  return pGroup ? pGroup->xSnapshotStale(pStore) : 1;
}
static inline void storeMarkDone(CachierStore *pStore, InflightLock *pLock,
                                 int bWrote){
  const CachierStoreGroup *pGroup = pStore->pMethods->pGroup;
  if( pGroup ){
    pGroup->xMarkDone(pStore, pLock, bWrote);
  }else{
    inflightRelease(pLock);
  }
}

/* Marks kept by the store: inflight.c uses these when storeKeepsMarks(),
** its own file locks otherwise. */
static inline int storeKeepsMarks(CachierStore *pStore){
  return pStore->pMethods->pMarks!=0;
}
static inline int storeMarkTry(CachierStore *pStore, sqlite3_int64 iBase){
  return pStore->pMethods->pMarks->xMarkTry(pStore, iBase);
}
static inline void storeMarkRelease(CachierStore *pStore,
                                    sqlite3_int64 iBase){
  pStore->pMethods->pMarks->xMarkRelease(pStore, iBase);
}
static inline int storeMarkIsComputing(CachierStore *pStore,
                                       sqlite3_int64 iBase){
  return pStore->pMethods->pMarks->xMarkIsComputing(pStore, iBase);
}
static inline sqlite3_int64 storeMarkClear(CachierStore *pStore,
                                           int iFnHash){
  return pStore->pMethods->pMarks->xMarkClear(pStore, iFnHash);
}

/* Lasting counters. Without them only the connection's own are known. */
static inline int storeCountersAdd(CachierStore *pStore,
                                   const StoreCounters *pAdd){
  const CachierStoreCounters *pC = pStore->pMethods->pCounters;
  return pC ? pC->xCountersAdd(pStore, pAdd) : SQLITE_NOTFOUND;
}
static inline int storeCountersRead(CachierStore *pStore, const char *zFn,
                                    StoreCounters **pa, int *pn){
  const CachierStoreCounters *pC = pStore->pMethods->pCounters;
  *pa = 0;
  *pn = 0;
  return pC ? pC->xCountersRead(pStore, zFn, pa, pn) : SQLITE_OK;
}

/* Versions. Without them the store's version is never known (so the hot
** tier keeps nothing), nothing may fill the tier, and whether others
** committed cannot be told (SQLITE_NOTFOUND: settings are read again). */
static inline int storeKeepsVersions(CachierStore *pStore){
  return pStore->pMethods->pVersions!=0;
}
static inline int storeVersion(CachierStore *pStore, unsigned char *aVer,
                               int bRecheck){
  const CachierStoreVersions *pV = pStore->pMethods->pVersions;
  return pV ? pV->xVersion(pStore, aVer, bRecheck) : 0;
}
static inline int storeVersionIs(CachierStore *pStore,
                                 const unsigned char *aVer){
  const CachierStoreVersions *pV = pStore->pMethods->pVersions;
  unsigned char aNow[STORE_VERSION_BYTES];
  if( pV==0 ) return 0;
  if( pV->xVersionIs ) return pV->xVersionIs(pStore, aVer);
  return pV->xVersion(pStore, aNow, 0)
      && memcmp(aNow, aVer, STORE_VERSION_BYTES)==0;
}
static inline int storeMayFill(CachierStore *pStore,
                               const unsigned char *aVer){
  const CachierStoreVersions *pV = pStore->pMethods->pVersions;
  return pV ? pV->xMayFill(pStore, aVer) : 0;
}
static inline int storeDataVersion(CachierStore *pStore, sqlite3_int64 *pV){
  const CachierStoreVersions *pVer = pStore->pMethods->pVersions;
  return pVer ? pVer->xDataVersion(pStore, pV) : SQLITE_NOTFOUND;
}
static inline int storeNoteSnapshot(CachierStore *pStore,
                                    unsigned char *aVer){
  const CachierStoreVersions *pV = pStore->pMethods->pVersions;
  return pV && pV->xNoteSnapshot ? pV->xNoteSnapshot(pStore, aVer) : 0;
}
static inline void storeNoteStatementEnd(CachierStore *pStore){
  const CachierStoreVersions *pV = pStore->pMethods->pVersions;
  if( pV && pV->xNoteStatementEnd ) pV->xNoteStatementEnd(pStore);
}

/**************************************************************************
** Interface to code in store_tables.c and store_schema.c: stores made of
** cachier's tables (main, file:, memory).
*/

/* The tables of a store in one database connection. */
typedef struct TablesStore TablesStore;
/* A store of cachier's tables in db, named zSpec (bOwnDb: a connection of
** cachier's own, whose statements the store keeps and which it closes;
** else the user's, whose statements follow cachierStmt()). bGroup: group
** writes into transactions (store_file.c). */
CachierStore *tablesStoreNew(Cachier*, sqlite3 *db, int bOwnDb, int bGroup,
                             const char *zSpec);
/* Register what a connection of cachier's own needs to create the tables
** (the "cachier" module). */
int tablesPrepareDb(Cachier*, sqlite3 *db);
/* The busy handler's tries on such a connection: about 5 s of waits. */
#define OWN_BUSY_TRIES 2500
/* ... and once they all failed, about 3 ms (0.1 ms doubling) */
#define OWN_BUSY_TRIES_AFTER 5
void tablesBusyTries(sqlite3 *db, const int *pnTries);
int tablesExecOwn(sqlite3 *db, const char *zSql);
int storeSchemaVersion(sqlite3*);
/* Run the schema SQL (the "cachier" module's xCreate). */
int storeCreateTables(sqlite3*, char **pzErr);
int storeDropTables(sqlite3*);
/* Create the tables of a store if they do not exist. */
int storeEnsureTables(CachierStore*);

/**************************************************************************
** Interface to code in hot.c that stores use.
*/

/* What a store calls to keep the hot tier true to it. */
void hotForget(CachierStore*, const CachierKey*);
void hotForgetBase(CachierStore*, sqlite3_int64 iBase);
void hotClear(CachierStore*);

/**************************************************************************
** The stores: store_main.c, store_file.c, store_memory.c, store_redis.c.
*/

CachierStore *storeMainOpen(Cachier*);
#ifdef CACHIER_TEST
int storeMainBusyTries(CachierStore*);
#endif
CachierStore *storeFileOpen(Cachier*, const char *zSpec, char **pzErr);
CachierStore *storeMemoryOpen(Cachier*, char **pzErr);
/* The absolute path a "file:PATH" store name means on this connection. */
char *storeFilePath(Cachier*, const char *zSpec);
/* A Redis store ("redis://..." or "unix:..."): check a name (and make its
** canonical form, if pzCanonical), open one. A build without Redis
** (store_redis_none.c) refuses every name with SQLITE_NOTFOUND and *pzWhy
** saying so. storeRedisBuild(): "hiredis X.Y.Z", or "none". */
int storeRedisCheck(const char *zSpec, char **pzCanonical, char **pzWhy);
CachierStore *storeRedisOpen(Cachier*, const char *zSpec, char **pzErr);
const char *storeRedisBuild(void);

#endif /* CACHIER_STORE_H */
