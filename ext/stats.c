/*
** stats.c - in-memory per-function counters of one connection.
**
** No SQL surface of its own (cachier_stats shows them). Counters live in
** memory so a hit never writes; they start at zero on each connection.
** Nodes are never freed before the connection closes, so a memoize() plan
** keeps a pointer to its node and a hit updates it without a lookup.
*/
#include "store.h"
#include <string.h>

/* A connection adds its counts to its store's lasting counters at most
** this often per function (and when it closes). */
#define FLUSH_EVERY_NS 1000000000LL

/* Add what pS counted since the last time to the lasting counters of
** pStore (its function's store), if any: after a stored miss (flags 0:
** not more than once per FLUSH_EVERY_NS), or at once
** (STATS_FLUSH_NOW: cachier_flush(); STATS_FLUSH_CLOSING: the connection
** closes, without waiting for a lock). A failed addition is tried again
** later. */
void statsFlush(Cachier *p, FnStats *pS, CachierStore *pStore, int flags){
  StoreCounters add;
  sqlite3_int64 now = cachierMonotonicNs();
  if( pStore==0 || pStore->pMethods->pCounters==0 ) return;
  if( flags==0 && pS->flushedNs && now - pS->flushedNs < FLUSH_EVERY_NS ){
    return;
  }
  memset(&add, 0, sizeof(add));
  add.bNoWait = (flags & STATS_FLUSH_CLOSING)!=0;
  add.zFn = pS->zFn;
  add.nHit = pS->nHit - pS->nHitFlushed;
  add.nMiss = pS->nMiss - pS->nMissFlushed;
  add.nCompute = pS->nCompute - pS->nComputeFlushed;
  add.computeNs = pS->computeNs - pS->computeNsFlushed;
  if( add.nHit==0 && add.nMiss==0 && add.nCompute==0 ) return;
  add.at = cachierNow(p);
  pS->flushedNs = now;
  if( storeCountersAdd(pStore, &add)==SQLITE_OK ){
    pS->nHitFlushed = pS->nHit;
    pS->nMissFlushed = pS->nMiss;
    pS->nComputeFlushed = pS->nCompute;
    pS->computeNsFlushed = pS->computeNs;
  }
}

/* The counters of zFn, created on first use. NULL on OOM. */
FnStats *cachierStatsFor(Cachier *p, const char *zFn){
  FnStats *pS, **pp;
  for(pp=&p->pStats; *pp; pp=&(*pp)->pNext){
    int c = strcmp((*pp)->zFn, zFn);
    if( c==0 ) return *pp;
    if( c>0 ) break;          /* the list is sorted by name */
  }
  pS = sqlite3_malloc(sizeof(*pS));
  if( pS==0 ) return 0;
  memset(pS, 0, sizeof(*pS));
  pS->zFn = sqlite3_mprintf("%s", zFn);
  if( pS->zFn==0 ){
    sqlite3_free(pS);
    return 0;
  }
  pS->pNext = *pp;
  *pp = pS;
  return pS;
}

void cachierStatsFreeAll(Cachier *p){
  while( p->pStats ){
    FnStats *pNext = p->pStats->pNext;
    sqlite3_free(p->pStats->zFn);
    sqlite3_free(p->pStats->aRecent);
    sqlite3_free(p->pStats);
    p->pStats = pNext;
  }
}
