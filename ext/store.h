/*
** store.h - the store interface.
**
** A store keeps cache entries: (function, encoded arguments) -> value plus
** metadata. memoize.c and the virtual tables talk to stores only through
** CachierStoreMethods, so each store is one file (store_main.c: shadow tables
** in the connection's main database) and the memoize logic does not know
** which one it talks to.
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
  /* xLookup with CACHIER_LOOKUP_CREATED|REFRESH that also sees what other
  ** connections committed after this connection's read snapshot began (a
  ** waiter looks with it for the result it waited for). */
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
};

struct CachierStore {
  const CachierStoreMethods *pMethods;
  Cachier *pCachier;
};

/* The value codec's side of stores (compress.c). */
int valueWrite(Cachier*, CachierStore*, const CachierKey*, const FnSettings*,
               sqlite3_value *pValue, sqlite3_int64 computeNs,
               const unsigned char *aArgs, sqlite3_int64 nArgs);
int valueResult(Cachier*, sqlite3_context*, const CachierEntry*);

/* The default store of a connection (shadow tables in "main"). */
CachierStore *cachierMainStore(Cachier*);
void cachierMainStoreFree(Cachier*);
/* Create the shadow tables of the main store if they do not exist. */
int storeMainEnsureSchema(Cachier*, char **pzErr);
/* Whether the store in main exists and may be used by this build. */
#define STORE_ABSENT 0
#define STORE_READY  1
#define STORE_NEWER  2
#define STORE_OLD    3   /* an older schema this connection cannot upgrade */
int storeMainState(Cachier*, int *peState);
/* The message for an error of a management call on the main store. */
const char *storeMainErrmsg(Cachier*, int rc);
int storeMainSchemaVersion(sqlite3*);
/* Run the schema SQL (shared by the "cachier" module's xCreate). */
int storeMainCreateTables(sqlite3*, char **pzErr);
int storeMainDropTables(sqlite3*);
/* Rows and total bytes per function, for cachier_stats. */
int storeMainTotals(Cachier*, const char *zFn, sqlite3_stmt **ppStmt);
/* The names of the functions with entries in the store, in *pazFn (an
** sqlite3_malloc'ed array of *pnFn strings; free with storeFreeNames()). */
int storeMainFunctionNames(Cachier*, char ***pazFn, int *pnFn);
void storeFreeNames(char **azFn, int nFn);

#endif /* CACHIER_STORE_H */
