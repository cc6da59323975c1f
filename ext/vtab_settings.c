/*
** vtab_settings.c - cachier_settings: the settings each function ends up
** with, and where each one comes from.
**
** SQL surface (eponymous, read-only):
**   SELECT setting, value, source FROM cachier_settings WHERE name = 'geocode';
**   SELECT * FROM cachier_settings;
** One row per (name, setting) for every setting column of
** cachier_functions: name is a function name or '*'; value is the setting
** in effect, in cachier_functions' canonical form (seconds or 'never',
** bytes or 'none', 0/1, 'lru'/'cost', a store name); source is where it
** comes from:
**   'function'  the function's own cachier_functions row
**   '*'         the '*' row (what every function inherits)
**   'default'   the built-in default
** As memoize() applies them (settings.c settingsLoad()): a row's value
** that does not parse, or a sealed setting (hash_func, store) of a row
** that is not trusted, counts as not set. The '*' row's max_entries and
** max_bytes bound the whole store and are not inherited; hot_bytes is set
** in the '*' row only and applies to every function. Without "name = ?"
** the names are '*', those with a row, and the functions this connection
** has memoized; with it, any name (unconfigured: its defaults).
**
** DIRECTONLY, as cachier_functions: it reads the settings of this user.
*/
#include "cachier.h"
#include <string.h>

typedef struct SetRow SetRow;
struct SetRow {
  char *zName;
  const SettingDef *pDef;
  sqlite3_value *pValue;      /* NULL: NULL */
  const char *zSource;
};

typedef struct SetCursor SetCursor;
struct SetCursor {
  sqlite3_vtab_cursor base;
  SetRow *aRow;
  int nRow, nAlloc, iRow;
};

static int setConnect(sqlite3 *db, void *pAux, int argc,
                      const char *const *argv, sqlite3_vtab **ppVtab,
                      char **pzErr){
  (void)argc; (void)argv; (void)pzErr;
  return cachierVtabConnect(db, pAux, "CREATE TABLE x(name TEXT,"
      " setting TEXT, value, source TEXT)", 1, ppVtab);
}

/* "name = ?" lists that name only (idxNum 1). */
static int setBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  (void)pVtab;
  cachierBestIndexEq(pInfo, 0, 1000.0, 20.0, 0);
  return SQLITE_OK;
}

static void setCursorClear(SetCursor *pCur){
  int i;
  for(i=0; i<pCur->nRow; i++){
    sqlite3_free(pCur->aRow[i].zName);
    sqlite3_value_free(pCur->aRow[i].pValue);
  }
  sqlite3_free(pCur->aRow);
  pCur->aRow = 0;
  pCur->nRow = pCur->nAlloc = pCur->iRow = 0;
}

