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
** columns inherit), then the settings of settings.c's table (aSetting[]),
** in its order: stale_after, next_time, allow_none,
** wait_for_calc_timeout, cleanup_stale, cleanup_interval, entry_size_limit,
** hash_func, stale_while_refresh, stale_if_error, background_refresh,
** compress_min, compress_level, max_entries, max_bytes, eviction (the
** '*' row's max_entries and max_bytes bound the whole store and are not
** inherited), store ('main', 'memory' or 'file:PATH': where the entries
** live), hot_bytes ('*' row only: the hot tier's size; 0 turns it off),
** depends_on (tables whose changes make entries stale) and version
** (entries of another version are never served): docs/invalidation.md.
** NULL means "inherit". Values are validated and stored in
** canonical form (durations in seconds or 'never', sizes in bytes or
** 'none', booleans 0/1): an invalid value is an error and changes nothing.
** Rows live in the shadow table cachier_config; writes apply to the next
** memoize() statement of every connection.
**
** Every row written is sealed (seal.c): the settings that reach code or
** the outside world (hash_func, store) are honoured only in rows sealed by
** this user, so a row a database brought along is not. The hidden column
** trusted (read-only; writes ignore it) says whether they are: 1 if the
** row's seal is valid or it sets none of them, 0 if they are ignored.
** Re-seal a row with, say, UPDATE cachier_functions SET store = store (an
** UPDATE that leaves a sealed setting as it is does not seal a row that
** is not trusted: see fnUpdate()).
** The table is DIRECTONLY: views and triggers cannot write (or seal) it.
*/
#include "store.h"
#include <string.h>

/* The columns are those of settingColumn() (settings.c), name first,
** then the hidden column trusted (at settingColumnCount()). */
#define COL_NAME 0

/* True if apCol[i], the new value of column i in an UPDATE, is a sealed
** setting the UPDATE leaves as it is (fnColumn() did not read it). */
static int sealedUnchanged(sqlite3_value **apCol, int i){
  return apCol && (settingColumn(i)->flags & SETTING_SEALED)
      && sqlite3_value_nochange(apCol[i]);
}

/* "?1,?2,...,?n" for the n columns, with the name of the column in place
** of those sealedUnchanged() (apCol NULL: none); NULL on OOM. */
static char *bindList(int n, sqlite3_value **apCol){
  char *z = 0;
  int i;
  for(i=0; i<n; i++){
    if( sealedUnchanged(apCol, i) ){
      z = sqlite3_mprintf("%z%s\"%w\"", z, i ? "," : "",
                          settingColumn(i)->zName);
    }else{
      z = sqlite3_mprintf("%z%s?%d", z, i ? "," : "", i+1);
    }
    if( z==0 ) return 0;
  }
  return z;
}

/* The '*' row always exists: until it is written, the table shows it
** with every setting NULL (built-in defaults) under rowid STAR_ROWID,
** which no row of cachier_config has; writing it creates the row. */
#define STAR_ROWID 0

typedef struct FnCursor FnCursor;
struct FnCursor {
  sqlite3_vtab_cursor base;
  sqlite3_stmt *pStmt;        /* rowid, name, ..., seal; NULL: no table */
  int bEof;
  int bStarRow;               /* the current row is the unwritten '*' */
};

/* True if cachier_config holds a '*' row (false without the table). */
static int starRowWritten(Cachier *p){
  sqlite3_stmt *pStmt = 0;
  int bHas = 0;
  if( sqlite3_prepare_v2(p->db, "SELECT 1 FROM main.cachier_config"
                         " WHERE name='*'", -1, &pStmt, 0)==SQLITE_OK ){
    bHas = sqlite3_step(pStmt)==SQLITE_ROW;
  }
  sqlite3_finalize(pStmt);
  return bHas;
}

/* True if zName is '*' or a scalar SQL function of this connection (any
** arity): the column known, and the warning of fnUpdate(). */
static int functionKnown(Cachier *p, const char *zName){
  char *zErr = 0;
  int rc;
  if( strcmp(zName, "*")==0 ) return 1;
  rc = callCheckFunction(p, "cachier_functions", zName, -1, &zErr);
  sqlite3_free(zErr);
  return rc==SQLITE_OK;
}

/* A row written for a name that is no function here (yet): kept, since
** the function may be registered later, but logged, as it may be a
** misspelling (cachier_functions.known says so too). */
static void warnIfUnknown(Cachier *p, sqlite3_value *pName){
  char *zFn = 0, *zErr = 0;
  if( sqlite3_value_type(pName)==SQLITE_TEXT
   && strcmp((const char*)sqlite3_value_text(pName), "*")!=0
   && callCanonicalName("cachier_functions", pName, &zFn, &zErr)==SQLITE_OK
   && !functionKnown(p, zFn) ){
    cachierLogFn(p, CACHIER_LOG_WARNING, zFn, "cachier: cachier_functions: "
        "%s is not a function on this connection (yet): its settings apply "
        "once it is registered; a misspelling?", zFn);
  }
  sqlite3_free(zFn);
  sqlite3_free(zErr);
}

static int fnConnect(sqlite3 *db, void *pAux, int argc,
                     const char *const *argv, sqlite3_vtab **ppVtab,
                     char **pzErr){
  char *zList = settingColumnList();
  char *zDecl = zList ? sqlite3_mprintf("CREATE TABLE x(%s, trusted HIDDEN,"
                                       " known HIDDEN)", zList) : 0;
  int rc;
  (void)argc; (void)argv; (void)pzErr;
  sqlite3_free(zList);
  if( zDecl==0 ) return SQLITE_NOMEM;
  rc = cachierVtabConnect(db, pAux, zDecl, 1, ppVtab);
  sqlite3_free(zDecl);
  /* fnUpdate() returns SQLITE_CONSTRAINT before changing anything, so
  ** SQLite can apply INSERT OR IGNORE (and OR ROLLBACK, OR FAIL) itself. */
  if( rc==SQLITE_OK ){
    sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  }
  return rc;
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
  pCur->bStarRow = 0;
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
  char *zList, *zSql;
  int bStar = 0;              /* the lookup is of the '*' row */
  (void)idxStr; (void)argc;
  sqlite3_finalize(pCur->pStmt);
  pCur->pStmt = 0;
  pCur->bEof = 1;
  if( cachierVtabMainOnly(pCursor->pVtab, "cachier_functions") ){
    return SQLITE_ERROR;
  }
  zList = settingColumnList();
  zSql = zList==0 ? 0 : sqlite3_mprintf(
      "SELECT rowid, %s, seal FROM main.cachier_config %s", zList,
      idxNum==1 ? "WHERE name=lower(?1)" : "ORDER BY name");
  sqlite3_free(zList);
  if( zSql==0 ) return SQLITE_NOMEM;
  /* No config table yet means no rows. */
  if( sqlite3_prepare_v2(p->db, zSql, -1, &pCur->pStmt, 0)!=SQLITE_OK ){
    pCur->pStmt = 0;
  }else if( idxNum==1 ){
    /* (A copy of the name, which may fail: not a search for NULL.) */
    int rc = sqlite3_bind_value(pCur->pStmt, 1, argv[0]);
    if( rc ){
      sqlite3_free(zSql);
      return rc;
    }
  }
  sqlite3_free(zSql);
  /* The unwritten '*' row comes first when it is asked for. */
  if( idxNum==1 && sqlite3_value_type(argv[0])==SQLITE_TEXT ){
    const char *zName = (const char*)sqlite3_value_text(argv[0]);
    if( zName==0 ) return SQLITE_NOMEM;
    bStar = strcmp(zName, "*")==0;
  }
  if( (idxNum!=1 || bStar) && !starRowWritten(p) ){
    pCur->bStarRow = 1;
    pCur->bEof = 0;
    return SQLITE_OK;
  }
  return fnNext(pCursor);
}

static int fnEof(sqlite3_vtab_cursor *pCursor){
  return ((FnCursor*)pCursor)->bEof;
}

static int fnColumn(sqlite3_vtab_cursor *pCursor, sqlite3_context *ctx,
                    int i){
  FnCursor *pCur = (FnCursor*)pCursor;
  int nCol = settingColumnCount();
  if( pCur->bStarRow ){               /* '*', all NULL, trusted, known */
    if( i==COL_NAME ) sqlite3_result_text(ctx, "*", 1, SQLITE_STATIC);
    if( i>=nCol ) sqlite3_result_int(ctx, 1);
    return SQLITE_OK;
  }
  if( i==nCol+1 ){                    /* known */
    const char *zName = (const char*)sqlite3_column_text(pCur->pStmt, 1);
    Cachier *p = ((CachierVtab*)pCursor->pVtab)->p;
    sqlite3_result_int(ctx, zName && functionKnown(p, zName));
    return SQLITE_OK;
  }
  if( i==nCol ){                      /* trusted */
    Cachier *p = ((CachierVtab*)pCursor->pVtab)->p;
    sqlite3_result_int(ctx, sealCheck(p, pCur->pStmt, 1, nCol+1)!=SEAL_INVALID);
    return SQLITE_OK;
  }
  /* An UPDATE that leaves a sealed setting alone does not read it, so
  ** fnUpdate() knows it is not being (re)written: see there. */
  if( (settingColumn(i)->flags & SETTING_SEALED) && sqlite3_vtab_nochange(ctx) ){
    return SQLITE_OK;
  }
  sqlite3_result_value(ctx, sqlite3_column_value(pCur->pStmt, i+1));
  return SQLITE_OK;
}

static int fnRowid(sqlite3_vtab_cursor *pCursor, sqlite_int64 *pRowid){
  FnCursor *pCur = (FnCursor*)pCursor;
  *pRowid = pCur->bStarRow ? STAR_ROWID : sqlite3_column_int64(pCur->pStmt, 0);
  return SQLITE_OK;
}

/* Validate the new value of column pDef and bind its canonical form at
** iBind: durations in seconds or 'never', sizes and counts or 'none',
** booleans 0/1, eviction policies by name, function names in lower case.
** Returns SQLITE_OK or an error with *pzErr set. */
static int bindCanonical(Cachier *p, sqlite3_stmt *pStmt, int iBind,
                         const SettingDef *pDef, sqlite3_value *pVal,
                         int bStar, char **pzErr){
  SettingValue v;
  char *zName = 0, *zWhy = 0;
  int rc;
  if( sqlite3_value_type(pVal)==SQLITE_NULL ){
    if( pDef->eKind==SETTING_KIND_NAME ){
      *pzErr = sqlite3_mprintf("cachier_functions: name cannot be NULL");
      return SQLITE_CONSTRAINT;
    }
    return sqlite3_bind_null(pStmt, iBind);
  }
  switch( pDef->eKind ){
    case SETTING_KIND_NAME:
      if( sqlite3_value_type(pVal)==SQLITE_TEXT ){
        const char *z = (const char*)sqlite3_value_text(pVal);
        if( z==0 ) return SQLITE_NOMEM;
        if( strcmp(z, "*")==0 ){
          return sqlite3_bind_text(pStmt, iBind, "*", 1, SQLITE_STATIC);
        }
      }
      rc = callCanonicalName("cachier_functions", pVal, &zName, pzErr);
      if( rc ) return rc;
      return sqlite3_bind_text(pStmt, iBind, zName, -1, sqlite3_free);
    case SETTING_KIND_FUNCTION:
      rc = callCanonicalName("cachier_functions: hash_func", pVal, &zName,
                             pzErr);
      if( rc ) return rc;
      /* Any arity: it is called with the memoized function's arguments. */
      rc = callCheckHashFunc(p, "cachier_functions: hash_func", zName, -1,
                             pzErr);
      if( rc ){
        sqlite3_free(zName);
        return rc;
      }
      return sqlite3_bind_text(pStmt, iBind, zName, -1, sqlite3_free);
    case SETTING_KIND_DEPENDS:
      rc = dependsCanonical(p, pVal, &zName, &zWhy);
      if( rc==SQLITE_OK ){
        return sqlite3_bind_text(pStmt, iBind, zName, -1, sqlite3_free);
      }
      if( rc==SQLITE_NOMEM ) return rc;
      *pzErr = sqlite3_mprintf("cachier_functions: depends_on: %s",
                               zWhy ? zWhy : "invalid value");
      sqlite3_free(zWhy);
      return SQLITE_ERROR;
  }
  if( (pDef->flags & SETTING_STAR_ONLY) && !bStar ){
    zWhy = sqlite3_mprintf("is set in the '*' row only (%s)",
                           pDef->zStarOnlyWhy);
    rc = SQLITE_ERROR;
  }else{
    rc = settingParse(pDef, pVal, &v, &zWhy);
    if( rc==SQLITE_OK ) rc = settingRuleCheck(pDef, &v, &zWhy);
    if( rc==SQLITE_OK && pDef->eKind==SETTING_KIND_STORE ){
      rc = storeSpecCheck(v.z, &zWhy);
    }
  }
  if( rc==SQLITE_OK ){
    switch( pDef->eKind ){
      case SETTING_KIND_DURATION:
        if( v.r>=CACHIER_NEVER ){
          return sqlite3_bind_text(pStmt, iBind, "never", -1, SQLITE_STATIC);
        }
        return sqlite3_bind_double(pStmt, iBind, v.r);
      case SETTING_KIND_BOOL:
      case SETTING_KIND_LEVEL:
        return sqlite3_bind_int(pStmt, iBind, v.i);
      case SETTING_KIND_EVICTION:
        return sqlite3_bind_text(pStmt, iBind,
            v.i==EVICT_COST ? "cost" : "lru", -1, SQLITE_STATIC);
      case SETTING_KIND_SIZE:
      case SETTING_KIND_COUNT:
        if( v.n<0 ){
          return sqlite3_bind_text(pStmt, iBind, "none", -1, SQLITE_STATIC);
        }
        return sqlite3_bind_int64(pStmt, iBind, v.n);
      default:                /* SETTING_KIND_STORE: as given */
        return sqlite3_bind_value(pStmt, iBind, pVal);
    }
  }
  if( rc==SQLITE_NOMEM ) return rc;
  *pzErr = sqlite3_mprintf("cachier_functions: %s: %s", pDef->zName,
                           zWhy ? zWhy : "invalid value");
  sqlite3_free(zWhy);
  return SQLITE_ERROR;
}

/* INSERT, UPDATE and DELETE. Every row written is sealed (sealRow()),
** except that an UPDATE which leaves a sealed setting as it is keeps the
** row's trust as it was: SET stale_after = 60 on a row whose store a
** database brought along must not make that store trusted. Writing the
** sealed settings themselves (SET store = store) seals them. */
static int fnUpdate(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv,
                    sqlite_int64 *pRowid){
  CachierVtab *pTab = (CachierVtab*)pVtab;
  Cachier *p = pTab->p;
  sqlite3_stmt *pStmt = 0;
  char *zErr = 0, *zList, *zBind, *zSql = 0;
  int rc, i, nCol, bStar, bSeal = 1;
  /* Writing the unwritten '*' row (STAR_ROWID) creates it. */
  int bStarRow = sqlite3_value_type(argv[0])==SQLITE_INTEGER
              && sqlite3_value_int64(argv[0])==STAR_ROWID;
  int bInsert = argc>1 && (sqlite3_value_type(argv[0])==SQLITE_NULL
                           || bStarRow);
  int eConflict = sqlite3_vtab_on_conflict(p->db);
  (void)pRowid;
  rc = cachierVtabMainOnly(pVtab, "cachier_functions");
  if( rc ) return rc;
  if( argc==1 && bStarRow ){
    rc = SQLITE_OK;           /* it holds the defaults already */
    goto done;
  }
  if( argc==1 ){
    rc = sqlite3_prepare_v2(p->db,
        "DELETE FROM main.cachier_config WHERE rowid=?1", -1, &pStmt, 0);
    if( rc==SQLITE_OK ){
      rc = sqlite3_bind_value(pStmt, 1, argv[0]);
      if( rc==SQLITE_OK ){
        sqlite3_step(pStmt);
        rc = sqlite3_finalize(pStmt);
      }else{
        sqlite3_finalize(pStmt);    /* not a DELETE of rowid NULL */
      }
    }
    if( rc && rc!=SQLITE_NOMEM ){
      zErr = sqlite3_mprintf("%s", sqlite3_errmsg(p->db));
    }
    if( rc==SQLITE_OK ) rc = dependsSync(p, &zErr);
    goto done;
  }
  /* (The main store opens on first use, which may run out of memory.) */
  rc = cachierMainStore(p) ? storeEnsureTables(cachierMainStore(p))
                           : SQLITE_NOMEM;
  if( rc ){
    zErr = sqlite3_mprintf("%s", rc==SQLITE_MISMATCH
        ? storeErrmsg(cachierMainStore(p), rc)
        : rc==SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(p->db));
    goto done;
  }
  nCol = settingColumnCount();
  zList = settingColumnList();
  zBind = bindList(nCol, bInsert ? 0 : argv+2);
  if( !bInsert ){
    uint64_t mUnchanged = 0;
    for(i=0; i<nCol && i<64; i++){
      if( sealedUnchanged(argv+2, i) ) mUnchanged |= (uint64_t)1 << i;
    }
    if( mUnchanged ){
      bSeal = sealUpdateMaySeal(p, sqlite3_value_int64(argv[0]), mUnchanged);
    }
  }
  if( zList && zBind ){
    zSql = bInsert
      ? sqlite3_mprintf("INSERT %s INTO main.cachier_config(%s) VALUES(%s)",
            eConflict==SQLITE_REPLACE ? "OR REPLACE" : "", zList, zBind)
      : sqlite3_mprintf("UPDATE main.cachier_config SET (%s) = (%s)"
                        " WHERE rowid=?%d", zList, zBind, nCol+1);
  }
  sqlite3_free(zList);
  sqlite3_free(zBind);
  if( zSql==0 ){
    rc = SQLITE_NOMEM;
    goto done;
  }
  rc = sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if( rc==SQLITE_OK && !bInsert ){
    rc = sqlite3_bind_value(pStmt, nCol+1, argv[0]);
  }
  if( rc ){
    if( rc!=SQLITE_NOMEM ){
      zErr = sqlite3_mprintf("%s", sqlite3_errmsg(p->db));
    }
    goto done;
  }
  bStar = 0;
  if( sqlite3_value_type(argv[2])==SQLITE_TEXT ){
    const char *z = (const char*)sqlite3_value_text(argv[2]);
    if( z==0 ) rc = SQLITE_NOMEM;
    else bStar = strcmp(z, "*")==0;
  }
  for(i=0; i<nCol && rc==SQLITE_OK; i++){
    if( !bInsert && sealedUnchanged(argv+2, i) ) continue;
    rc = bindCanonical(p, pStmt, i+1, settingColumn(i), argv[2+i], bStar,
                       &zErr);
  }
  if( rc==SQLITE_OK ){
    sqlite3_step(pStmt);
    rc = sqlite3_reset(pStmt);
    if( rc==SQLITE_OK && bSeal ){
      rc = sealRow(p, bInsert ? sqlite3_last_insert_rowid(p->db)
                              : sqlite3_value_int64(argv[0]), &zErr);
    }else if( rc ){
      if( (rc & 0xff)==SQLITE_CONSTRAINT ){
        /* Nothing changed: SQLite applies the statement's ON CONFLICT
        ** (OR IGNORE skips the row, silently). */
        rc = SQLITE_CONSTRAINT;
        if( eConflict!=SQLITE_IGNORE ){
          zErr = sqlite3_mprintf("UNIQUE constraint failed: "
                                 "cachier_functions.name");
        }
      }else{
        zErr = sqlite3_mprintf("%s", sqlite3_errmsg(p->db));
      }
    }
  }
  sqlite3_finalize(pStmt);
  /* Tracking follows the rows: set up for the tables they name now,
  ** removed from those no row names any more (depends.c). */
  if( rc==SQLITE_OK ) rc = dependsSync(p, &zErr);
done:
  if( rc==SQLITE_OK ){
    p->settingsGen++;
    if( argc>1 ) warnIfUnknown(p, argv[2]);
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
