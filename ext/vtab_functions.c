/*
** vtab_functions.c - cachier_functions, the writable per-function settings.
**
** SQL surface (eponymous: no CREATE needed):
**   SELECT * FROM cachier_functions;
**   INSERT [OR REPLACE] INTO cachier_functions(name, stale_after, ...)
**        VALUES ('geocode', '30 minutes', ...);
**   UPDATE cachier_functions SET allow_none=1 WHERE name='geocode';
**   DELETE FROM cachier_functions WHERE name='geocode';  -- back to defaults
**
** Columns: name (function name, or '*' for the global defaults that unset
** columns inherit), stale_after, next_time, allow_none,
** wait_for_calc_timeout, cleanup_stale, cleanup_interval, entry_size_limit,
** hash_func, stale_while_refresh, stale_if_error, background_refresh,
** compress_min, compress_level, max_entries, max_bytes, eviction (the
** '*' row's max_entries and max_bytes bound the whole store and are not
** inherited), store ('main', 'memory' or 'file:PATH': where the entries
** live), hot_bytes ('*' row only: the hot tier's size; 0 turns it off).
** NULL means "inherit". Values are validated and stored in
** canonical form (durations in seconds or 'never', sizes in bytes or
** 'none', booleans 0/1): an invalid value is an error and changes nothing.
** Rows live in the shadow table cachier_config; writes apply to the next
** memoize() statement of every connection.
*/
#include "store.h"
#include <string.h>

/* The columns, in the order of the table (and of cachier_config's
** columns of the same names), with the kind of value each takes. */
enum { KIND_NAME, KIND_DURATION, KIND_BOOL, KIND_SIZE, KIND_FUNCTION,
       KIND_LEVEL, KIND_COUNT, KIND_EVICTION, KIND_STORE, KIND_GLOBAL_SIZE };
static const struct FnColumn {
  const char *zName;
  int eKind;
} aColumn[] = {
  { "name",                  KIND_NAME },
  { "stale_after",           KIND_DURATION },
  { "next_time",             KIND_BOOL },
  { "allow_none",            KIND_BOOL },
  { "wait_for_calc_timeout", KIND_DURATION },
  { "cleanup_stale",         KIND_BOOL },
  { "cleanup_interval",      KIND_DURATION },
  { "entry_size_limit",      KIND_SIZE },
  { "hash_func",             KIND_FUNCTION },
  { "stale_while_refresh",   KIND_DURATION },
  { "stale_if_error",        KIND_DURATION },
  { "background_refresh",    KIND_BOOL },
  { "compress_min",          KIND_SIZE },
  { "compress_level",        KIND_LEVEL },
  { "max_entries",           KIND_COUNT },
  { "max_bytes",             KIND_SIZE },
  { "eviction",              KIND_EVICTION },
  { "store",                 KIND_STORE },
  { "hot_bytes",             KIND_GLOBAL_SIZE },
};
#define N_COL ((int)(sizeof(aColumn)/sizeof(aColumn[0])))
#define COL_NAME 0
#define BIND_LIST "?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16," \
                  "?17,?18,?19"
#define COLUMN_LIST "name, stale_after, next_time, allow_none," \
  " wait_for_calc_timeout, cleanup_stale, cleanup_interval," \
  " entry_size_limit, hash_func, stale_while_refresh, stale_if_error," \
  " background_refresh, compress_min, compress_level, max_entries," \
  " max_bytes, eviction, store, hot_bytes"

typedef struct FnCursor FnCursor;
struct FnCursor {
  sqlite3_vtab_cursor base;
  sqlite3_stmt *pStmt;        /* rowid, name, ...; NULL: no table yet */
  int bEof;
};

static int fnConnect(sqlite3 *db, void *pAux, int argc,
                     const char *const *argv, sqlite3_vtab **ppVtab,
                     char **pzErr){
  (void)argc; (void)argv; (void)pzErr;
  return cachierVtabConnect(db, pAux, "CREATE TABLE x(" COLUMN_LIST ")",
      1, ppVtab);
}

/* A "name = ?" constraint is a unique lookup (idxNum 1). */
static int fnBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  (void)pVtab;
  cachierBestIndexEq(pInfo, COL_NAME, 1000.0, 1.0, 1);
  return SQLITE_OK;
}

