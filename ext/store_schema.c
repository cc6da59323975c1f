/*
** store_schema.c - the tables of a tables store (main, file:, memory):
** creating and dropping them, their schema version, and the migration of
** an older layout (sql/migrate_*.sql) to the current one
** (sql/schema.sql); what a connection of cachier's own needs before it
** can hold them.
**
** No SQL surface of its own: the tables belong to the virtual table
** main.cachier (vtab_schema.c), whose xCreate runs storeCreateTables()
** and whose DROP TABLE runs storeDropTables().
*/
#include "store_tables.h"
#include "schema_sql.h"
#include <time.h>

/* The schema_version recorded in main.cachier_info, 0 if none. */
int storeSchemaVersion(sqlite3 *db){
  sqlite3_stmt *pStmt = 0;
  int v = 0;
  if( sqlite3_prepare_v2(db, "SELECT value FROM main.cachier_info"
          " WHERE key='schema_version'", -1, &pStmt, 0)==SQLITE_OK
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    v = sqlite3_column_int(pStmt, 0);
  }
  sqlite3_finalize(pStmt);
  return v;
}

/* On a connection of cachier's own outside any transaction, a change of
** the tables takes the write lock first, waiting for it with the busy
** handler (*pbOwnTxn set; end with ownWriteEnd()), rather than upgrading
** a read snapshot, which cannot wait and fails once another connection
** has committed: so several connections first using a new store all
** succeed, one creating the tables, the others finding them. The
** statement's shared read snapshot (store_file.c) ends first. */
static int ownWriteBegin(TablesStore *s, int *pbOwnTxn){
  int rc;
  *pbOwnTxn = 0;
  if( !s->bOwnDb ) return SQLITE_OK;
  if( s->bGroup ) readEnd(s);
  if( !sqlite3_get_autocommit(s->db) ) return SQLITE_OK;
  rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", 0, 0, 0);
  *pbOwnTxn = rc==SQLITE_OK;
  return rc;
}
static int ownWriteEnd(TablesStore *s, int rc){
  if( rc==SQLITE_OK ) rc = sqlite3_exec(s->db, "COMMIT", 0, 0, 0);
  if( rc ) sqlite3_exec(s->db, "ROLLBACK", 0, 0, 0);
  return rc;
}

/* Upgrade an older store to the current version, all or nothing, one
** version at a time. A store that cannot be written (read-only file) stays
** as it is and is not used: this build reads and writes only its own
** layout. */
static int tablesMigrate(TablesStore *s){
  static const char *const azStep[] = {
    0, cachierMigrate1To2Sql, cachierMigrate2To3Sql,
    cachierMigrate3To4Sql
  };
  Cachier *p = s->base.pCachier;
  char *zErr = 0;
  int rc, v0 = storeSchemaVersion(s->db), v, bOwnTxn;
  if( v0<1 || v0>=CACHIER_SCHEMA_VERSION ) return SQLITE_MISMATCH;
  rc = ownWriteBegin(s, &bOwnTxn);
  if( rc ) return rc;
  if( bOwnTxn ){
    v0 = storeSchemaVersion(s->db);     /* another may have upgraded it */
    if( v0==CACHIER_SCHEMA_VERSION ) return ownWriteEnd(s, SQLITE_OK);
    if( v0<1 || v0>CACHIER_SCHEMA_VERSION ){
      return ownWriteEnd(s, SQLITE_MISMATCH);
    }
  }
  rc = sqlite3_exec(s->db, "SAVEPOINT cachier_migrate", 0, 0, 0);
  if( rc ) return bOwnTxn ? ownWriteEnd(s, rc) : rc;
  for(v=v0; rc==SQLITE_OK && v<CACHIER_SCHEMA_VERSION; v++){
    rc = sqlite3_exec(s->db, azStep[v], 0, 0, &zErr);
  }
  if( rc ) sqlite3_exec(s->db, "ROLLBACK TO cachier_migrate", 0, 0, 0);
  sqlite3_exec(s->db, "RELEASE cachier_migrate", 0, 0, 0);
  if( bOwnTxn ) rc = ownWriteEnd(s, rc);
  if( rc ){
    cachierLog(p, "cachier: cannot upgrade the cache in %s from schema "
               "version %d to %d (%s); computing without it", s->base.zSpec,
               v0, CACHIER_SCHEMA_VERSION, zErr ? zErr : sqlite3_errstr(rc));
  }else{
    cachierLog(p, "cachier: upgraded the cache in %s from schema version %d "
               "to %d", s->base.zSpec, v0, CACHIER_SCHEMA_VERSION);
    p->settingsGen++;
  }
  sqlite3_free(zErr);
  return rc;
}

