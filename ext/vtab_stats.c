/*
** vtab_stats.c - cachier_stats, per-function counters.
**
** SQL surface (eponymous, read-only):
**   SELECT * FROM cachier_stats;
** One row per function and store, for each function that this connection
** called or that has entries:
**   fn, hits, misses, stale_hits, computes, errors, write_errors,
**   entries, bytes, hit_rate, compute_seconds, saved_seconds, stored_bytes,
**   evictions, store, read_errors, memo_hits, invalidated,
**   total_hits, total_misses, total_saved_seconds, totals_at, size
** store is 'main', 'memory', 'file:/absolute/path' or a Redis store's
** name. write_errors counts values that could not be stored, read_errors
** lookups the store could not answer (a Redis server down or slow): each
** was computed instead. memo_hits counts the hits the statement memo
** served (memo.c; they count in hits too). The counters are on
** the row of the function's current store; a function moved to another
** store has a row (with entries, no counters) where its old entries are.
** hits/misses/... count this connection's calls since it opened (they live
** in memory: hits never write). stale_hits counts calls that found a stale
** entry. invalidated counts calls that found an entry outdated by its
** stamps (a table of depends_on changed, another version:
** docs/invalidation.md). entries and bytes are read from the store. saved_seconds
** estimates the time hits saved: hits times the average compute time of
** the function's stored entries (the hit path reads no timing data).
** total_hits, total_misses and total_saved_seconds add up every
** connection and process that used the store (tables stores: main,
** file:, memory; on Redis they are this connection's): each connection
** adds its counts to the store's lasting counters with a write that
** happens anyway, a stored miss (at most once a second per function), and
** when it closes (and at cachier_flush()); totals_at is when the last
** such addition was made (NULL: none yet), so counts of connections still
** open since then are missing, except this connection's own, which are
** always included. size is stored_bytes in binary units ('512 bytes',
** '1.5 MB').
**
** DIRECTONLY: reading it opens every store the settings name (files,
** Redis connections), so a view or trigger in a database from anyone may
** not use it.
**
** This table is also the connection's anchor: its xDisconnect, which
** sqlite3_close() runs before checking for open statements, finalizes the
** statements cachier keeps prepared (see cachier.c).
*/
#include "store.h"
#include <string.h>

typedef struct StatsRow StatsRow;
struct StatsRow {
  char *zFn;
  char *zStore;
  FnStats counters;
  StoreCounters lasting;      /* the store's counters (zFn unused) */
  sqlite3_int64 nEntries, nBytes, nStoredBytes;
  double avgComputeSeconds;   /* over the stored entries; <0: none stored */
};

typedef struct StatsCursor StatsCursor;
struct StatsCursor {
  sqlite3_vtab_cursor base;
  StatsRow *aRow;
  int nRow, iRow;
};

static int statsConnect(sqlite3 *db, void *pAux, int argc,
                        const char *const *argv, sqlite3_vtab **ppVtab,
                        char **pzErr){
  int rc;
  (void)argc; (void)argv; (void)pzErr;
  rc = cachierVtabConnect(db, pAux, "CREATE TABLE x(fn TEXT, hits INTEGER,"
      " misses INTEGER, stale_hits INTEGER, computes INTEGER, errors INTEGER,"
      " write_errors INTEGER, entries INTEGER, bytes INTEGER, hit_rate REAL,"
      " compute_seconds REAL, saved_seconds REAL, stored_bytes INTEGER,"
      " evictions INTEGER, store TEXT, read_errors INTEGER,"
      " memo_hits INTEGER, invalidated INTEGER,"
      " total_hits INTEGER, total_misses INTEGER, total_saved_seconds REAL,"
      " totals_at REAL, size TEXT)",
      1, ppVtab);
  if( rc==SQLITE_OK ) ((Cachier*)pAux)->anchored = 1;
  return rc;
}

static int statsDisconnect(sqlite3_vtab *pVtab){
  cachierStmtFinalizeAll(((CachierVtab*)pVtab)->p);
  return cachierVtabDisconnect(pVtab);
}

/* "fn = ?" reads only that function's entries (idxNum 1). */
static int statsBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  (void)pVtab;
  cachierBestIndexEq(pInfo, 0, 1e6, 10.0, 1);
  return SQLITE_OK;
}

static void cursorClear(StatsCursor *pCur){
  int i;
  for(i=0; i<pCur->nRow; i++){
    sqlite3_free(pCur->aRow[i].zFn);
    sqlite3_free(pCur->aRow[i].zStore);
  }
  sqlite3_free(pCur->aRow);
  pCur->aRow = 0;
  pCur->nRow = pCur->iRow = 0;
}