static int fnOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor){
  FnCursor *pCur = sqlite3_malloc(sizeof(*pCur));
  (void)pVtab;
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

static int fnClose(sqlite3_vtab_cursor *pCursor){
  FnCursor *pCur = (FnCursor*)pCursor;
  sqlite3_finalize(pCur->pStmt);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

static int fnNext(sqlite3_vtab_cursor *pCursor){
  FnCursor *pCur = (FnCursor*)pCursor;
  int rc;
  if( pCur->pStmt==0 ){
    pCur->bEof = 1;
    return SQLITE_OK;
  }
  rc = sqlite3_step(pCur->pStmt);
  pCur->bEof = rc!=SQLITE_ROW;
  if( rc==SQLITE_ROW || rc==SQLITE_DONE ) return SQLITE_OK;
  pCursor->pVtab->zErrMsg = sqlite3_mprintf("%s",
      sqlite3_errmsg(((CachierVtab*)pCursor->pVtab)->p->db));
  return rc;
}

static int fnFilter(sqlite3_vtab_cursor *pCursor, int idxNum,
                    const char *idxStr, int argc, sqlite3_value **argv){
  FnCursor *pCur = (FnCursor*)pCursor;
  Cachier *p = ((CachierVtab*)pCursor->pVtab)->p;
  (void)idxStr; (void)argc;
  sqlite3_finalize(pCur->pStmt);
  pCur->pStmt = 0;
  /* No config table yet means no rows. */
  if( sqlite3_prepare_v2(p->db, idxNum==1
        ? "SELECT rowid, " COLUMN_LIST " FROM main.cachier_config"
          " WHERE name=lower(?1)"
        : "SELECT rowid, " COLUMN_LIST " FROM main.cachier_config"
          " ORDER BY name",
        -1, &pCur->pStmt, 0)!=SQLITE_OK ){
    pCur->pStmt = 0;
  }else if( idxNum==1 ){
    sqlite3_bind_value(pCur->pStmt, 1, argv[0]);
  }
  return fnNext(pCursor);
}

static int fnEof(sqlite3_vtab_cursor *pCursor){
  return ((FnCursor*)pCursor)->bEof;
}

static int fnColumn(sqlite3_vtab_cursor *pCursor, sqlite3_context *ctx,
                    int i){
  FnCursor *pCur = (FnCursor*)pCursor;
  sqlite3_result_value(ctx, sqlite3_column_value(pCur->pStmt, i+1));
  return SQLITE_OK;
}

static int fnRowid(sqlite3_vtab_cursor *pCursor, sqlite_int64 *pRowid){
  *pRowid = sqlite3_column_int64(((FnCursor*)pCursor)->pStmt, 0);
  return SQLITE_OK;
}

/* Validate one column's new value and bind its canonical form at iBind.
** Returns SQLITE_OK or an error with *pzErr set. */
static int bindCanonical(Cachier *p, sqlite3_stmt *pStmt, int iBind, int iCol,
                         sqlite3_value *pVal, int bStar, char **pzErr){
  double r;
  int b;
  sqlite3_int64 n;
  char *zName = 0, *zWhy = 0;
  int rc = SQLITE_OK;
  if( sqlite3_value_type(pVal)==SQLITE_NULL ){
    if( iCol==COL_NAME ){
      *pzErr = sqlite3_mprintf("cachier_functions: name cannot be NULL");
      return SQLITE_CONSTRAINT;
    }
    return sqlite3_bind_null(pStmt, iBind);
  }
  switch( aColumn[iCol].eKind ){
    case KIND_NAME:
      if( sqlite3_value_type(pVal)==SQLITE_TEXT
       && strcmp((const char*)sqlite3_value_text(pVal), "*")==0 ){
        return sqlite3_bind_text(pStmt, iBind, "*", 1, SQLITE_STATIC);
      }
      rc = callCanonicalName("cachier_functions", pVal, &zName, pzErr);
      if( rc ) return rc;
      return sqlite3_bind_text(pStmt, iBind, zName, -1, sqlite3_free);
    case KIND_DURATION:
      rc = parseDuration(pVal, 0, &r, &zWhy);
      if( rc==SQLITE_OK ){
        rc = durationRuleCheck(aColumn[iCol].zName, r, &zWhy);
      }
      if( rc ) break;
      if( r>=CACHIER_NEVER ){
        return sqlite3_bind_text(pStmt, iBind, "never", -1, SQLITE_STATIC);
      }
      return sqlite3_bind_double(pStmt, iBind, r);
    case KIND_BOOL:
      rc = parseBool(pVal, &b, &zWhy);
      if( rc ) break;
      return sqlite3_bind_int(pStmt, iBind, b);
    case KIND_EVICTION:
      rc = parseEviction(pVal, &b, &zWhy);
      if( rc ) break;
      return sqlite3_bind_text(pStmt, iBind, b==EVICT_COST ? "cost" : "lru",
                               -1, SQLITE_STATIC);
    case KIND_LEVEL:
      rc = compressLevelCheck(pVal, &b, &zWhy);
      if( rc ) break;
      return sqlite3_bind_int(pStmt, iBind, b);
    case KIND_STORE:
      if( sqlite3_value_type(pVal)!=SQLITE_TEXT ){
        zWhy = sqlite3_mprintf("a store name is text: 'main', 'memory', "
                               "'file:PATH', 'redis://...' or 'unix:...'");
        rc = SQLITE_ERROR;
        break;
      }
      rc = storeSpecCheck((const char*)sqlite3_value_text(pVal), &zWhy);
      if( rc ) break;
      return sqlite3_bind_value(pStmt, iBind, pVal);
    case KIND_GLOBAL_SIZE:
      if( !bStar ){
        zWhy = sqlite3_mprintf("is set in the '*' row only (it sizes "
                               "each connection's hot tier)");
        rc = SQLITE_ERROR;
        break;
      }
      /* fall through */
    case KIND_SIZE:
    case KIND_COUNT:          /* both: a number, or 'none' (-1) */
      rc = aColumn[iCol].eKind==KIND_COUNT ? parseCount(pVal, &n, &zWhy)
                                           : parseSize(pVal, &n, &zWhy);
      if( rc ) break;
      if( n<0 ) return sqlite3_bind_text(pStmt, iBind, "none", -1,
                                         SQLITE_STATIC);
      return sqlite3_bind_int64(pStmt, iBind, n);
    case KIND_FUNCTION:
      rc = callCanonicalName("cachier_functions: hash_func", pVal, &zName,
                             pzErr);
      if( rc ) return rc;
      /* Any arity: it is called with the memoized function's arguments. */
      rc = callCheckFunction(p, "cachier_functions: hash_func", zName, -1,
                             pzErr);
      if( rc ){
        sqlite3_free(zName);
        return rc;
      }
      return sqlite3_bind_text(pStmt, iBind, zName, -1, sqlite3_free);
  }
  if( rc==SQLITE_NOMEM ) return rc;
  *pzErr = sqlite3_mprintf("cachier_functions: %s: %s", aColumn[iCol].zName,
                           zWhy ? zWhy : "invalid value");
  sqlite3_free(zWhy);
  return SQLITE_ERROR;
}

/* INSERT, UPDATE and DELETE. */
static int fnUpdate(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv,
                    sqlite_int64 *pRowid){
  CachierVtab *pTab = (CachierVtab*)pVtab;
  Cachier *p = pTab->p;
  sqlite3_stmt *pStmt = 0;
  char *zErr = 0;
  int rc, i, bStar;
  int bInsert = argc>1 && sqlite3_value_type(argv[0])==SQLITE_NULL;
  (void)pRowid;
  if( argc==1 ){
    rc = sqlite3_prepare_v2(p->db,
        "DELETE FROM main.cachier_config WHERE rowid=?1", -1, &pStmt, 0);
    if( rc==SQLITE_OK ){
      sqlite3_bind_value(pStmt, 1, argv[0]);
      sqlite3_step(pStmt);
      rc = sqlite3_finalize(pStmt);
    }
    if( rc ) zErr = sqlite3_mprintf("%s", sqlite3_errmsg(p->db));
    goto done;
  }
  rc = storeEnsureTables(cachierMainStore(p));
  if( rc ){
    zErr = sqlite3_mprintf("%s", rc==SQLITE_MISMATCH
        ? storeErrmsg(cachierMainStore(p), rc)
        : sqlite3_errmsg(p->db));
    goto done;
  }
  if( bInsert ){
    int bReplace = sqlite3_vtab_on_conflict(p->db)==SQLITE_REPLACE;
    rc = sqlite3_prepare_v2(p->db, bReplace
        ? "INSERT OR REPLACE INTO main.cachier_config(" COLUMN_LIST ")"
          " VALUES(" BIND_LIST ")"
        : "INSERT INTO main.cachier_config(" COLUMN_LIST ")"
          " VALUES(" BIND_LIST ")",
        -1, &pStmt, 0);
  }else{
    rc = sqlite3_prepare_v2(p->db,
        "UPDATE main.cachier_config SET (" COLUMN_LIST ")"
        " = (" BIND_LIST ") WHERE rowid=?20", -1, &pStmt, 0);
    if( rc==SQLITE_OK ) sqlite3_bind_value(pStmt, N_COL+1, argv[0]);
  }
  if( rc ){
    zErr = sqlite3_mprintf("%s", sqlite3_errmsg(p->db));
    goto done;
  }
  bStar = sqlite3_value_type(argv[2])==SQLITE_TEXT
       && strcmp((const char*)sqlite3_value_text(argv[2]), "*")==0;
  for(i=0; i<N_COL && rc==SQLITE_OK; i++){
    rc = bindCanonical(p, pStmt, i+1, i, argv[2+i], bStar, &zErr);
  }
  if( rc==SQLITE_OK ){
    sqlite3_step(pStmt);
    rc = sqlite3_reset(pStmt);
    if( rc ){
      if( (rc & 0xff)==SQLITE_CONSTRAINT ){
        zErr = sqlite3_mprintf("UNIQUE constraint failed: "
                               "cachier_functions.name");
      }else{
        zErr = sqlite3_mprintf("%s", sqlite3_errmsg(p->db));
      }
    }
  }
  sqlite3_finalize(pStmt);
done:
  if( rc==SQLITE_OK ){
    p->settingsGen++;
  }else if( zErr ){
    sqlite3_free(pVtab->zErrMsg);
    pVtab->zErrMsg = zErr;
  }
  return rc;
}

const sqlite3_module cachierFunctionsModule = {
  0,
  0, fnConnect, fnBestIndex, cachierVtabDisconnect, 0,  /* eponymous only */
  fnOpen, fnClose, fnFilter, fnNext, fnEof, fnColumn, fnRowid,
  fnUpdate,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};
