/*
** vtab_schema.c - the "cachier" module, owner of the store's tables.
**
** SQL surface:
**   CREATE VIRTUAL TABLE main.cachier USING cachier;   -- done for you
**   SELECT key, value FROM cachier;    -- facts: schema_version, created
**                                      -- (not the counters of
**                                      -- store_counters.c: cachier_stats)
**   DROP TABLE cachier;                -- removes the whole cache
**
** The first cache write creates main.cachier, whose xCreate runs
** sql/schema.sql. Its tables cachier_info, cachier_config and cachier_data
** are shadow tables (xShadowName): with SQLITE_DBCONFIG_DEFENSIVE on,
** ordinary SQL cannot modify them, only cachier's own functions and
** virtual tables can. xConnect refuses a store whose schema_version is
** newer than this build understands, so an old build never misreads it.
*/
#include "store.h"
#include <string.h>

typedef struct SchemaVtab SchemaVtab;
struct SchemaVtab {
  sqlite3_vtab base;
  sqlite3 *db;
  Cachier *p;
};

typedef struct SchemaCursor SchemaCursor;
struct SchemaCursor {
  sqlite3_vtab_cursor base;
  sqlite3_stmt *pStmt;
  int bEof;
};

static int schemaInit(sqlite3 *db, Cachier *p, int bCreate, int argc,
                      const char *const *argv, sqlite3_vtab **ppVtab,
                      char **pzErr){
  SchemaVtab *pTab;
  int rc, v;
  if( argc!=3 || sqlite3_stricmp(argv[1], "main")!=0
   || sqlite3_stricmp(argv[2], "cachier")!=0 ){
    *pzErr = sqlite3_mprintf("cachier: the cache table must be "
                             "main.cachier and takes no arguments");
    return SQLITE_ERROR;
  }
  if( bCreate ){
    rc = storeCreateTables(db, pzErr);
    if( rc ) return rc;
    p->settingsGen++;         /* cached store state is out of date */
  }
  v = storeSchemaVersion(db);
  if( v>CACHIER_SCHEMA_VERSION ){
    *pzErr = sqlite3_mprintf("cachier: this cache has schema version %d; "
        "this build of cachier understands up to %d", v,
        CACHIER_SCHEMA_VERSION);
    return SQLITE_ERROR;
  }
  rc = sqlite3_declare_vtab(db, "CREATE TABLE x(key TEXT, value)");
  if( rc ) return rc;
  pTab = sqlite3_malloc(sizeof(*pTab));
  if( pTab==0 ) return SQLITE_NOMEM;
  memset(pTab, 0, sizeof(*pTab));
  pTab->db = db;
  pTab->p = p;
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  *ppVtab = &pTab->base;
  return SQLITE_OK;
}

static int schemaCreate(sqlite3 *db, void *pAux, int argc,
                        const char *const *argv, sqlite3_vtab **ppVtab,
                        char **pzErr){
  return schemaInit(db, (Cachier*)pAux, 1, argc, argv, ppVtab, pzErr);
}

static int schemaConnect(sqlite3 *db, void *pAux, int argc,
                         const char *const *argv, sqlite3_vtab **ppVtab,
                         char **pzErr){
  return schemaInit(db, (Cachier*)pAux, 0, argc, argv, ppVtab, pzErr);
}

static int schemaDisconnect(sqlite3_vtab *pVtab){
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

static int schemaDestroy(sqlite3_vtab *pVtab){
  SchemaVtab *pTab = (SchemaVtab*)pVtab;
  int rc = storeDropTables(pTab->db);
  if( rc==SQLITE_OK ){
    pTab->p->settingsGen++;   /* cached store state is out of date */
    sqlite3_free(pVtab);
  }
  return rc;
}

static int schemaBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  (void)pVtab;
  pInfo->estimatedCost = 10.0;
  pInfo->estimatedRows = 2;
  return SQLITE_OK;
}

static int schemaOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor){
  SchemaCursor *pCur = sqlite3_malloc(sizeof(*pCur));
  (void)pVtab;
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

static int schemaClose(sqlite3_vtab_cursor *pCursor){
  SchemaCursor *pCur = (SchemaCursor*)pCursor;
  sqlite3_finalize(pCur->pStmt);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

static int schemaNext(sqlite3_vtab_cursor *pCursor){
  SchemaCursor *pCur = (SchemaCursor*)pCursor;
  int rc = sqlite3_step(pCur->pStmt);
  pCur->bEof = rc!=SQLITE_ROW;
  if( rc==SQLITE_ROW || rc==SQLITE_DONE ) return SQLITE_OK;
  return rc;
}

static int schemaFilter(sqlite3_vtab_cursor *pCursor, int idxNum,
                        const char *idxStr, int argc, sqlite3_value **argv){
  SchemaCursor *pCur = (SchemaCursor*)pCursor;
  SchemaVtab *pTab = (SchemaVtab*)pCursor->pVtab;
  int rc;
  (void)idxNum; (void)idxStr; (void)argc; (void)argv;
  sqlite3_finalize(pCur->pStmt);
  pCur->pStmt = 0;
  rc = sqlite3_prepare_v2(pTab->db,
      "SELECT key, value FROM main.cachier_info"
      " WHERE key NOT GLOB 'counters.*' ORDER BY key", -1,
      &pCur->pStmt, 0);
  if( rc ) return rc;
  return schemaNext(pCursor);
}

static int schemaEof(sqlite3_vtab_cursor *pCursor){
  return ((SchemaCursor*)pCursor)->bEof;
}

static int schemaColumn(sqlite3_vtab_cursor *pCursor, sqlite3_context *ctx,
                        int i){
  SchemaCursor *pCur = (SchemaCursor*)pCursor;
  sqlite3_result_value(ctx, sqlite3_column_value(pCur->pStmt, i));
  return SQLITE_OK;
}

static int schemaRowid(sqlite3_vtab_cursor *pCursor, sqlite_int64 *pRowid){
  (void)pCursor;
  *pRowid = 0;
  return SQLITE_OK;
}

/* The store's tables are cachier_info, cachier_config, cachier_data and
** cachier_dict. */
static int schemaShadowName(const char *zName){
  return sqlite3_stricmp(zName, "info")==0
      || sqlite3_stricmp(zName, "config")==0
      || sqlite3_stricmp(zName, "data")==0
      || sqlite3_stricmp(zName, "dict")==0;
}

const sqlite3_module cachierSchemaModule = {
  3,                  /* iVersion: 3 for xShadowName */
  schemaCreate, schemaConnect, schemaBestIndex, schemaDisconnect,
  schemaDestroy, schemaOpen, schemaClose, schemaFilter, schemaNext,
  schemaEof, schemaColumn, schemaRowid,
  0, 0, 0, 0, 0, 0,   /* no xUpdate, no transactions, no overloads */
  0, 0, 0, 0,         /* xRename, xSavepoint, xRelease, xRollbackTo */
  schemaShadowName
};
