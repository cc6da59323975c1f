/*
** evict.c - bounded size: max_entries, max_bytes and eviction.
**
** No SQL functions of its own. Settings (cachier_functions):
**   max_entries, max_bytes   bounds on a function's entries and on their
**                            stored bytes; in the '*' row, bounds on the
**                            whole store (they are not inherited)
**   eviction                 'lru' (default): least recently used first;
**                            'cost': cheapest to recompute per stored byte
**                            first
** When a store would pass a bound, the least valuable entries are deleted
** until the function (or the store) is back under it, less a margin of
** 1/64 so that eviction does not run on every write. Stale entries go
** first, then the policy's order.
**
** Hits never write, so recency is approximated: entries are ordered by
** when they were stored, and the ids of this connection's latest
** RECENT_HITS hits (a ring in memory, kept only for bounded functions) are
** evicted only if nothing else is left. Other connections' hits are not
** seen.
**
** Bounds are checked after a store, not before every one: again after
** max(1, bound/64) stores per connection (for a byte bound, bound/64
** bytes' worth of values at the average stored size), so between checks a
** bound may be passed by about 1/64 per writing connection (the slack).
** Counting reads the function's rowid range (the whole store for the '*'
** bounds).
*/
#include "store.h"
#include <string.h>

#define RECENT_HITS 1024
#define MARGIN      64              /* evict down to bound - bound/64 */

/* True if the function has a bound, or the store has one. */
int evictBounded(const FnSettings *s){
  return s->maxEntries>=0 || s->maxBytes>=0
      || s->storeMaxEntries>=0 || s->storeMaxBytes>=0;
}

/* A hit of entry iId of a bounded function: remember it as recent. */
void evictNoteHit(FnStats *pStats, sqlite3_int64 iId){
  if( pStats->aRecent==0 ){
    pStats->aRecent = sqlite3_malloc64(sizeof(sqlite3_int64)*RECENT_HITS);
    if( pStats->aRecent==0 ) return;
    memset(pStats->aRecent, 0, sizeof(sqlite3_int64)*RECENT_HITS);
  }
  pStats->aRecent[pStats->iRecent] = iId;
  pStats->iRecent = (pStats->iRecent+1) % RECENT_HITS;
}

static int isRecent(const FnStats *pStats, sqlite3_int64 iId){
  int i;
  if( pStats==0 || pStats->aRecent==0 ) return 0;
  for(i=0; i<RECENT_HITS; i++){
    if( pStats->aRecent[i]==iId ) return 1;
  }
  return 0;
}

/* The entries and stored bytes of zFn (of the whole store if NULL). */
static int usage(CachierStore *pStore, const char *zFn,
                 sqlite3_int64 *pnEntry, sqlite3_int64 *pnByte){
  StoreTotal *a = 0;
  int n = 0, i;
  int rc = storeTotals(pStore, zFn, &a, &n);
  *pnEntry = *pnByte = 0;
  for(i=0; i<n; i++){
    *pnEntry += a[i].nEntries;
    *pnByte += a[i].nStoredBytes;
  }
  storeFreeTotals(a, n);
  return rc;
}

/* The target under a bound: the bound less its margin. */
static sqlite3_int64 target(sqlite3_int64 bound){
  return bound - bound/MARGIN;
}

static void candidatesFree(EvictCandidate *aCand, int nCand){
  int i;
  for(i=0; i<nCand; i++) sqlite3_free(aCand[i].zFn);
  sqlite3_free(aCand);
}

