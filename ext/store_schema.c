/*
** store_schema.c - the tables of a tables store (main, file:, memory):
** creating and dropping them, their schema version, and the migration of
** an older layout (sql/migrate_*.sql) to the current one
** (sql/schema.sql); refusing tables that are not as cachier made them
** (tablesGuard()); what a connection of cachier's own needs before it can
** hold them.
**
** No SQL surface of its own: the tables belong to the virtual table
** main.cachier (vtab_schema.c), whose xCreate runs storeCreateTables()
** and whose DROP TABLE runs storeDropTables().
*/
#include "store_tables.h"
#include "schema_sql.h"
#include <string.h>
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
    cachierMigrate3To4Sql, cachierMigrate4To5Sql
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

/* ------------------------------------------------------ the schema guard */

/*
** A database file may come from anyone, and SQLite (3.40, even under
** SQLITE_DBCONFIG_DEFENSIVE) lets its schema hang triggers on cachier's
** tables: one on cachier_data could rewrite every value cachier stores.
** So a store is used only while its tables are exactly what sql/schema.sql
** (or a migration) makes: the same tables, columns (name, type, NOT NULL,
** default, primary key, hidden), WITHOUT ROWID-ness and indexes (with
** their columns, collations and partial WHERE), no trigger on them (in
** main or temp), and no CHECK, COLLATE, REFERENCES or ON CONFLICT clause
** in their definitions (which table_xinfo does not show). That is checked
** when the store's state is established (tablesState()) and again before
** a write whenever main's schema_version differs from the one last
** checked: one kept PRAGMA per write, nothing per hit.
*/

/* The cachier tables, as a table to join (no SQL function is called
** here: the user's connection may have redefined any of them). */
#define CACHIER_TABLES "WITH t(name) AS (VALUES ('cachier_info'),"       \
  " ('cachier_config'), ('cachier_data'), ('cachier_dict')) "

/* Clauses of a column or table definition that table_xinfo does not show;
** sql/schema.sql has none of them. */
static const char *const azClause[] = {
  "check", "collate", "references", "conflict"
};

/* Append zSql to pOut without whitespace, lower case (an index's text). */
static void appendSquashed(sqlite3_str *pOut, const char *zSql){
  for(; zSql && *zSql; zSql++){
    char c = *zSql;
    if( c==' ' || c=='\t' || c=='\n' || c=='\r' ) continue;
    if( c>='A' && c<='Z' ) c += 'a' - 'A';
    sqlite3_str_appendchar(pOut, 1, c);
  }
}

/* The facts of db's cachier tables, one a line: "\n"-separated, with a
** "\n" before the first and after the last (sqlite3_free it). NULL with
** *pRc set on error. */
/* Finalize pStmt whatever happened (a statement left unfinalized would
** keep its connection from closing); the first error wins. */
static int finalizeKeep(sqlite3_stmt *pStmt, int rc){
  int rc2 = sqlite3_finalize(pStmt);
  return rc ? rc : rc2;
}

