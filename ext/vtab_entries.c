/*
** vtab_entries.c - cachier_entries, the cache as a table.
**
** SQL surface (eponymous: no CREATE needed):
**   SELECT fn, args, key, value, type, bytes, created, age, stale,
**          compute_seconds, store
**     FROM cachier_entries WHERE fn = 'geocode';      -- uses an index
**   DELETE FROM cachier_entries WHERE fn = 'geocode' AND age > 3600;
**
** Columns:
**   fn               canonical (lower-case) function name
**   args             the arguments as a JSON array (blobs as "x'hex'")
**   key              hex of the entry's 64-bit id (key hash and slot)
**   value            the cached value, with its original type
**   type             'integer', 'real', 'text', 'blob' or 'null'
**   subtype          the value's subtype (74 for JSON), 0 if none
**   bytes            logical size of the value
**   created, age     unix seconds when stored, seconds since (test clock
**                    aware)
**   stale            1 if the entry is past the function's current
**                    stale_after
**   compute_seconds  how long the function took to compute it
**   store            the store holding it: 'main', 'memory' or
**                    'file:/absolute/path' (every store that
**                    cachier_functions names, and main, is listed)
**   state            'computing' (some connection is computing it now),
**                    'outdated' (computed under another version of the
**                    function, or its dependencies cannot be told: never
**                    served), 'refresh_pending' (a next_time refresh is
**                    marked), 'stale' (past stale_after, or a table of
**                    depends_on changed) or 'fresh'
**   attempts         failed refreshes in a row (0 normally)
**   retry_at         no refresh attempt before this time (NULL: now)
**   stored_bytes     what the value takes in the store (less than bytes
**                    when it is compressed)
**   changed          why the entry's stamps make it stale or outdated
**                    (docs/invalidation.md): the first table of
**                    depends_on that changed since it was computed,
**                    'depends_on' (the list is another), 'untracked'
**                    (its changes cannot be told), 'version'; NULL if none
** DELETE removes exactly the matching entries; INSERT and UPDATE are
** refused (use cachier_precache() to add entries). The table is declared
** WITHOUT ROWID, with a hidden primary key "ref" (the entry's id and
** store), because ids are only unique within one store.
*/
#include "store.h"
#include <stdlib.h>
#include <string.h>

enum {
  COL_FN, COL_ARGS, COL_KEY, COL_VALUE, COL_TYPE, COL_SUBTYPE, COL_BYTES,
  COL_CREATED, COL_AGE, COL_STALE, COL_COMPUTE_SECONDS, COL_STORE,
  COL_STATE, COL_ATTEMPTS, COL_RETRY_AT, COL_STORED_BYTES, COL_CHANGED,
  COL_REF
};

/* stale_after of one configured name, loaded at xFilter. */
typedef struct StaleRule StaleRule;
struct StaleRule {
  char *zName;
  double staleAfter;
};

typedef struct EntriesCursor EntriesCursor;
struct EntriesCursor {
  sqlite3_vtab_cursor base;
  CachierStore **apStore;     /* the stores to list, in turn */
  int nStore, iStore;
  char *zFn;                  /* "fn = ?" */
  CachierStore *pStore;       /* apStore[iStore] */
  CachierScan *pScan;
  CachierEntry entry;
  int bEof;
  double now;
  StaleRule *aRule;
  int nRule;
  double defaultStaleAfter;   /* from the '*' row, else never */
  char *zStampFn;             /* the function of settings and deps: */
  FnSettings settings;        /* its settings, and */
  DepsState deps;             /* its current dependency stamp */
};

static int entriesConnect(sqlite3 *db, void *pAux, int argc,
                          const char *const *argv, sqlite3_vtab **ppVtab,
                          char **pzErr){
  (void)argc; (void)argv; (void)pzErr;
  return cachierVtabConnect(db, pAux, "CREATE TABLE x(fn TEXT, args TEXT,"
      " key TEXT, value, type TEXT, subtype INTEGER, bytes INTEGER,"
      " created REAL, age REAL, stale INTEGER, compute_seconds REAL,"
      " store TEXT, state TEXT, attempts INTEGER, retry_at REAL,"
      " stored_bytes INTEGER, changed TEXT,"
      " ref TEXT HIDDEN PRIMARY KEY) WITHOUT ROWID",
      1, ppVtab);
}

/* "fn = ?" reads only that function's id range (idxNum 1); anything else
** scans. */
static int entriesBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  (void)pVtab;
  cachierBestIndexEq(pInfo, COL_FN, 1e6, 1000.0, 0);
  return SQLITE_OK;
}

