/*
** vtab_common.c - what cachier's eponymous virtual tables share.
**
** No SQL surface of its own. cachier_functions, cachier_entries and
** cachier_stats are eponymous-only tables (no CREATE; xCreate is NULL)
** whose sqlite3_vtab is a CachierVtab: the base plus the connection's
** state, passed as the module's client data.
*/
#include "cachier.h"
#include <string.h>

/* xConnect of an eponymous table declared by zDecl. bDirectOnly: the
** table may not be used from views or triggers (it can write or call). */
int cachierVtabConnect(sqlite3 *db, void *pAux, const char *zDecl,
                       int bDirectOnly, sqlite3_vtab **ppVtab){
  CachierVtab *pTab;
  int rc = sqlite3_declare_vtab(db, zDecl);
  if( rc ) return rc;
  pTab = sqlite3_malloc(sizeof(*pTab));
  if( pTab==0 ) return SQLITE_NOMEM;
  memset(pTab, 0, sizeof(*pTab));
  pTab->p = (Cachier*)pAux;
  if( bDirectOnly ) sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  *ppVtab = &pTab->base;
  return SQLITE_OK;
}

/* SQLITE_ERROR (with the table's error message) if the running statement
** names zTable in a schema other than main ("aux.cachier_entries"): the
** table would show main's cache there (guard.c). Called by xFilter and
** xUpdate. */
int cachierVtabMainOnly(sqlite3_vtab *pVtab, const char *zTable){
  char *zErr = 0;
  if( !guardOtherSchema(((CachierVtab*)pVtab)->p, zTable, &zErr) ){
    return SQLITE_OK;
  }
  sqlite3_free(pVtab->zErrMsg);
  pVtab->zErrMsg = zErr;
  return zErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

int cachierVtabDisconnect(sqlite3_vtab *pVtab){
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

/* xBestIndex for tables with one useful constraint, "iCol = ?": it becomes
** argv[0] of xFilter with idxNum 1 and cost costEq; a plan without it
** costs costScan. bUnique: at most one row matches. */
void cachierBestIndexEq(sqlite3_index_info *pInfo, int iCol, double costScan,
                        double costEq, int bUnique){
  int i;
  pInfo->estimatedCost = costScan;
  pInfo->estimatedRows = (sqlite3_int64)costScan;
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *c = &pInfo->aConstraint[i];
    if( c->usable && c->iColumn==iCol && c->op==SQLITE_INDEX_CONSTRAINT_EQ ){
      pInfo->aConstraintUsage[i].argvIndex = 1;
      pInfo->aConstraintUsage[i].omit = 1;
      pInfo->idxNum = 1;
      pInfo->estimatedCost = costEq;
      pInfo->estimatedRows = bUnique ? 1 : (sqlite3_int64)costEq;
      if( bUnique ) pInfo->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
      break;
    }
  }
}