static int setOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor){
  SetCursor *pCur = sqlite3_malloc(sizeof(*pCur));
  (void)pVtab;
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

static int setClose(sqlite3_vtab_cursor *pCursor){
  setCursorClear((SetCursor*)pCursor);
  sqlite3_free(pCursor);
  return SQLITE_OK;
}

/* A value as an sqlite3_value of its own, made by a one-column SELECT
** binding it (there is no other way to make one). */
static sqlite3_value *valueOf(sqlite3 *db, int eType, double r,
                              sqlite3_int64 n, const char *z){
  sqlite3_stmt *pStmt = 0;
  sqlite3_value *pVal = 0;
  int rc = SQLITE_OK;
  if( sqlite3_prepare_v2(db, "SELECT ?1", -1, &pStmt, 0)!=SQLITE_OK ){
    return 0;
  }
  switch( eType ){
    case SQLITE_FLOAT:   rc = sqlite3_bind_double(pStmt, 1, r); break;
    case SQLITE_INTEGER: rc = sqlite3_bind_int64(pStmt, 1, n); break;
    case SQLITE_TEXT:    rc = sqlite3_bind_text(pStmt, 1, z, -1, SQLITE_STATIC);
                         break;
  }
  if( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    pVal = sqlite3_value_dup(sqlite3_column_value(pStmt, 0));
  }
  sqlite3_finalize(pStmt);
  return pVal;
}

/* The built-in default of pDef in canonical form (NULL for the kinds
** without one: hash_func, depends_on, version; the store's is 'main'). nextTime: the effective next_time,
** which the defaults of stale_while_refresh and stale_if_error follow
** ('never' with next_time on, else 0: staleness.c callRules()). */
static sqlite3_value *defaultValue(sqlite3 *db, const SettingDef *pDef,
                                   int nextTime){
  double r = pDef->rDefault;
  switch( pDef->eKind ){
    case SETTING_KIND_DURATION:
      if( r<0.0 ) r = nextTime ? CACHIER_NEVER : 0.0;
      if( r>=CACHIER_NEVER ) return valueOf(db, SQLITE_TEXT, 0, 0, "never");
      return valueOf(db, SQLITE_FLOAT, r, 0, 0);
    case SETTING_KIND_BOOL:
    case SETTING_KIND_LEVEL:
      return valueOf(db, SQLITE_INTEGER, 0, (sqlite3_int64)r, 0);
    case SETTING_KIND_EVICTION:
      return valueOf(db, SQLITE_TEXT, 0, 0,
                     (int)r==EVICT_COST ? "cost" : "lru");
    case SETTING_KIND_SIZE:
    case SETTING_KIND_COUNT:
      if( r<0.0 ) return valueOf(db, SQLITE_TEXT, 0, 0, "none");
      return valueOf(db, SQLITE_INTEGER, 0, (sqlite3_int64)r, 0);
    case SETTING_KIND_STORE:
      return valueOf(db, SQLITE_TEXT, 0, 0, "main");
  }
  return 0;
}

/* Column iCol of a cachier_config row in pStmt (name, settings..., seal)
** if it counts (settings.c settingsApplyRow()), else NULL. */
static sqlite3_value *rowSetting(sqlite3_stmt *pStmt, int iCol, int bSealBad){
  const SettingDef *pDef = settingColumn(iCol);
  sqlite3_value *pVal = sqlite3_column_value(pStmt, iCol);
  SettingValue v;
  char *zWhy = 0;
  int rc;
  if( sqlite3_value_type(pVal)==SQLITE_NULL ) return 0;
  if( bSealBad && (pDef->flags & SETTING_SEALED) ) return 0;
  rc = settingParse(pDef, pVal, &v, &zWhy);
  sqlite3_free(zWhy);
  return rc==SQLITE_OK ? pVal : 0;
}

static int rowAdd(SetCursor *pCur, const char *zName, const SettingDef *pDef,
                  sqlite3_value *pValue, const char *zSource){
  SetRow *pRow;
  if( pCur->nRow==pCur->nAlloc ){
    int nNew = pCur->nAlloc ? pCur->nAlloc*2 : 32;
    SetRow *aNew = sqlite3_realloc64(pCur->aRow, sizeof(SetRow)*nNew);
    if( aNew==0 ){
      sqlite3_value_free(pValue);
      return SQLITE_NOMEM;
    }
    pCur->aRow = aNew;
    pCur->nAlloc = nNew;
  }
  pRow = &pCur->aRow[pCur->nRow];
  pRow->zName = sqlite3_mprintf("%s", zName);
  pRow->pDef = pDef;
  pRow->pValue = pValue;
  pRow->zSource = zSource;
  if( pRow->zName==0 ){
    sqlite3_value_free(pValue);
    return SQLITE_NOMEM;
  }
  pCur->nRow++;
  return SQLITE_OK;
}

/* The rows of zName (canonical, or '*'). */
static int listName(SetCursor *pCur, Cachier *p, const char *zName){
  int nCol = settingColumnCount(), iCol, rc = SQLITE_OK;
  int bStar = strcmp(zName, "*")==0, nextTime = 0, iNextTime = 0;
  sqlite3_stmt *pStmt = 0;
  sqlite3_value **aOwn, **aStar;
  char *zList = settingColumnList();
  char *zSql = zList ? sqlite3_mprintf("SELECT %s, seal FROM"
      " main.cachier_config WHERE name IN ('*', ?1)", zList) : 0;
  sqlite3_free(zList);
  if( zSql==0 ) return SQLITE_NOMEM;
  aOwn = sqlite3_malloc64(sizeof(sqlite3_value*)*nCol*2);
  if( aOwn==0 ){
    sqlite3_free(zSql);
    return SQLITE_NOMEM;
  }
  memset(aOwn, 0, sizeof(sqlite3_value*)*nCol*2);
  aStar = aOwn + nCol;
  /* No table (nothing written yet): every setting is a default. */
  if( sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0)==SQLITE_OK ){
    rc = sqlite3_bind_text(pStmt, 1, zName, -1, SQLITE_STATIC);
    while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
      const char *zRow = (const char*)sqlite3_column_text(pStmt, 0);
      int bStarRow = zRow && strcmp(zRow, "*")==0;
      int bSealBad = sealCheck(p, pStmt, 0, nCol)==SEAL_INVALID;
      sqlite3_value **a = bStarRow ? aStar : aOwn;
      for(iCol=1; rc==SQLITE_OK && iCol<nCol; iCol++){
        sqlite3_value *pVal = rowSetting(pStmt, iCol, bSealBad);
        if( pVal && (a[iCol] = sqlite3_value_dup(pVal))==0 ){
          rc = SQLITE_NOMEM;
        }
      }
    }
  }
  sqlite3_free(zSql);
  /* For '*' itself its row is its own. */
  if( bStar ){
    for(iCol=1; iCol<nCol; iCol++){
      aOwn[iCol] = aStar[iCol];
      aStar[iCol] = 0;
    }
  }
  /* next_time first: the defaults of two durations follow it. */
  for(iCol=1; iCol<nCol; iCol++){
    if( strcmp(settingColumn(iCol)->zName, "next_time")==0 ) iNextTime = iCol;
  }
  for(iCol=1; rc==SQLITE_OK && iCol<nCol; iCol++){
    const SettingDef *pDef = settingColumn(iCol);
    /* Whether the function's row and the '*' row may set it. */
    int bOwn = bStar ? pDef->iFnStar>=0 : pDef->iFn>=0;
    int bInherit = !bStar && pDef->iFnStar>=0 && pDef->iFnStar==pDef->iFn;
    sqlite3_value *pVal = 0;
    const char *zSource = "default";
    if( !bStar && pDef->iFn<0 ) bInherit = 1;   /* '*' only: applies to all */
    if( bOwn && aOwn[iCol] ){
      pVal = sqlite3_value_dup(aOwn[iCol]);
      zSource = bStar ? "*" : "function";
    }else if( bInherit && aStar[iCol] ){
      pVal = sqlite3_value_dup(aStar[iCol]);
      zSource = "*";
    }else{
      if( iNextTime ){
        sqlite3_value *pNext = aOwn[iNextTime] ? aOwn[iNextTime]
                             : aStar[iNextTime];
        nextTime = pNext ? sqlite3_value_int(pNext)!=0 : 0;
      }
      pVal = defaultValue(p->db, pDef, nextTime);
      /* (hash_func, depends_on and version have no default: NULL.) */
      if( pVal==0 && pDef->eKind!=SETTING_KIND_FUNCTION
       && pDef->eKind!=SETTING_KIND_DEPENDS
       && pDef->eKind!=SETTING_KIND_VERSION ){
        rc = SQLITE_NOMEM;
      }
    }
    if( rc==SQLITE_OK ) rc = rowAdd(pCur, zName, pDef, pVal, zSource);
  }
  sqlite3_finalize(pStmt);
  for(iCol=0; iCol<nCol*2; iCol++) sqlite3_value_free(aOwn[iCol]);
  sqlite3_free(aOwn);
  return rc;
}