static void cursorReset(EntriesCursor *pCur){
  int i;
  if( pCur->pScan ) storeScanClose(pCur->pStore, pCur->pScan);
  pCur->pScan = 0;
  sqlite3_free(pCur->apStore);
  pCur->apStore = 0;
  pCur->nStore = pCur->iStore = 0;
  pCur->pStore = 0;
  sqlite3_free(pCur->zFn);
  pCur->zFn = 0;
  for(i=0; i<pCur->nRule; i++) sqlite3_free(pCur->aRule[i].zName);
  sqlite3_free(pCur->aRule);
  pCur->aRule = 0;
  pCur->nRule = 0;
  sqlite3_free(pCur->zStampFn);
  pCur->zStampFn = 0;
  settingsClear(&pCur->settings);
  dependsClear(&pCur->deps);
}

/* The verdict of the current entry's stamps (depends.c), its function's
** settings and current stamp loaded once per function. */
static int entryVerdict(EntriesCursor *pCur, Cachier *p){
  CachierEntry *e = &pCur->entry;
  if( pCur->zStampFn==0 || strcmp(pCur->zStampFn, e->zFn)!=0 ){
    sqlite3_free(pCur->zStampFn);
    pCur->zStampFn = sqlite3_mprintf("%s", e->zFn);
    settingsLoad(p, e->zFn, &pCur->settings, 0);
    dependsRead(p, &pCur->settings, &pCur->deps);
  }
  return dependsVerdict(&pCur->settings, &pCur->deps, e);
}