/* The state of the store's tables: STORE_ABSENT (none yet), STORE_READY,
** STORE_NEWER (written by a newer schema version, which this build must
** neither read nor write) or STORE_OLD. Errors (a locked database) are
** returned as such. */
int tablesState(CachierStore *pStore, int *peState){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  int rc, v;
  *peState = STORE_ABSENT;
  rc = sqlite3_prepare_v2(s->db, "SELECT 1 FROM main.sqlite_schema"
        " WHERE type='table' AND name='cachier_info'", -1, &pStmt, 0);
  if( rc ) return rc;
  rc = sqlite3_step(pStmt);
  sqlite3_finalize(pStmt);
  if( rc==SQLITE_DONE ) return SQLITE_OK;
  if( rc!=SQLITE_ROW ) return sqlite3_errcode(s->db);
  v = storeSchemaVersion(s->db);
  if( v>CACHIER_SCHEMA_VERSION ){
    *peState = STORE_NEWER;
  }else if( v<CACHIER_SCHEMA_VERSION ){
    *peState = tablesMigrate(s)==SQLITE_OK ? STORE_READY : STORE_OLD;
  }else{
    *peState = STORE_READY;
  }
  return SQLITE_OK;
}

/* SQLITE_MISMATCH from a store method means an unusable layout: say which;
** anything else is the store connection's own error. */
const char *tablesErrmsg(CachierStore *pStore, int rc){
  TablesStore *s = (TablesStore*)pStore;
  /* The reason of main's last failed write, once the user's connection
  ** has forgotten it (store_tables.c). */
  if( rc==s->rcWriteErr && s->zWriteErr
   && (rc==SQLITE_BUSY_SNAPSHOT || sqlite3_extended_errcode(s->db)!=rc) ){
    return s->zWriteErr;
  }
  if( rc!=SQLITE_MISMATCH ) return sqlite3_errmsg(s->db);
  return storeSchemaVersion(s->db)>CACHIER_SCHEMA_VERSION
       ? CACHIER_NEWER_SCHEMA_MSG : CACHIER_OLD_SCHEMA_MSG;
}

/* tablesState() for explicit management calls: SQLITE_OK with *pbHas,
** or an error (SQLITE_MISMATCH for a layout this build cannot use). */
int tablesForManagement(TablesStore *s, int *pbHas){
  int eState;
  int rc = tablesState(&s->base, &eState);
  *pbHas = eState==STORE_READY;
  if( rc==SQLITE_OK && (eState==STORE_NEWER || eState==STORE_OLD) ){
    rc = SQLITE_MISMATCH;
  }
  return rc;
}

/* Create main.cachier (and so its tables) if it does not exist. */
int storeEnsureTables(CachierStore *pStore){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_int64 iLastRowid;
  int eState, bOwnTxn;
  int rc = tablesState(pStore, &eState);
  if( rc ) return rc;
  if( eState==STORE_READY ) return SQLITE_OK;
  if( eState==STORE_NEWER || eState==STORE_OLD ) return SQLITE_MISMATCH;
  rc = ownWriteBegin(s, &bOwnTxn);
  if( rc ) return rc;
  if( bOwnTxn ){
    rc = tablesState(pStore, &eState);  /* another may have made them */
    if( rc || eState!=STORE_ABSENT ){
      return ownWriteEnd(s, rc ? rc
                            : eState==STORE_READY ? SQLITE_OK : SQLITE_MISMATCH);
    }
  }
  iLastRowid = sqlite3_last_insert_rowid(s->db);
  rc = sqlite3_exec(s->db,
      "CREATE VIRTUAL TABLE IF NOT EXISTS main.cachier USING cachier",
      0, 0, 0);
  sqlite3_set_last_insert_rowid(s->db, iLastRowid);
  return bOwnTxn ? ownWriteEnd(s, rc) : rc;
}

/* Run sql/schema.sql (called from the module's xCreate). */
int storeCreateTables(sqlite3 *db, char **pzErr){
  return sqlite3_exec(db, cachierSchemaSql, 0, 0, pzErr);
}

int storeDropTables(sqlite3 *db){
  return sqlite3_exec(db,
      "DROP TABLE IF EXISTS main.cachier_data;"
      "DROP TABLE IF EXISTS main.cachier_dict;"
      "DROP TABLE IF EXISTS main.cachier_config;"
      "DROP TABLE IF EXISTS main.cachier_info;", 0, 0, 0);
}

/* -------------------------------------------- cachier's own connections */

/* The busy handler of cachier's own connections: another connection's
** group (store_file.c) holds a file's write lock for 10 ms at most, so poll
** finely (0.1 ms, doubling to 2 ms) rather than on SQLite's default
** schedule, for about 5 s in all. */
static int ownBusy(void *pArg, int nTry){
  struct timespec ts;
  long us = nTry<5 ? 100L<<nTry : 2000L;
  (void)pArg;
  if( nTry>2500 ) return 0;
  ts.tv_sec = 0;
  ts.tv_nsec = us*1000L;
  nanosleep(&ts, 0);
  return 1;
}

/* What a connection of cachier's own needs before it can hold the tables:
** the "cachier" module, whose xCreate runs the schema, and the busy
** handler. */
int tablesPrepareDb(Cachier *p, sqlite3 *db){
  extern const sqlite3_module cachierSchemaModule;
  sqlite3_busy_handler(db, ownBusy, 0);
  return sqlite3_create_module_v2(db, "cachier", &cachierSchemaModule, p, 0);
}
