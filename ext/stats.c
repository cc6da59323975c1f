/*
** stats.c - in-memory per-function counters of one connection.
**
** No SQL surface of its own (cachier_stats shows them). Counters live in
** memory so a hit never writes; they start at zero on each connection.
** Nodes are never freed before the connection closes, so a memoize() plan
** keeps a pointer to its node and a hit updates it without a lookup.
*/
#include "cachier.h"
#include <string.h>

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