static char *schemaDescribe(sqlite3 *db, int *pRc){
  sqlite3_str *pOut = sqlite3_str_new(db);
  sqlite3_stmt *pStmt = 0, *pCols = 0;
  int rc;
  sqlite3_str_appendchar(pOut, 1, '\n');
  /* The tables: ordinary ones, without clauses table_xinfo misses. */
  rc = sqlite3_prepare_v2(db, CACHIER_TABLES "SELECT t.name, s.sql"
      " FROM t, main.sqlite_schema s WHERE s.type='table' AND s.name=t.name",
      -1, &pStmt, 0);
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zName = (const char*)sqlite3_column_text(pStmt, 0);
    const char *zSql = (const char*)sqlite3_column_text(pStmt, 1);
    size_t i;
    sqlite3_str_appendf(pOut, "table %s%s\n", zName,
        zSql && sqlite3_strnicmp(zSql, "CREATE TABLE ", 13)==0
        ? "" : " (not an ordinary table)");
    for(i=0; zSql && i<sizeof(azClause)/sizeof(azClause[0]); i++){
      if( guardSqlNames(zSql, azClause[i], 0) ){
        sqlite3_str_appendf(pOut, "%s clause in %s\n", azClause[i], zName);
      }
    }
  }
  rc = finalizeKeep(pStmt, rc);
  pStmt = 0;
  /* Their columns. */
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, CACHIER_TABLES "SELECT t.name, x.name,"
        " x.type, x.\"notnull\", x.dflt_value, x.pk, x.hidden"
        " FROM t, pragma_table_xinfo(t.name, 'main') x", -1, &pStmt, 0);
  }
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    sqlite3_str_appendf(pOut,
        "column %s.%s type=%Q notnull=%d default=%Q pk=%d hidden=%d\n",
        sqlite3_column_text(pStmt, 0), sqlite3_column_text(pStmt, 1),
        sqlite3_column_text(pStmt, 2), sqlite3_column_int(pStmt, 3),
        sqlite3_column_text(pStmt, 4), sqlite3_column_int(pStmt, 5),
        sqlite3_column_int(pStmt, 6));
  }
  rc = finalizeKeep(pStmt, rc);
  pStmt = 0;
  /* Their indexes (autoindexes too): columns, collations, text. */
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, CACHIER_TABLES "SELECT t.name, l.name,"
        " l.\"unique\", l.origin, l.partial, s.sql"
        " FROM t, pragma_index_list(t.name, 'main') l"
        " LEFT JOIN main.sqlite_schema s ON s.type='index' AND s.name=l.name",
        -1, &pStmt, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, "SELECT cid, name, \"desc\", coll, key"
        " FROM pragma_index_xinfo(?1, 'main')", -1, &pCols, 0);
  }
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zTable = (const char*)sqlite3_column_text(pStmt, 0);
    const char *zOrigin = (const char*)sqlite3_column_text(pStmt, 3);
    int bRowid = 0;
    sqlite3_str_appendf(pOut, "index %s on %s unique=%d origin=%s "
        "partial=%d (", sqlite3_column_text(pStmt, 1), zTable,
        sqlite3_column_int(pStmt, 2), zOrigin, sqlite3_column_int(pStmt, 4));
    /* (A copy of the name, which may fail: not an index without columns.) */
    rc = sqlite3_bind_value(pCols, 1, sqlite3_column_value(pStmt, 1));
    if( rc ) break;
    while( sqlite3_step(pCols)==SQLITE_ROW ){
      if( sqlite3_column_int(pCols, 0)==-1 ) bRowid = 1;
      sqlite3_str_appendf(pOut, "%d %s %d %s %d, ",
          sqlite3_column_int(pCols, 0), sqlite3_column_text(pCols, 1),
          sqlite3_column_int(pCols, 2), sqlite3_column_text(pCols, 3),
          sqlite3_column_int(pCols, 4));
    }
    rc = sqlite3_reset(pCols);
    sqlite3_str_appendall(pOut, ") ");
    appendSquashed(pOut, (const char*)sqlite3_column_text(pStmt, 5));
    sqlite3_str_appendchar(pOut, 1, '\n');
    if( zOrigin && zOrigin[0]=='p' && !bRowid ){
      sqlite3_str_appendf(pOut, "without rowid %s\n", zTable);
    }
  }
  sqlite3_finalize(pCols);
  rc = finalizeKeep(pStmt, rc);
  pStmt = 0;
  /* Triggers on them: none in sql/schema.sql. */
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, CACHIER_TABLES "SELECT 'trigger', s.name,"
        " s.tbl_name FROM t, main.sqlite_schema s"
        " WHERE s.type='trigger' AND s.tbl_name=t.name"
        " UNION ALL SELECT 'temp trigger', s.name, s.tbl_name"
        " FROM t, temp.sqlite_schema s"
        " WHERE s.type='trigger' AND s.tbl_name=t.name", -1, &pStmt, 0);
  }
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    sqlite3_str_appendf(pOut, "%s %s on %s\n", sqlite3_column_text(pStmt, 0),
        sqlite3_column_text(pStmt, 1), sqlite3_column_text(pStmt, 2));
  }
  rc = finalizeKeep(pStmt, rc);
  if( rc==SQLITE_OK ) rc = sqlite3_str_errcode(pOut);
  *pRc = rc;
  if( rc ){
    sqlite3_free(sqlite3_str_finish(pOut));
    return 0;
  }
  return sqlite3_str_finish(pOut);
}