/* Bring zFn (the whole store if NULL) under maxEntries/maxBytes (-1:
** none), sparing pRecent's recent hits where it can. Evictions of zFn's
** entries are counted in pCounter, of other functions' in theirs.
** Returns the number of entries evicted. */
static sqlite3_int64 evictDown(Cachier *p, CachierStore *pStore,
                               const char *zFn, sqlite3_int64 maxEntries,
                               sqlite3_int64 maxBytes, int ePolicy,
                               double staleBefore, FnStats *pRecent,
                               sqlite3_int64 *pnEntry, sqlite3_int64 *pnByte){
  FnStats *pCounter = pRecent;
  sqlite3_int64 nEntry, nByte, nEvicted = 0;
  sqlite3_int64 wantEntry, wantByte;
  EvictCandidate *aCand = 0;
  int nCand = 0, nMax, pass, i;
  char *aGone = 0;
  *pnEntry = *pnByte = 0;
  if( usage(pStore, zFn, &nEntry, &nByte) ) return 0;
  *pnEntry = nEntry;
  *pnByte = nByte;
  if( (maxEntries<0 || nEntry<=maxEntries)
   && (maxBytes<0 || nByte<=maxBytes) ){
    return 0;
  }
  wantEntry = maxEntries<0 ? nEntry : target(maxEntries);
  wantByte = maxBytes<0 ? nByte : target(maxBytes);
  /* Enough candidates for the entry bound, and for the byte bound at the
  ** average size, with room for the recent ones skipped. */
  nMax = (int)(nEntry - wantEntry);
  if( nByte>wantByte && nEntry>0 ){
    sqlite3_int64 avg = nByte/nEntry + 1;
    sqlite3_int64 n = (nByte - wantByte)/avg + 1;
    if( n>nMax ) nMax = (int)n;
  }
  nMax = nMax*2 + 64;
  if( nMax>nEntry ) nMax = (int)nEntry;
  if( storeEvictionCandidates(pStore, zFn, ePolicy, staleBefore, nMax,
                              &aCand, &nCand) ){
    return 0;
  }
  aGone = sqlite3_malloc64(nCand ? nCand : 1);
  if( aGone==0 ){
    candidatesFree(aCand, nCand);
    return 0;
  }
  memset(aGone, 0, nCand ? nCand : 1);
  /* First pass: spare this connection's recent hits; second: none. */
  for(pass=0; pass<2; pass++){
    for(i=0; i<nCand && (nEntry>wantEntry || nByte>wantByte); i++){
      if( aGone[i] ) continue;
      if( pass==0 && !aCand[i].bStale && isRecent(pRecent, aCand[i].id) ){
        continue;
      }
      if( storeDelete(pStore, aCand[i].id)!=SQLITE_OK ){
        pass = 2;             /* cannot write: leave it for later */
        break;
      }
      aGone[i] = 1;
      cachierMemoChanged(p);  /* (statement memos may hold it) */
      nEntry--;
      nByte -= aCand[i].nStored;
      nEvicted++;
      /* Count it for the function whose entry it was. */
      if( aCand[i].zFn ){
        FnStats *pOwner = cachierStatsFor(p, aCand[i].zFn);
        if( pOwner ) pOwner->nEviction++;
      }else if( pCounter ){
        pCounter->nEviction++;
      }
    }
  }
  sqlite3_free(aGone);
  candidatesFree(aCand, nCand);
  *pnEntry = nEntry;
  *pnByte = nByte;
  return nEvicted;
}

/* How many stores may pass before bounds (maxEntries, maxBytes; -1:
** none) must be checked again, given the usage just seen: a 1/64 of each
** bound, in entries (bytes at the average stored size). */
static int checkInterval(sqlite3_int64 maxEntries, sqlite3_int64 maxBytes,
                         sqlite3_int64 nEntry, sqlite3_int64 nByte){
  sqlite3_int64 n = 1<<30;
  if( maxEntries>=0 && maxEntries/MARGIN<n ) n = maxEntries/MARGIN;
  if( maxBytes>=0 ){
    sqlite3_int64 avg = nEntry>0 ? nByte/nEntry : 0;
    sqlite3_int64 m = maxBytes/MARGIN/(avg>0 ? avg : 1);
    if( m<n ) n = m;
  }
  return n>1 ? (int)n : 1;
}

/* After a store for the function of pInfo: enforce its bounds and the
** store's, every so many stores (see the header). */
void evictMaybe(Cachier *p, FnInfo *pInfo, CachierStore *pStore,
                double staleAfter){
  const FnSettings *s = fnInfoSettings(pInfo);
  FnStats *pStats = fnInfoStats(pInfo);
  sqlite3_int64 nEntry, nByte;
  int nNext = 1<<30, n;
  if( !evictBounded(s) ) return;
  if( --pStats->nWritesToCheck>0 ) return;
  if( s->maxEntries>=0 || s->maxBytes>=0 ){
    double staleBefore = staleAfter>=CACHIER_NEVER ? -1e300
                       : cachierNow(p) - staleAfter;
    evictDown(p, pStore, pStats->zFn, s->maxEntries, s->maxBytes,
              s->eEviction, staleBefore, pStats, &nEntry, &nByte);
    n = checkInterval(s->maxEntries, s->maxBytes, nEntry, nByte);
    if( n<nNext ) nNext = n;
  }
  if( s->storeMaxEntries>=0 || s->storeMaxBytes>=0 ){
    /* Across functions staleness is not compared (each has its own
    ** stale_after): the policy's order alone. */
    evictDown(p, pStore, 0, s->storeMaxEntries, s->storeMaxBytes,
              s->eEviction, -1e300, pStats, &nEntry, &nByte);
    n = checkInterval(s->storeMaxEntries, s->storeMaxBytes, nEntry, nByte);
    if( n<nNext ) nNext = n;
  }
  pStats->nWritesToCheck = nNext;
}