/* Add zName to the sorted list of names azName (unless there). */
static int nameAdd(char ***pazName, int *pn, const char *zName){
  char **az = *pazName;
  int i;
  for(i=0; i<*pn; i++){
    int c = strcmp(az[i], zName);
    if( c==0 ) return SQLITE_OK;
    if( c>0 ) break;
  }
  az = sqlite3_realloc64(az, sizeof(char*)*(*pn+1));
  if( az==0 ) return SQLITE_NOMEM;
  *pazName = az;
  memmove(&az[i+1], &az[i], sizeof(char*)*(*pn-i));
  az[i] = sqlite3_mprintf("%s", zName);
  if( az[i]==0 ){
    memmove(&az[i], &az[i+1], sizeof(char*)*(*pn-i));
    return SQLITE_NOMEM;
  }
  (*pn)++;
  return SQLITE_OK;
}

static int setFilter(sqlite3_vtab_cursor *pCursor, int idxNum,
                     const char *idxStr, int argc, sqlite3_value **argv){
  SetCursor *pCur = (SetCursor*)pCursor;
  Cachier *p = ((CachierVtab*)pCursor->pVtab)->p;
  char **azName = 0;
  int nName = 0, i, rc = SQLITE_OK;
  (void)idxStr; (void)argc;
  setCursorClear(pCur);
  rc = cachierVtabMainOnly(pCursor->pVtab, "cachier_settings");
  if( rc ) return rc;
  if( idxNum==1 ){
    char *zFn = 0, *zErr = 0;
    const char *z = (const char*)sqlite3_value_text(argv[0]);
    if( z && strcmp(z, "*")==0 ) return listName(pCur, p, "*");
    if( callCanonicalName("cachier_settings", argv[0], &zFn, &zErr) ){
      sqlite3_free(zErr);
      return SQLITE_OK;       /* no such name: no rows */
    }
    rc = listName(pCur, p, zFn);
    sqlite3_free(zFn);
    return rc;
  }
  rc = nameAdd(&azName, &nName, "*");
  if( rc==SQLITE_OK ){
    sqlite3_stmt *pStmt = 0;
    FnStats *pS;
    if( sqlite3_prepare_v2(p->db, "SELECT name FROM main.cachier_config",
                           -1, &pStmt, 0)==SQLITE_OK ){
      while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
        const char *z = (const char*)sqlite3_column_text(pStmt, 0);
        if( z ) rc = nameAdd(&azName, &nName, z);
      }
    }
    sqlite3_finalize(pStmt);
    for(pS=p->pStats; rc==SQLITE_OK && pS; pS=pS->pNext){
      rc = nameAdd(&azName, &nName, pS->zFn);
    }
  }
  for(i=0; rc==SQLITE_OK && i<nName; i++) rc = listName(pCur, p, azName[i]);
  for(i=0; i<nName; i++) sqlite3_free(azName[i]);
  sqlite3_free(azName);
  return rc;
}