/* The description of the tables as sql/schema.sql makes them, from a
** database of its own. */
static char *schemaReference(int *pRc){
  sqlite3 *db = 0;
  char *z = 0;
  int rc = sqlite3_open_v2(":memory:", &db,
                           SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE, 0);
  if( rc==SQLITE_OK ) rc = storeCreateTables(db, 0);
  if( rc==SQLITE_OK ) z = schemaDescribe(db, &rc);
  sqlite3_close(db);
  *pRc = rc;
  return z;
}

/* The first line of zA ("\n"-separated, schemaDescribe()) that zB lacks,
** as an sqlite3_malloc'ed string; NULL if none. */
static char *firstMissing(const char *zA, const char *zB){
  const char *z = zA + 1;
  while( *z ){
    const char *zEnd = strchr(z, '\n');
    char *zLine = sqlite3_mprintf("\n%.*s\n", (int)(zEnd - z), z);
    if( zLine && strstr(zB, zLine)==0 ){
      zLine[strlen(zLine)-1] = 0;
      memmove(zLine, zLine+1, strlen(zLine));
      return zLine;
    }
    sqlite3_free(zLine);
    z = zEnd + 1;
  }
  return 0;
}

/* Compare the store's tables with the reference: SQLITE_OK with
** s->zRefused set (and logged) if they differ, NULL if not. *pbAbsent: no
** table is there (yet, or any more): nothing to judge. */
static int schemaCheck(TablesStore *s, int *pbAbsent){
  const char *zFile = sqlite3_db_filename(s->db, "main");
  char *zHave, *zWant = 0, *zDiff = 0, *zWhy = 0;
  int rc;
  zHave = schemaDescribe(s->db, &rc);
  *pbAbsent = zHave && strstr(zHave, "\ntable ")==0;
  if( zHave && !*pbAbsent ) zWant = schemaReference(&rc);
  if( zHave && zWant ){
    zDiff = firstMissing(zHave, zWant);
    if( zDiff ){
      zWhy = sqlite3_mprintf("has %s", zDiff);
    }else if( (zDiff = firstMissing(zWant, zHave))!=0 ){
      zWhy = sqlite3_mprintf("lacks %s", zDiff);
    }
  }
  sqlite3_free(s->zRefused);
  s->zRefused = 0;
  if( zWhy ){
    s->zRefused = sqlite3_mprintf("the cache tables of store %s (database "
        "%s) are not as cachier makes them: the schema %s - refused",
        s->base.zSpec, zFile && zFile[0] ? zFile : "in memory", zWhy);
    if( s->zRefused==0 ) rc = SQLITE_NOMEM;
    else cachierLog(s->base.pCachier, "cachier: %s; computing without it",
                    s->zRefused);
  }
  sqlite3_free(zWhy);
  sqlite3_free(zDiff);
  sqlite3_free(zHave);
  sqlite3_free(zWant);
  return rc;
}