static int entriesOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor){
  EntriesCursor *pCur = sqlite3_malloc(sizeof(*pCur));
  if( pCur==0 ) return SQLITE_NOMEM;
  (void)pVtab;
  memset(pCur, 0, sizeof(*pCur));
  settingsDefaults(&pCur->settings);
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

static int entriesClose(sqlite3_vtab_cursor *pCursor){
  cursorReset((EntriesCursor*)pCursor);
  sqlite3_free(pCursor);
  return SQLITE_OK;
}

/* Load every configured stale_after, so "stale" costs no query per row. */
static int loadStaleRules(Cachier *p, EntriesCursor *pCur){
  sqlite3_stmt *pStmt = 0;
  pCur->defaultStaleAfter = CACHIER_NEVER;
  if( sqlite3_prepare_v2(p->db, "SELECT name, stale_after FROM"
        " main.cachier_config WHERE stale_after IS NOT NULL", -1, &pStmt,
        0)!=SQLITE_OK ){
    return SQLITE_OK;         /* no config table: defaults */
  }
  while( sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zName = (const char*)sqlite3_column_text(pStmt, 0);
    char *zErr = 0;
    double r;
    StaleRule *aNew;
    if( zName==0 ) continue;
    if( parseDuration(sqlite3_column_value(pStmt, 1), 0, &r, &zErr) ){
      sqlite3_free(zErr);
      continue;
    }
    if( strcmp(zName, "*")==0 ){
      pCur->defaultStaleAfter = r;
      continue;
    }
    aNew = sqlite3_realloc64(pCur->aRule, sizeof(StaleRule)*(pCur->nRule+1));
    if( aNew==0 ){
      sqlite3_finalize(pStmt);
      return SQLITE_NOMEM;
    }
    pCur->aRule = aNew;
    pCur->aRule[pCur->nRule].zName = sqlite3_mprintf("%s", zName);
    pCur->aRule[pCur->nRule].staleAfter = r;
    if( pCur->aRule[pCur->nRule++].zName==0 ){
      sqlite3_finalize(pStmt);
      return SQLITE_NOMEM;
    }
  }
  sqlite3_finalize(pStmt);
  return SQLITE_OK;
}

static double staleAfterOf(EntriesCursor *pCur, const char *zFn){
  int i;
  for(i=0; i<pCur->nRule; i++){
    if( zFn && strcmp(pCur->aRule[i].zName, zFn)==0 ){
      return pCur->aRule[i].staleAfter;
    }
  }
  return pCur->defaultStaleAfter;
}

/* The next entry: of the current store, else of the next store. */
static int entriesNext(sqlite3_vtab_cursor *pCursor){
  EntriesCursor *pCur = (EntriesCursor*)pCursor;
  int rc;
  for(;;){
    if( pCur->pScan ){
      rc = storeScanNext(pCur->pStore, pCur->pScan, &pCur->entry,
                         &pCur->bEof);
      if( rc || !pCur->bEof ) return rc;
      storeScanClose(pCur->pStore, pCur->pScan);
      pCur->pScan = 0;
      pCur->iStore++;
    }
    if( pCur->iStore>=pCur->nStore ){
      pCur->bEof = 1;
      return SQLITE_OK;
    }
    pCur->pStore = pCur->apStore[pCur->iStore];
    rc = storeScanOpen(pCur->pStore, pCur->zFn, &pCur->pScan);
    if( (rc & 0xff)==SQLITE_IOERR ){
      /* A store that cannot be read now (a Redis server down) lists as
      ** empty: the others are still listed. */
      cachierLog(((CachierVtab*)pCursor->pVtab)->p, "cachier_entries: %s: "
                 "%s; not listed", pCur->pStore->zSpec,
                 storeErrmsg(pCur->pStore, rc));
      pCur->pScan = 0;
      rc = SQLITE_OK;
    }
    if( rc==SQLITE_NOMEM ) return rc;  /* (SQLite says "out of memory") */
    if( rc ){
      sqlite3_free(pCursor->pVtab->zErrMsg);
      pCursor->pVtab->zErrMsg = sqlite3_mprintf("cachier_entries: %s: %s",
          pCur->pStore->zSpec, storeErrmsg(pCur->pStore, rc));
      return rc;
    }
    if( pCur->pScan==0 ) pCur->iStore++;
  }
}

static int entriesFilter(sqlite3_vtab_cursor *pCursor, int idxNum,
                         const char *idxStr, int argc, sqlite3_value **argv){
  EntriesCursor *pCur = (EntriesCursor*)pCursor;
  Cachier *p = ((CachierVtab*)pCursor->pVtab)->p;
  const char *zFn;
  int rc;
  (void)idxStr; (void)argc;
  cursorReset(pCur);
  rc = cachierVtabMainOnly(pCursor->pVtab, "cachier_entries");
  if( rc ) return rc;
  pCur->now = cachierNow(p);
  rc = loadStaleRules(p, pCur);
  if( rc ) return rc;
  if( idxNum==1 ){
    if( sqlite3_value_type(argv[0])!=SQLITE_TEXT ){
      pCur->bEof = 1;         /* fn is always text: nothing can match */
      return SQLITE_OK;
    }
    zFn = (const char*)sqlite3_value_text(argv[0]);
    if( zFn==0 ) return SQLITE_NOMEM;   /* not "no such function" */
    pCur->zFn = sqlite3_mprintf("%s", zFn);
    if( pCur->zFn==0 ) return SQLITE_NOMEM;
  }
  pCur->bEof = 0;
  rc = storeListAll(p, &pCur->apStore, &pCur->nStore);
  if( rc ) return rc;
  return entriesNext(pCursor);
}

static int entriesEof(sqlite3_vtab_cursor *pCursor){
  return ((EntriesCursor*)pCursor)->bEof;
}

/* z (from sqlite3_malloc) as the result; NULL is out of memory. */
static void resultTextOrNomem(sqlite3_context *ctx, char *z){
  if( z==0 ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_text(ctx, z, -1, sqlite3_free);
  }
}

static int entriesColumn(sqlite3_vtab_cursor *pCursor, sqlite3_context *ctx,
                         int i){
  EntriesCursor *pCur = (EntriesCursor*)pCursor;
  CachierEntry *e = &pCur->entry;
  Cachier *p = ((CachierVtab*)pCursor->pVtab)->p;
  switch( i ){
    case COL_FN:
      sqlite3_result_text(ctx, e->zFn, -1, SQLITE_TRANSIENT);
      break;
    case COL_ARGS: {
      int rc;
      char *z = keyToJson(e->aKey, e->nKey, &rc);
      if( z ) sqlite3_result_text(ctx, z, -1, sqlite3_free);
      if( rc ) sqlite3_result_error_nomem(ctx);
      break;                  /* a malformed key shows as NULL */
    }
    case COL_KEY:
      resultTextOrNomem(ctx, sqlite3_mprintf("%016llx",
                        (unsigned long long)e->id));
      break;
    case COL_VALUE:
      /* A value that does not decode shows as NULL. */
      if( valueResult(pCur->pStore, ctx, e)==SQLITE_NOMEM ){
        sqlite3_result_error_nomem(ctx);
      }
      break;
    case COL_TYPE:
      sqlite3_result_text(ctx, typeName(e->codec ? codecValueType(e->codec)
          : sqlite3_value_type(e->pValue)), -1, SQLITE_STATIC);
      break;
    case COL_STORED_BYTES:
      sqlite3_result_int64(ctx, e->codec ? sqlite3_value_bytes(e->pValue)
                                         : e->nBytes);
      break;
    case COL_SUBTYPE:
      sqlite3_result_int(ctx, e->subtype);
      break;
    case COL_BYTES:
      sqlite3_result_int64(ctx, e->nBytes);
      break;
    case COL_CREATED:
      sqlite3_result_double(ctx, e->created);
      break;
    case COL_AGE:
      sqlite3_result_double(ctx, pCur->now - e->created);
      break;
    case COL_STALE:
      sqlite3_result_int(ctx, entryIsStale(e->created, pCur->now,
                                           staleAfterOf(pCur, e->zFn))
                 || entryVerdict(pCur, p)!=VERDICT_FRESH);
      break;
    case COL_CHANGED:
      if( entryVerdict(pCur, p)!=VERDICT_FRESH ){
        resultTextOrNomem(ctx, dependsChanged(&pCur->settings, &pCur->deps,
                                              e));
      }
      break;
    case COL_COMPUTE_SECONDS:
      sqlite3_result_double(ctx, (double)e->computeNs*1e-9);
      break;
    case COL_STORE:
      sqlite3_result_text(ctx, pCur->pStore->zSpec, -1, SQLITE_TRANSIENT);
      break;
    case COL_REF:
      resultTextOrNomem(ctx, sqlite3_mprintf("%lld@%s", e->id,
                        pCur->pStore->zSpec));
      break;
    case COL_STATE: {
      const char *z = "fresh";
      int eVerdict = entryVerdict(pCur, p);
      if( inflightIsComputing(p, pCur->pStore,
                              e->id & ~(sqlite3_int64)0xff) ){
        z = "computing";
      }else if( eVerdict==VERDICT_OUTDATED ){
        z = "outdated";
      }else if( e->refresh ){
        z = "refresh_pending";
      }else if( eVerdict==VERDICT_CHANGED
             || entryIsStale(e->created, pCur->now,
                             staleAfterOf(pCur, e->zFn)) ){
        z = "stale";
      }
      sqlite3_result_text(ctx, z, -1, SQLITE_STATIC);
      break;
    }
    case COL_ATTEMPTS:
      sqlite3_result_int(ctx, e->attempts);
      break;
    case COL_RETRY_AT:
      if( e->retryAt>0.0 ) sqlite3_result_double(ctx, e->retryAt);
      break;
  }
  return SQLITE_OK;
}

/* (A WITHOUT ROWID table has no rowid; SQLite never asks for it.) */
static int entriesRowid(sqlite3_vtab_cursor *pCursor, sqlite_int64 *pRowid){
  *pRowid = ((EntriesCursor*)pCursor)->entry.id;
  return SQLITE_OK;
}

/* DELETE (argv[0] is the ref, "ID@STORE"). */
static int entriesUpdate(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv,
                         sqlite_int64 *pRowid){
  Cachier *p = ((CachierVtab*)pVtab)->p;
  const char *zRef = (const char*)sqlite3_value_text(argv[0]);
  const char *zAt = zRef ? strchr(zRef, '@') : 0;
  CachierStore *pStore;
  char *zErr = 0;
  int rc;
  (void)pRowid;
  if( argc!=1 ){
    pVtab->zErrMsg = sqlite3_mprintf("cachier_entries: only DELETE is "
        "supported; add entries with cachier_precache()");
    return SQLITE_ERROR;
  }
  if( zRef==0 && sqlite3_value_type(argv[0])!=SQLITE_NULL ){
    return SQLITE_NOMEM;      /* not "no such entry": nothing was deleted */
  }
  if( zAt==0 ) return SQLITE_OK;      /* no such entry */
  pStore = storeOpen(p, zAt+1, &zErr);
  if( pStore==0 ){
    pVtab->zErrMsg = sqlite3_mprintf("cachier_entries: %s",
                                     zErr ? zErr : "out of memory");
    sqlite3_free(zErr);
    return SQLITE_ERROR;
  }
  rc = storeDelete(pStore, (sqlite3_int64)strtoll(zRef, 0, 10));
  cachierMemoChanged(p);    /* (statement memos may hold it) */
  if( rc && rc!=SQLITE_NOMEM ){
    pVtab->zErrMsg = sqlite3_mprintf("cachier_entries: %s",
                                     storeErrmsg(pStore, rc));
  }
  return rc;
}

const sqlite3_module cachierEntriesModule = {
  0,
  0, entriesConnect, entriesBestIndex, cachierVtabDisconnect, 0,
  entriesOpen, entriesClose, entriesFilter, entriesNext, entriesEof,
  entriesColumn, entriesRowid, entriesUpdate,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};