static int statsOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor){
  StatsCursor *pCur = sqlite3_malloc(sizeof(*pCur));
  (void)pVtab;
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

static int statsClose(sqlite3_vtab_cursor *pCursor){
  cursorClear((StatsCursor*)pCursor);
  sqlite3_free(pCursor);
  return SQLITE_OK;
}

/* The row of (zFn, zStore), added (sorted) if missing. NULL on OOM. */
static StatsRow *rowFor(StatsCursor *pCur, const char *zFn,
                        const char *zStore){
  int i;
  StatsRow *aNew;
  for(i=0; i<pCur->nRow; i++){
    int c = strcmp(pCur->aRow[i].zFn, zFn);
    if( c==0 ) c = strcmp(pCur->aRow[i].zStore, zStore);
    if( c==0 ) return &pCur->aRow[i];
    if( c>0 ) break;
  }
  aNew = sqlite3_realloc64(pCur->aRow, sizeof(StatsRow)*(pCur->nRow+1));
  if( aNew==0 ) return 0;
  pCur->aRow = aNew;
  memmove(&aNew[i+1], &aNew[i], sizeof(StatsRow)*(pCur->nRow-i));
  memset(&aNew[i], 0, sizeof(StatsRow));
  aNew[i].zFn = sqlite3_mprintf("%s", zFn);
  aNew[i].zStore = sqlite3_mprintf("%s", zStore);
  aNew[i].avgComputeSeconds = -1.0;
  if( aNew[i].zFn==0 || aNew[i].zStore==0 ){
    sqlite3_free(aNew[i].zFn);
    sqlite3_free(aNew[i].zStore);
    memmove(&aNew[i], &aNew[i+1], sizeof(StatsRow)*(pCur->nRow-i));
    return 0;
  }
  pCur->nRow++;
  return &aNew[i];
}

static int statsFilter(sqlite3_vtab_cursor *pCursor, int idxNum,
                       const char *idxStr, int argc, sqlite3_value **argv){
  StatsCursor *pCur = (StatsCursor*)pCursor;
  Cachier *p = ((CachierVtab*)pCursor->pVtab)->p;
  CachierStore **apStore = 0;
  int nStore = 0, j;
  FnStats *pS;
  StatsRow *pRow;
  const char *zOnly = 0;      /* fn = zOnly, or NULL */
  (void)idxStr; (void)argc;
  cursorClear(pCur);
  j = cachierVtabMainOnly(pCursor->pVtab, "cachier_stats");
  if( j ) return j;
  if( idxNum==1 ){
    if( sqlite3_value_type(argv[0])!=SQLITE_TEXT ) return SQLITE_OK;
    zOnly = (const char*)sqlite3_value_text(argv[0]);
    if( zOnly==0 ) return SQLITE_NOMEM;
  }
  for(pS=p->pStats; pS; pS=pS->pNext){
    char *zErr = 0;
    CachierStore *pStore;
    if( zOnly && strcmp(pS->zFn, zOnly)!=0 ) continue;
    pStore = storeForFunction(p, pS->zFn, &zErr);
    sqlite3_free(zErr);
    pRow = rowFor(pCur, pS->zFn, pStore ? pStore->zSpec : "main");
    if( pRow==0 ) return SQLITE_NOMEM;
    pRow->counters = *pS;
  }
  if( storeListAll(p, &apStore, &nStore)!=SQLITE_OK ) return SQLITE_NOMEM;
  for(j=0; j<nStore; j++){
    StoreTotal *a = 0;
    int n = 0, i;
    if( storeTotals(apStore[j], zOnly, &a, &n) ) continue;
    for(i=0; i<n; i++){
      if( (pRow = rowFor(pCur, a[i].zFn, apStore[j]->zSpec))==0 ){
        storeFreeTotals(a, n);
        sqlite3_free(apStore);
        return SQLITE_NOMEM;
      }
      pRow->nEntries += a[i].nEntries;
      pRow->nBytes += a[i].nBytes;
      pRow->avgComputeSeconds = a[i].avgComputeSeconds;
      pRow->nStoredBytes += a[i].nStoredBytes;
    }
    storeFreeTotals(a, n);
  }
  /* The counters every connection added up in each store. */
  for(j=0; j<nStore; j++){
    StoreCounters *a = 0;
    int n = 0, i, rc = storeCountersRead(apStore[j], zOnly, &a, &n);
    for(i=0; i<n; i++){
      if( rc==SQLITE_OK
       && (pRow = rowFor(pCur, a[i].zFn, apStore[j]->zSpec))==0 ){
        rc = SQLITE_NOMEM;
      }
      if( rc==SQLITE_OK ){
        char *zFn = pRow->lasting.zFn;
        pRow->lasting = a[i];
        pRow->lasting.zFn = zFn;
      }
      sqlite3_free(a[i].zFn);
    }
    sqlite3_free(a);
    if( rc==SQLITE_NOMEM ){
      sqlite3_free(apStore);
      return rc;
    }
  }
  sqlite3_free(apStore);
  return SQLITE_OK;
}

/* n bytes in binary units, as cachier_functions reads sizes: "512 bytes",
** "1.5 KB", "200.0 MB", "2.0 GB" (sqlite3_free it). */
static char *humanSize(sqlite3_int64 n){
  static const char *const azUnit[] = { "KB", "MB", "GB", "TB" };
  double r = (double)n;
  int i = -1;
  if( n<1024 ) return sqlite3_mprintf("%lld bytes", n);
  while( r>=1024.0 && i<3 ){
    r /= 1024.0;
    i++;
  }
  return sqlite3_mprintf("%.1f %s", r, azUnit[i]);
}

static int statsNext(sqlite3_vtab_cursor *pCursor){
  ((StatsCursor*)pCursor)->iRow++;
  return SQLITE_OK;
}

static int statsEof(sqlite3_vtab_cursor *pCursor){
  StatsCursor *pCur = (StatsCursor*)pCursor;
  return pCur->iRow>=pCur->nRow;
}

static int statsColumn(sqlite3_vtab_cursor *pCursor, sqlite3_context *ctx,
                       int i){
  StatsCursor *pCur = (StatsCursor*)pCursor;
  StatsRow *r = &pCur->aRow[pCur->iRow];
  const FnStats *c = &r->counters;
  switch( i ){
    case 0: sqlite3_result_text(ctx, r->zFn, -1, SQLITE_TRANSIENT); break;
    case 1: sqlite3_result_int64(ctx, c->nHit); break;
    case 2: sqlite3_result_int64(ctx, c->nMiss); break;
    case 3: sqlite3_result_int64(ctx, c->nStaleHit); break;
    case 4: sqlite3_result_int64(ctx, c->nCompute); break;
    case 5: sqlite3_result_int64(ctx, c->nError); break;
    case 6: sqlite3_result_int64(ctx, c->nWriteError); break;
    case 7: sqlite3_result_int64(ctx, r->nEntries); break;
    case 8: sqlite3_result_int64(ctx, r->nBytes); break;
    case 9:
      if( c->nHit + c->nMiss > 0 ){
        sqlite3_result_double(ctx, (double)c->nHit/(double)(c->nHit+c->nMiss));
      }
      break;
    case 10: sqlite3_result_double(ctx, (double)c->computeNs*1e-9); break;
    case 12: sqlite3_result_int64(ctx, r->nStoredBytes); break;
    case 13: sqlite3_result_int64(ctx, c->nEviction); break;
    case 14: sqlite3_result_text(ctx, r->zStore, -1, SQLITE_TRANSIENT); break;
    case 15: sqlite3_result_int64(ctx, c->nReadError); break;
    case 16: sqlite3_result_int64(ctx, c->nMemoHit); break;
    case 17: sqlite3_result_int64(ctx, c->nInvalidated); break;
    /* Totals: what every connection added to the store's counters, and
    ** what this one counted since it last added. */
    case 18:
      sqlite3_result_int64(ctx, r->lasting.nHit + c->nHit - c->nHitFlushed);
      break;
    case 19:
      sqlite3_result_int64(ctx, r->lasting.nMiss + c->nMiss - c->nMissFlushed);
      break;
    case 20: {
      sqlite3_int64 nHit = r->lasting.nHit + c->nHit - c->nHitFlushed;
      sqlite3_int64 nCompute = r->lasting.nCompute + c->nCompute
                             - c->nComputeFlushed;
      double ns = (double)(r->lasting.computeNs + c->computeNs
                           - c->computeNsFlushed);
      double avg = nCompute>0 ? ns*1e-9/(double)nCompute
                 : r->avgComputeSeconds>0.0 ? r->avgComputeSeconds : 0.0;
      sqlite3_result_double(ctx, avg*(double)nHit);
      break;
    }
    case 21:
      if( r->lasting.at>0.0 ) sqlite3_result_double(ctx, r->lasting.at);
      break;
    case 22:
      sqlite3_result_text(ctx, humanSize(r->nStoredBytes), -1, sqlite3_free);
      break;
    case 11: {
      /* Each hit saved about one computation: the stored entries' average
      ** compute time, else this connection's own average. */
      double avg = r->avgComputeSeconds;
      if( avg<0.0 ){
        avg = c->nCompute ? (double)c->computeNs*1e-9/(double)c->nCompute : 0;
      }
      sqlite3_result_double(ctx, avg*(double)c->nHit);
      break;
    }
  }
  return SQLITE_OK;
}

static int statsRowid(sqlite3_vtab_cursor *pCursor, sqlite_int64 *pRowid){
  *pRowid = ((StatsCursor*)pCursor)->iRow + 1;
  return SQLITE_OK;
}

const sqlite3_module cachierStatsModule = {
  0,
  0, statsConnect, statsBestIndex, statsDisconnect, 0,   /* eponymous only */
  statsOpen, statsClose, statsFilter, statsNext, statsEof, statsColumn,
  statsRowid,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};