static int setNext(sqlite3_vtab_cursor *pCursor){
  ((SetCursor*)pCursor)->iRow++;
  return SQLITE_OK;
}

static int setEof(sqlite3_vtab_cursor *pCursor){
  SetCursor *pCur = (SetCursor*)pCursor;
  return pCur->iRow>=pCur->nRow;
}

static int setColumn(sqlite3_vtab_cursor *pCursor, sqlite3_context *ctx,
                     int i){
  SetCursor *pCur = (SetCursor*)pCursor;
  const SetRow *pRow = &pCur->aRow[pCur->iRow];
  switch( i ){
    case 0: sqlite3_result_text(ctx, pRow->zName, -1, SQLITE_TRANSIENT);
            break;
    case 1: sqlite3_result_text(ctx, pRow->pDef->zName, -1, SQLITE_STATIC);
            break;
    case 2: if( pRow->pValue ) sqlite3_result_value(ctx, pRow->pValue);
            break;
    default: sqlite3_result_text(ctx, pRow->zSource, -1, SQLITE_STATIC);
  }
  return SQLITE_OK;
}

static int setRowid(sqlite3_vtab_cursor *pCursor, sqlite_int64 *pRowid){
  *pRowid = ((SetCursor*)pCursor)->iRow + 1;
  return SQLITE_OK;
}

const sqlite3_module cachierSettingsModule = {
  0,
  0, setConnect, setBestIndex, cachierVtabDisconnect, 0, /* eponymous only */
  setOpen, setClose, setFilter, setNext, setEof, setColumn, setRowid,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};