/* SQLITE_OK if the store's tables are as cachier makes them, SQLITE_MISMATCH
** if not (s->zRefused says why), another error if that cannot be told.
** In full only when main's schema_version changed since the last check. */
int tablesGuard(TablesStore *s){
  sqlite3_stmt *pStmt = tStmt(s, STMT_SCHEMA_VERSION);
  int rc, iCookie, bAbsent = 0;
  if( pStmt==0 ) return tStmtError(s);
  rc = sqlite3_step(pStmt);
  iCookie = sqlite3_column_int(pStmt, 0);
  tStmtDone(s, STMT_SCHEMA_VERSION, pStmt);
  if( rc!=SQLITE_ROW ) return tStmtError(s);
  if( !s->bSchemaChecked || iCookie!=s->iSchemaCookie ){
    s->bSchemaChecked = 0;
    rc = schemaCheck(s, &bAbsent);
    if( rc ) return rc;
    s->bSchemaChecked = !bAbsent;
    s->iSchemaCookie = iCookie;
  }
  return s->zRefused ? SQLITE_MISMATCH : SQLITE_OK;
}

/* The state of the store's tables: STORE_ABSENT (none yet), STORE_READY,
** STORE_NEWER (written by a newer schema version, which this build must
** neither read nor write), STORE_OLD, or STORE_UNAVAILABLE: refused by
** tablesGuard(). Errors (a locked database) are returned as such. */
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
  if( *peState==STORE_READY ){
    rc = tablesGuard(s);
    if( rc ){
      *peState = STORE_UNAVAILABLE;
      if( rc!=SQLITE_MISMATCH ) return rc;
    }
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
  /* (A failed copy made by cachier, in a bind, sets no error of s->db.) */
  if( rc==SQLITE_NOMEM ) return sqlite3_errstr(rc);
  if( rc!=SQLITE_MISMATCH ) return sqlite3_errmsg(s->db);
  if( s->zRefused ) return s->zRefused;
  return storeSchemaVersion(s->db)>CACHIER_SCHEMA_VERSION
       ? CACHIER_NEWER_SCHEMA_MSG : CACHIER_OLD_SCHEMA_MSG;
}

/* tablesState() for explicit management calls: SQLITE_OK with *pbHas,
** or an error (SQLITE_MISMATCH for a layout this build cannot use). */
int tablesForManagement(TablesStore *s, int *pbHas){
  int eState;
  int rc = tablesState(&s->base, &eState);
  *pbHas = eState==STORE_READY;
  if( rc==SQLITE_OK && (eState==STORE_NEWER || eState==STORE_OLD
                        || eState==STORE_UNAVAILABLE) ){
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
  if( eState==STORE_NEWER || eState==STORE_OLD
   || eState==STORE_UNAVAILABLE ){
    return SQLITE_MISMATCH;
  }
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
** schedule, for about 5 s in all (OWN_BUSY_TRIES). pArg: NULL, or the
** connection's own number of tries (tablesBusyTries()), read at each. */
static int ownBusy(void *pArg, int nTry){
  struct timespec ts;
  long us = nTry<5 ? 100L<<nTry : 2000L;
  int nMax = pArg ? *(const int*)pArg : OWN_BUSY_TRIES;
  if( nTry>=nMax ) return 0;
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

/* Make db's busy handler wait *pnTries tries (which the caller may change
** at any time: 0, fail at once) instead of OWN_BUSY_TRIES. pnTries must
** outlive db. */
void tablesBusyTries(sqlite3 *db, const int *pnTries){
  sqlite3_busy_handler(db, ownBusy, (void*)pnTries);
}

/* Tries of tablesExecOwn(): the one that gave way succeeds at its next
** (each try may also wait in the busy handler, ownBusy()). */
#define OWN_EXEC_TRIES 5

/* sqlite3_exec() on a connection of cachier's own, tried again a few times
** while it fails with SQLITE_BUSY. SQLite returns that without calling the
** busy handler when two connections both hold a read lock and want to
** write (one must give way): first users of a new file: store all switch
** it to WAL at once. */
int tablesExecOwn(sqlite3 *db, const char *zSql){
  int nTry = 1;
  int rc = sqlite3_exec(db, zSql, 0, 0, 0);
  while( (rc & 0xff)==SQLITE_BUSY && nTry++<OWN_EXEC_TRIES ){
    ownBusy(0, nTry);                   /* (a short sleep) */
    rc = sqlite3_exec(db, zSql, 0, 0, 0);
  }
  return rc;
}
