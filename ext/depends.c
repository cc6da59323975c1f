/*
** depends.c - invalidation: entries that know when they are wrong.
**
** SQL surface:
**   cachier_functions.depends_on   tables whose changes make a function's
**       entries stale: 'orders, aux.rates' (a table of main, or
**       schema.table of an attached database); NULL inherits the '*'
**       row's, '' means none. Sealed (it reaches the schema).
**   cachier_functions.version      any value: entries computed under
**       another version (or none, once one is set) are never served.
**   cachier_invalidate([TABLE])    marks TABLE (every tracked table)
**       changed, as a write would; returns how many functions depend on
**       it (cachier_config rows naming it, '*' counting as one).
**
** Tracking lives in the schema of each tracked table's own database, so
** that changes by any connection or process count, cachier loaded or not:
**
**     cachier_changes(id INTEGER PRIMARY KEY, tbl TEXT NOT NULL UNIQUE,
**                     n INTEGER NOT NULL)
**     cachier_track_<table>_insert / _update / _delete
**         AFTER INSERT / UPDATE / DELETE ON <table>
**         BEGIN UPDATE cachier_changes SET n=n+1 WHERE id=<id>; END
**
** id is random, chosen when tracking of the table is set up (a table
** tracked again after a gap gets a new one); the triggers call no
** function, so they run under trusted_schema=OFF, SQLITE_DBCONFIG_DEFENSIVE
** and in clients that never load cachier. A rolled-back change rolls its
** counter back. dependsSync() sets tracking up for the tables that sealed
** cachier_config rows name and removes it from those no row names, on the
** connection that writes cachier_functions.
**
** An entry records the counters it was computed under (its stamp,
** cachier.h); it is fresh while they are the current ones, compared for
** equality. A statement reads the counters once (dependsRead()), and again
** when this connection changed anything since (sqlite3_total_changes64()),
** before it computes: a value is never stamped newer than the data it was
** computed from. Counters that cannot be read or whose triggers are not
** exactly ours (a dropped table, a dropped trigger, a database not
** attached) mean the entries cannot be judged: none is served or stored.
*/
#include "store.h"
#include <ctype.h>
#include <string.h>

/* One dependency: its database and table, lower case. */
typedef struct DepName DepName;
struct DepName {
  char *zSchema;
  char *zTable;
};

static const char *const azEvent[3] = { "insert", "update", "delete" };

static void depNamesFree(DepName *aDep, int nDep){
  int i;
  for(i=0; i<nDep; i++){
    sqlite3_free(aDep[i].zSchema);
    sqlite3_free(aDep[i].zTable);
  }
  sqlite3_free(aDep);
}


/* Split a depends_on list ("t, aux.u") into *paDep (depNamesFree()). A
** blank list is none. SQLITE_ERROR with *pzErr for an empty item or
** name. */
static int depsParse(const char *zList, DepName **paDep, int *pnDep,
                     char **pzErr){
  DepName *aDep = 0;
  int nDep = 0;
  const char *z = zList;
  *paDep = 0;
  *pnDep = 0;
  while( *z && isspace((unsigned char)*z) ) z++;
  if( *z==0 ) return SQLITE_OK;
  for(;;){
    const char *zEnd = strchr(z, ',');
    const char *zDot;
    int n = zEnd ? (int)(zEnd - z) : (int)strlen(z);
    DepName *aNew = sqlite3_realloc64(aDep, sizeof(DepName)*(nDep+1));
    if( aNew==0 ) goto nomem;
    aDep = aNew;
    memset(&aDep[nDep], 0, sizeof(DepName));
    nDep++;
    zDot = memchr(z, '.', (size_t)n);
    if( zDot ){
      aDep[nDep-1].zSchema = settingLowerTrimmed(z, (int)(zDot - z));
      aDep[nDep-1].zTable = settingLowerTrimmed(zDot+1, n - (int)(zDot - z) - 1);
    }else{
      aDep[nDep-1].zSchema = settingLowerTrimmed("main", 4);
      aDep[nDep-1].zTable = settingLowerTrimmed(z, n);
    }
    if( aDep[nDep-1].zSchema==0 || aDep[nDep-1].zTable==0 ) goto nomem;
    if( aDep[nDep-1].zSchema[0]==0 || aDep[nDep-1].zTable[0]==0
     || strchr(aDep[nDep-1].zTable, '.') ){
      if( pzErr ){
        *pzErr = sqlite3_mprintf("'%.*q' is not a table name: use "
            "'table' or 'schema.table', separated by commas", n, z);
      }
      depNamesFree(aDep, nDep);
      return SQLITE_ERROR;
    }
    if( zEnd==0 ) break;
    z = zEnd + 1;
  }
  *paDep = aDep;
  *pnDep = nDep;
  return SQLITE_OK;
nomem:
  depNamesFree(aDep, nDep);
  return SQLITE_NOMEM;
}

/* The name of tracking trigger iEvent of zTable. */
static char *triggerName(const char *zTable, int iEvent){
  return sqlite3_mprintf("cachier_track_%s_%s", zTable, azEvent[iEvent]);
}

/* The text sqlite_schema holds for trigger iEvent of zTable bumping the
** counter row iId (SQLite drops the schema from a trigger's name). */
static char *triggerSql(const char *zTable, int iEvent, sqlite3_int64 iId){
  return sqlite3_mprintf("CREATE TRIGGER \"cachier_track_%w_%s\" AFTER %s"
      " ON \"%w\" BEGIN UPDATE cachier_changes SET n=n+1 WHERE id=%lld; END",
      zTable, azEvent[iEvent], iEvent==0 ? "INSERT" : iEvent==1 ? "UPDATE"
      : "DELETE", zTable, iId);
}

/* The version stamp of pVal (not NULL): cachier.h. */
int dependsVersionStamp(sqlite3_value *pVal, sqlite3_int64 *pStamp){
  KeyBuf buf;
  Sha256 h;
  unsigned char aHash[SHA256_BYTES];
  uint64_t v = 0;
  int i, rc;
  keyBufInit(&buf);
  rc = keyEncodeArgsOnly(&buf, 1, &pVal);
  if( rc==SQLITE_OK ){
    sha256Init(&h);
    sha256Update(&h, buf.a, (size_t)buf.n);
    sha256Final(&h, aHash);
    for(i=0; i<8; i++) v = (v<<8) | aHash[i];
    *pStamp = v ? (sqlite3_int64)v : 1;
  }
  keyBufFree(&buf);
  return rc;
}

/* ------------------------------------------------------------ validation */

/* Check that dep names a table changes to which can be tracked: an
** ordinary table of main or an attached database. */
static int depCheckTable(Cachier *p, const DepName *pDep, char **pzErr){
  sqlite3_stmt *pStmt = 0;
  char *zSql;
  int rc;
  if( strcmp(pDep->zSchema, "temp")==0 ){
    *pzErr = sqlite3_mprintf("temp.%s: a temporary table's changes are "
        "this connection's alone (see docs/invalidation.md for TEMP "
        "triggers)", pDep->zTable);
    return SQLITE_ERROR;
  }
  if( sqlite3_strnicmp(pDep->zTable, "sqlite_", 7)==0
   || sqlite3_strnicmp(pDep->zTable, "cachier_", 8)==0 ){
    *pzErr = sqlite3_mprintf("%s is one of SQLite's or cachier's own "
                             "tables", pDep->zTable);
    return SQLITE_ERROR;
  }
  zSql = sqlite3_mprintf("SELECT type, sql FROM \"%w\".sqlite_schema"
      " WHERE type IN ('table','view') AND name=?1 COLLATE NOCASE",
      pDep->zSchema);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if( rc ){
    sqlite3_finalize(pStmt);
    if( rc==SQLITE_NOMEM ) return rc;
    *pzErr = sqlite3_mprintf("no database named %s is attached",
                             pDep->zSchema);
    return SQLITE_ERROR;
  }
  rc = sqlite3_bind_text(pStmt, 1, pDep->zTable, -1, SQLITE_STATIC);
  if( rc ){
    sqlite3_finalize(pStmt);
    return rc;
  }
  rc = sqlite3_step(pStmt);
  if( rc!=SQLITE_ROW ){
    rc = sqlite3_finalize(pStmt);
    if( rc ) return rc;
    *pzErr = sqlite3_mprintf("no table named %s in %s", pDep->zTable,
                             pDep->zSchema);
    return SQLITE_ERROR;
  }
  if( strcmp((const char*)sqlite3_column_text(pStmt, 0), "view")==0 ){
    *pzErr = sqlite3_mprintf("%s is a view: list the tables it reads",
                             pDep->zTable);
    rc = SQLITE_ERROR;
  }else if( sqlite3_column_text(pStmt, 1)
   && sqlite3_strnicmp((const char*)sqlite3_column_text(pStmt, 1),
                       "CREATE VIRTUAL", 14)==0 ){
    *pzErr = sqlite3_mprintf("%s is a virtual table: its changes cannot be "
        "tracked (use cachier_invalidate())", pDep->zTable);
    rc = SQLITE_ERROR;
  }else{
    rc = SQLITE_OK;
  }
  sqlite3_finalize(pStmt);
  return rc;
}

/* Validate a new depends_on value (TEXT) and make its canonical form in
** *pzOut: lower case, "table" for main's, "schema.table" for the others',
** ", "-separated, each once. SQLITE_ERROR with *pzErr naming the table. */
int dependsCanonical(Cachier *p, sqlite3_value *pVal, char **pzOut,
                     char **pzErr){
  DepName *aDep = 0;
  int nDep = 0, i, j, rc;
  char *zOut = 0;
  *pzOut = 0;
  if( sqlite3_value_type(pVal)!=SQLITE_TEXT ){
    *pzErr = sqlite3_mprintf("a list of tables is text: 'orders, "
                             "aux.rates', or '' for none");
    return SQLITE_ERROR;
  }
  rc = depsParse((const char*)sqlite3_value_text(pVal), &aDep, &nDep, pzErr);
  if( rc ) return rc;
  zOut = sqlite3_mprintf("%s", "");
  for(i=0; rc==SQLITE_OK && i<nDep; i++){
    int bSeen = 0;
    for(j=0; j<i; j++){
      bSeen |= strcmp(aDep[i].zSchema, aDep[j].zSchema)==0
            && strcmp(aDep[i].zTable, aDep[j].zTable)==0;
    }
    if( bSeen ) continue;
    rc = depCheckTable(p, &aDep[i], pzErr);
    if( rc==SQLITE_OK ){
      int bMain = strcmp(aDep[i].zSchema, "main")==0;
      zOut = sqlite3_mprintf("%z%s%s%s%s", zOut, zOut && zOut[0] ? ", " : "",
                             bMain ? "" : aDep[i].zSchema, bMain ? "" : ".",
                             aDep[i].zTable);
    }
    if( zOut==0 ) rc = SQLITE_NOMEM;
  }
  depNamesFree(aDep, nDep);
  if( rc ){
    sqlite3_free(zOut);
    return rc;
  }
  *pzOut = zOut;
  return SQLITE_OK;
}

/* ------------------------------------------------------------ tracking */

/* Run zSql (sqlite3_free'd) on p's connection. */
static int depExec(Cachier *p, char *zSql){
  int rc;
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_exec(p->db, zSql, 0, 0, 0);
  sqlite3_free(zSql);
  return rc;
}

/* True if the three triggers of pDep are exactly ours for counter iId. */
static int triggersInPlace(Cachier *p, const DepName *pDep,
                           sqlite3_int64 iId){
  int i, nOk = 0;
  for(i=0; i<3; i++){
    sqlite3_stmt *pStmt = 0;
    char *zName = triggerName(pDep->zTable, i);
    char *zWant = triggerSql(pDep->zTable, i, iId);
    char *zSql = sqlite3_mprintf("SELECT sql FROM \"%w\".sqlite_schema"
        " WHERE type='trigger' AND name=?1", pDep->zSchema);
    if( zName && zWant && zSql
     && sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0)==SQLITE_OK ){
      if( sqlite3_bind_text(pStmt, 1, zName, -1, SQLITE_STATIC)==SQLITE_OK
       && sqlite3_step(pStmt)==SQLITE_ROW ){
        const char *z = (const char*)sqlite3_column_text(pStmt, 0);
        nOk += z && strcmp(z, zWant)==0;
      }
    }
    sqlite3_finalize(pStmt);
    sqlite3_free(zSql);
    sqlite3_free(zName);
    sqlite3_free(zWant);
  }
  return nOk==3;
}

/* Set up the tracking of pDep, if its table exists: the counter row and
** the three triggers (made again if they are not exactly ours). */
static int trackSetUp(Cachier *p, const DepName *pDep){
  sqlite3_stmt *pStmt = 0;
  sqlite3_int64 iId = 0;
  char *zErr = 0, *zSql;
  int rc, i;
  if( depCheckTable(p, pDep, &zErr)!=SQLITE_OK ){
    sqlite3_free(zErr);       /* gone or not attached: nothing to track */
    return SQLITE_OK;
  }
  rc = depExec(p, sqlite3_mprintf("CREATE TABLE IF NOT EXISTS"
      " \"%w\".cachier_changes(id INTEGER PRIMARY KEY,"
      " tbl TEXT NOT NULL UNIQUE, n INTEGER NOT NULL)", pDep->zSchema));
  if( rc ) return rc;
  zSql = sqlite3_mprintf("SELECT id FROM \"%w\".cachier_changes"
                         " WHERE tbl=?1", pDep->zSchema);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ){
    rc = sqlite3_bind_text(pStmt, 1, pDep->zTable, -1, SQLITE_STATIC);
    if( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
      iId = sqlite3_column_int64(pStmt, 0);
    }
    if( rc ) sqlite3_finalize(pStmt);
    else rc = sqlite3_finalize(pStmt);
  }
  if( rc ) return rc;
  /* A counter whose triggers are not all in place missed changes (the
  ** table was dropped, a trigger too): it gets a new identity, so that
  ** no entry stamped before the gap is fresh again. */
  if( iId!=0 && !triggersInPlace(p, pDep, iId) ){
    rc = depExec(p, sqlite3_mprintf("DELETE FROM \"%w\".cachier_changes"
        " WHERE tbl=%Q", pDep->zSchema, pDep->zTable));
    if( rc ) return rc;
    iId = 0;
  }
  if( iId==0 ){
    while( iId<=0 ){
      sqlite3_randomness(sizeof(iId), &iId);
      iId &= (sqlite3_int64)0x7fffffffffffffffLL;
    }
    rc = depExec(p, sqlite3_mprintf("INSERT INTO \"%w\".cachier_changes"
        "(id, tbl, n) VALUES(%lld, %Q, 0)", pDep->zSchema, iId,
        pDep->zTable));
    if( rc ) return rc;
  }
  for(i=0; rc==SQLITE_OK && i<3; i++){
    char *zName = triggerName(pDep->zTable, i);
    char *zWant = triggerSql(pDep->zTable, i, iId);
    int bOk = 0;
    zSql = sqlite3_mprintf("SELECT sql FROM \"%w\".sqlite_schema"
        " WHERE type='trigger' AND name=?1", pDep->zSchema);
    if( zName==0 || zWant==0 || zSql==0 ){
      rc = SQLITE_NOMEM;
    }else{
      rc = sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0);
    }
    if( rc==SQLITE_OK ){
      rc = sqlite3_bind_text(pStmt, 1, zName, -1, SQLITE_STATIC);
      if( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
        const char *z = (const char*)sqlite3_column_text(pStmt, 0);
        bOk = z && strcmp(z, zWant)==0;
      }
      if( rc ) sqlite3_finalize(pStmt);
      else rc = sqlite3_finalize(pStmt);
    }
    if( rc==SQLITE_OK && !bOk ){
      rc = depExec(p, sqlite3_mprintf("DROP TRIGGER IF EXISTS \"%w\".\"%w\"",
                                      pDep->zSchema, zName));
      /* zWant without "CREATE TRIGGER ", in the dependency's database. */
      if( rc==SQLITE_OK ){
        rc = depExec(p, sqlite3_mprintf("CREATE TRIGGER \"%w\".%s",
                                        pDep->zSchema, zWant + 15));
      }
    }
    sqlite3_free(zSql);
    sqlite3_free(zName);
    sqlite3_free(zWant);
  }
  return rc;
}

/* Remove the tracking of zTable in zSchema: its triggers and counter. */
static int trackRemove(Cachier *p, const char *zSchema, const char *zTable){
  int rc = SQLITE_OK, i;
  for(i=0; rc==SQLITE_OK && i<3; i++){
    char *zName = triggerName(zTable, i);
    rc = zName==0 ? SQLITE_NOMEM : depExec(p, sqlite3_mprintf(
        "DROP TRIGGER IF EXISTS \"%w\".\"%w\"", zSchema, zName));
    sqlite3_free(zName);
  }
  if( rc==SQLITE_OK ){
    rc = depExec(p, sqlite3_mprintf("DELETE FROM \"%w\".cachier_changes"
                                    " WHERE tbl=%Q", zSchema, zTable));
  }
  return rc;
}

/* The depends_on lists of the cachier_config rows (bSealedOnly: of the
** rows whose seal is valid), parsed, appended to *paDep. */
static int configDeps(Cachier *p, int bSealedOnly, DepName **paDep,
                      int *pnDep){
  sqlite3_stmt *pStmt = 0;
  char *zList = settingColumnList(), *zSql;
  int nCol = settingColumnCount(), iDeps, rc;
  for(iDeps=1; iDeps<nCol; iDeps++){
    if( settingColumn(iDeps)->eKind==SETTING_KIND_DEPENDS ) break;
  }
  zSql = zList ? sqlite3_mprintf("SELECT %s, seal FROM main.cachier_config"
      " WHERE depends_on IS NOT NULL", zList) : 0;
  sqlite3_free(zList);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if( rc ){
    sqlite3_finalize(pStmt);
    /* No config table (or one without depends_on: SQLITE_ERROR): no
    ** dependencies. Any other failure is not that: it must reach the
    ** caller (inside a statement, SQLite fails the statement anyway). */
    return rc==SQLITE_ERROR ? SQLITE_OK : rc;
  }
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(pStmt, iDeps);
    DepName *aRow = 0, *aNew;
    int nRow = 0, rcParse;
    if( z==0 ){
      /* (Not NULL, yet no text: a failed conversion.) */
      if( sqlite3_column_type(pStmt, iDeps)!=SQLITE_NULL ) rc = SQLITE_NOMEM;
      continue;
    }
    if( bSealedOnly && sealCheck(p, pStmt, 0, nCol)==SEAL_INVALID ) continue;
    rcParse = depsParse(z, &aRow, &nRow, 0);
    if( rcParse==SQLITE_NOMEM ){
      rc = SQLITE_NOMEM;
      continue;
    }
    if( rcParse!=SQLITE_OK || nRow==0 ) continue;
    aNew = sqlite3_realloc64(*paDep, sizeof(DepName)*(*pnDep + nRow));
    if( aNew==0 ){
      depNamesFree(aRow, nRow);
      rc = SQLITE_NOMEM;
      break;
    }
    memcpy(&aNew[*pnDep], aRow, sizeof(DepName)*nRow);
    sqlite3_free(aRow);
    *paDep = aNew;
    *pnDep += nRow;
  }
  /* (A step that failed: its error, not a shorter list.) */
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt);
  else sqlite3_finalize(pStmt);
  return rc;
}

static int depsContain(const DepName *aDep, int nDep, const char *zSchema,
                       const char *zTable){
  int i;
  for(i=0; i<nDep; i++){
    if( strcmp(aDep[i].zSchema, zSchema)==0
     && strcmp(aDep[i].zTable, zTable)==0 ){
      return 1;
    }
  }
  return 0;
}

/*
** Bring tracking in line with cachier_config, after a write of
** cachier_functions: set it up for every table a sealed row names (the
** rows of others are not trusted to reach the schema), remove it from the
** tables that no row names any more, in main and every attached database.
*/
int dependsSync(Cachier *p, char **pzErr){
  DepName *aWant = 0, *aAny = 0;
  int nWant = 0, nAny = 0, i, rc;
  sqlite3_stmt *pDbs = 0;
  rc = configDeps(p, 1, &aWant, &nWant);
  if( rc==SQLITE_OK ) rc = configDeps(p, 0, &aAny, &nAny);
  for(i=0; rc==SQLITE_OK && i<nWant; i++){
    rc = trackSetUp(p, &aWant[i]);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(p->db, "SELECT name FROM pragma_database_list"
                            " WHERE name<>'temp'", -1, &pDbs, 0);
  }
  while( rc==SQLITE_OK && sqlite3_step(pDbs)==SQLITE_ROW ){
    const char *zDb = (const char*)sqlite3_column_text(pDbs, 0);
    char *zSchema = zDb ? settingLowerTrimmed(zDb, (int)strlen(zDb)) : 0;
    char *zSql = zSchema ? sqlite3_mprintf("SELECT tbl FROM"
                           " \"%w\".cachier_changes", zSchema) : 0;
    sqlite3_stmt *pStmt = 0;
    char **azGone = 0;
    int nGone = 0, j;
    if( zSql==0 ){
      rc = SQLITE_NOMEM;
    }else if( (rc = sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0))!=SQLITE_OK ){
      /* (No cachier_changes in that schema: nothing tracked there.) */
      if( (rc & 0xff)!=SQLITE_NOMEM ) rc = SQLITE_OK;
    }else{
      while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
        const char *zTbl = (const char*)sqlite3_column_text(pStmt, 0);
        if( zTbl && !depsContain(aAny, nAny, zSchema, zTbl) ){
          char **azNew = sqlite3_realloc64(azGone, sizeof(char*)*(nGone+1));
          if( azNew==0 ){ rc = SQLITE_NOMEM; break; }
          azGone = azNew;
          azGone[nGone] = sqlite3_mprintf("%s", zTbl);
          if( azGone[nGone++]==0 ) rc = SQLITE_NOMEM;
        }
      }
      if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt);
      else sqlite3_finalize(pStmt);
      pStmt = 0;
    }
    sqlite3_finalize(pStmt);
    for(j=0; j<nGone; j++){
      if( rc==SQLITE_OK && azGone[j] ) rc = trackRemove(p, zSchema, azGone[j]);
      sqlite3_free(azGone[j]);
    }
    sqlite3_free(azGone);
    sqlite3_free(zSql);
    sqlite3_free(zSchema);
  }
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(pDbs);
  else sqlite3_finalize(pDbs);
  depNamesFree(aWant, nWant);
  depNamesFree(aAny, nAny);
  if( rc && rc!=SQLITE_NOMEM ){
    *pzErr = sqlite3_mprintf("cachier_functions: depends_on: cannot set up "
                             "change tracking: %s", sqlite3_errmsg(p->db));
  }
  return rc;
}

/* ------------------------------------------------------------ counters */

void dependsClear(DepsState *pD){
  int i;
  for(i=0; i<pD->nSchema; i++) sqlite3_free(pD->azSchema[i]);
  sqlite3_free(pD->azSchema);
  sqlite3_free(pD->aStamp);
  memset(pD, 0, sizeof(*pD));
}

/* Append the counter of pDep to pD's stamp, if its tracking is exactly
** ours. 0 if it is not (or cannot be read). */
static int depReadOne(Cachier *p, const DepName *pDep, DepsState *pD){
  sqlite3_stmt *pStmt = 0;
  sqlite3_int64 iId = 0, n = 0;
  char *azWant[3] = {0, 0, 0};
  int nOk = 0, i, bRow = 0;
  char *zSql = sqlite3_mprintf("SELECT c.id, c.n, t.sql FROM"
      " \"%w\".cachier_changes c LEFT JOIN \"%w\".sqlite_schema t"
      " ON t.type='trigger' AND t.name IN (?2, ?3, ?4) WHERE c.tbl=?1",
      pDep->zSchema, pDep->zSchema);
  if( zSql && sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0)==SQLITE_OK ){
    int rcBind = SQLITE_OK;
    for(i=0; i<3; i++){
      /* (A NULL name, or a failed bind, finds fewer than 3 triggers: the
      ** counter then reads as not tracked.) */
      char *zName = triggerName(pDep->zTable, i);
      if( sqlite3_bind_text(pStmt, 2+i, zName, -1, sqlite3_free) ){
        rcBind = SQLITE_NOMEM;
      }
    }
    if( sqlite3_bind_text(pStmt, 1, pDep->zTable, -1, SQLITE_STATIC) ){
      rcBind = SQLITE_NOMEM;
    }
    while( rcBind==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
      const char *z = (const char*)sqlite3_column_text(pStmt, 2);
      if( !bRow ){
        bRow = 1;
        iId = sqlite3_column_int64(pStmt, 0);
        n = sqlite3_column_int64(pStmt, 1);
        for(i=0; i<3; i++) azWant[i] = triggerSql(pDep->zTable, i, iId);
      }
      for(i=0; z && i<3; i++){
        if( azWant[i] && strcmp(z, azWant[i])==0 ){
          nOk++;
          break;
        }
      }
    }
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  for(i=0; i<3; i++) sqlite3_free(azWant[i]);
  if( nOk!=3 ) return 0;
  {
    unsigned char *a = sqlite3_realloc64(pD->aStamp,
                                         pD->nStamp + CACHIER_DEPS_ITEM);
    if( a==0 ) return 0;
    for(i=0; i<8; i++){
      a[pD->nStamp+i] = (unsigned char)((uint64_t)iId >> (56-8*i));
      a[pD->nStamp+8+i] = (unsigned char)((uint64_t)n >> (56-8*i));
    }
    pD->aStamp = a;
    pD->nStamp += CACHIER_DEPS_ITEM;
  }
  return 1;
}

/*
** A statement of its own per call (an application running "SELECT
** memoize('f', ?)" for each value) would read the counters on every
** call. So the connection keeps the stamps it read of lists whose tables
** are all in main, with what tells that nothing changed since: its own
** changes (sqlite3_total_changes64()), others' commits (PRAGMA
** data_version) and its own schema changes (PRAGMA schema_version: a
** DROP TABLE changes no count), both through the connection's kept
** statements. A stamp read in a write transaction is not kept: a rollback
** would bring the counters back and move none of those. Lists naming an
** attached database are read once per statement.
*/
struct DepsCache {
  DepsCache *pNext;
  char *zDependsOn;           /* the list, canonical */
  int eState;                 /* DEPS_KNOWN or DEPS_UNKNOWN */
  unsigned char *aStamp;
  int nStamp;
  sqlite3_int64 nChanges;
  sqlite3_int64 dataVersion, schemaVersion;
};
#define DEPS_CACHE_MAX 16     /* lists kept, at most */

void dependsFreeAll(Cachier *p){
  while( p->pDepsCache ){
    DepsCache *pNext = p->pDepsCache->pNext;
    sqlite3_free(p->pDepsCache->zDependsOn);
    sqlite3_free(p->pDepsCache->aStamp);
    sqlite3_free(p->pDepsCache);
    p->pDepsCache = pNext;
  }
}

/* PRAGMA main.data_version and main.schema_version, through the
** connection's kept statements (the same texts as fninfo.c's and
** store_tables.c's). 0 if they cannot be read. */
static int keptPragma(Cachier *p, int id, const char *zSql,
                      sqlite3_int64 *pV){
  sqlite3_stmt *pStmt = cachierStmt(p, id, zSql);
  int bOk = 0;
  if( pStmt==0 ) return 0;
  if( sqlite3_step(pStmt)==SQLITE_ROW ){
    *pV = sqlite3_column_int64(pStmt, 0);
    bOk = 1;
  }
  cachierStmtDone(p, id, pStmt);
  return bOk;
}
static int mainVersions(Cachier *p, sqlite3_int64 *pData,
                        sqlite3_int64 *pSchema){
  return keptPragma(p, STMT_DB_VERSION, "PRAGMA main.data_version", pData)
      && keptPragma(p, STMT_SCHEMA_VERSION, "PRAGMA main.schema_version",
                    pSchema);
}

/* The kept stamp of zDependsOn if nothing changed since it was read (it
** is then moved first), else NULL. */
static DepsCache *cacheFind(Cachier *p, const char *zDependsOn,
                            sqlite3_int64 dataVersion,
                            sqlite3_int64 schemaVersion){
  DepsCache **pp, *pC;
  for(pp=&p->pDepsCache; (pC = *pp)!=0; pp=&pC->pNext){
    if( strcmp(pC->zDependsOn, zDependsOn)==0 ) break;
  }
  if( pC==0 ) return 0;
  if( pC->nChanges!=sqlite3_total_changes64(p->db)
   || pC->dataVersion!=dataVersion || pC->schemaVersion!=schemaVersion ){
    return 0;
  }
  *pp = pC->pNext;
  pC->pNext = p->pDepsCache;
  p->pDepsCache = pC;
  return pC;
}

/* Keep pD's stamp of zDependsOn (read under those versions). */
static void cacheKeep(Cachier *p, const char *zDependsOn,
                      const DepsState *pD, sqlite3_int64 nChanges,
                      sqlite3_int64 dataVersion, sqlite3_int64 schemaVersion){
  DepsCache **pp, *pC;
  int n = 0;
  for(pp=&p->pDepsCache; (pC = *pp)!=0; pp=&pC->pNext, n++){
    if( strcmp(pC->zDependsOn, zDependsOn)==0 || n>=DEPS_CACHE_MAX-1 ){
      *pp = pC->pNext;        /* replaced, or the least recent: dropped */
      sqlite3_free(pC->zDependsOn);
      sqlite3_free(pC->aStamp);
      sqlite3_free(pC);
      break;
    }
  }
  pC = sqlite3_malloc(sizeof(*pC));
  if( pC==0 ) return;
  memset(pC, 0, sizeof(*pC));
  pC->zDependsOn = sqlite3_mprintf("%s", zDependsOn);
  pC->aStamp = pD->nStamp ? sqlite3_malloc(pD->nStamp) : 0;
  if( pC->zDependsOn==0 || (pD->nStamp && pC->aStamp==0) ){
    sqlite3_free(pC->zDependsOn);
    sqlite3_free(pC->aStamp);
    sqlite3_free(pC);
    return;
  }
  if( pD->nStamp ) memcpy(pC->aStamp, pD->aStamp, (size_t)pD->nStamp);
  pC->nStamp = pD->nStamp;
  pC->eState = pD->eState;
  pC->nChanges = nChanges;
  pC->dataVersion = dataVersion;
  pC->schemaVersion = schemaVersion;
  pC->pNext = p->pDepsCache;
  p->pDepsCache = pC;
}

/* Read the current items of the dependencies of settings pS into pD
** (aStamp holds the items alone). Never fails: what cannot be read leaves
** pD DEPS_UNKNOWN (logged). */
static void depsReadItems(Cachier *p, const FnSettings *pS, DepsState *pD){
  DepName *aDep = 0;
  int nDep = 0, i, j, bOk = 1, bMainOnly = 1, bVersions;
  sqlite3_int64 dataVersion = 0, schemaVersion = 0;
  DepsCache *pC;
  dependsClear(pD);
  pD->nChanges = sqlite3_total_changes64(p->db);
  if( pS->zDependsOn==0 || pS->zDependsOn[0]==0 ){
    pD->eState = pS->bDependsUnsealed ? DEPS_UNKNOWN : DEPS_NONE;
    return;
  }
  pD->eState = DEPS_UNKNOWN;
  /* (Versions first: a commit after them makes the next look read again.) */
  bVersions = mainVersions(p, &dataVersion, &schemaVersion);
  if( bVersions
   && (pC = cacheFind(p, pS->zDependsOn, dataVersion, schemaVersion))!=0 ){
    pD->aStamp = pC->nStamp ? sqlite3_malloc(pC->nStamp) : 0;
    pD->azSchema = sqlite3_malloc(sizeof(char*));
    if( (pC->nStamp==0 || pD->aStamp) && pD->azSchema
     && (pD->azSchema[0] = sqlite3_mprintf("main"))!=0 ){
      if( pC->nStamp ) memcpy(pD->aStamp, pC->aStamp, (size_t)pC->nStamp);
      pD->nStamp = pC->nStamp;
      pD->nSchema = 1;
      pD->eState = pC->eState;
      return;
    }
    dependsClear(pD);         /* out of memory: read them */
    pD->nChanges = sqlite3_total_changes64(p->db);
    pD->eState = DEPS_UNKNOWN;
  }
  if( depsParse(pS->zDependsOn, &aDep, &nDep, 0)!=SQLITE_OK ) return;
  for(i=0; i<nDep; i++) bMainOnly &= strcmp(aDep[i].zSchema, "main")==0;
  for(i=0; bOk && i<nDep; i++){
    bOk = depReadOne(p, &aDep[i], pD);
    if( !bOk ){
      cachierLog(p, "cachier: the changes of %s.%s are not tracked (the "
          "table or its cachier_track triggers are missing, or its database "
          "is not attached): entries depending on it are neither served nor "
          "stored", aDep[i].zSchema, aDep[i].zTable);
    }
    for(j=0; bOk && j<pD->nSchema; j++){
      if( strcmp(pD->azSchema[j], aDep[i].zSchema)==0 ) break;
    }
    if( bOk && j==pD->nSchema ){
      char **az = sqlite3_realloc64(pD->azSchema, sizeof(char*)*(j+1));
      if( az==0 ){
        bOk = 0;
      }else{
        pD->azSchema = az;
        az[j] = aDep[i].zSchema;
        aDep[i].zSchema = 0;
        pD->nSchema++;
      }
    }
  }
  depNamesFree(aDep, nDep);
  if( bOk ) pD->eState = DEPS_KNOWN;
  if( bMainOnly && bVersions && (bOk || pD->nSchema==0)
   && sqlite3_txn_state(p->db, "main")!=SQLITE_TXN_WRITE ){
    cacheKeep(p, pS->zDependsOn, pD, pD->nChanges, dataVersion,
              schemaVersion);
  }
}

/* Read the current stamp of settings pS into pD: its version and the
** items of its dependencies (cachier.h). Never fails: what cannot be read
** leaves pD DEPS_UNKNOWN (logged). */
int dependsRead(Cachier *p, const FnSettings *pS, DepsState *pD){
  unsigned char *a;
  int i;
  depsReadItems(p, pS, pD);
  if( pD->eState==DEPS_UNKNOWN ) return SQLITE_OK;
  if( pD->eState==DEPS_NONE && pS->version==0 ) return SQLITE_OK;
  a = sqlite3_malloc(CACHIER_STAMP_VERSION + pD->nStamp);
  if( a==0 ){
    pD->eState = DEPS_UNKNOWN;        /* nothing served, nothing stored */
    return SQLITE_OK;
  }
  for(i=0; i<CACHIER_STAMP_VERSION; i++){
    a[i] = (unsigned char)((uint64_t)pS->version >> (56-8*i));
  }
  if( pD->nStamp ) memcpy(a+CACHIER_STAMP_VERSION, pD->aStamp, pD->nStamp);
  sqlite3_free(pD->aStamp);
  pD->aStamp = a;
  pD->nStamp += CACHIER_STAMP_VERSION;
  return SQLITE_OK;
}

/* The version in stamp a[0..n) (0: none). */
static sqlite3_int64 stampVersion(const unsigned char *a, int n){
  uint64_t v = 0;
  int i;
  if( a==0 || n<CACHIER_STAMP_VERSION ) return 0;
  for(i=0; i<CACHIER_STAMP_VERSION; i++) v = (v<<8) | a[i];
  return (sqlite3_int64)v;
}

/* Read the stamp again if this connection changed anything since it was
** read (its own changes move no data_version). */
int dependsUpToDate(Cachier *p, const FnSettings *pS, DepsState *pD){
  if( pD->eState!=DEPS_NONE
   && pD->nChanges!=sqlite3_total_changes64(p->db) ){
    return dependsRead(p, pS, pD);
  }
  return SQLITE_OK;
}

/* What entry e (its stamps read) is worth under settings pS and the
** current stamp pD: VERDICT_FRESH, _CHANGED (stale, as if stale_after had
** just passed) or _OUTDATED (never served: another version, or freshness
** cannot be told). */
int dependsVerdict(const FnSettings *pS, const DepsState *pD,
                   const CachierEntry *e){
  /* The common case, one compare: the stamp is the current one. */
  if( pD->eState!=DEPS_UNKNOWN && e->nStamp==pD->nStamp && e->aStamp
   && memcmp(e->aStamp, pD->aStamp, (size_t)e->nStamp)==0 ){
    return VERDICT_FRESH;
  }
  if( pS->version && stampVersion(e->aStamp, e->nStamp)!=pS->version ){
    return VERDICT_OUTDATED;
  }
  if( pD->eState==DEPS_UNKNOWN ) return VERDICT_OUTDATED;
  if( pD->eState==DEPS_KNOWN
   && (e->nStamp!=pD->nStamp || e->aStamp==0
       || memcmp(e->aStamp + CACHIER_STAMP_VERSION,
                 pD->aStamp + CACHIER_STAMP_VERSION,
                 (size_t)(pD->nStamp - CACHIER_STAMP_VERSION))!=0) ){
    return VERDICT_CHANGED;
  }
  return VERDICT_FRESH;
}

/* May a value computed now be stored in pStore under stamp pD? Not if the
** stamp is unknown; not in a store outside this connection's transaction
** while it writes a dependency's database (a rollback would bring the
** counter back, and the value would become fresh for data that never
** was); main's entries join that transaction (unless main has no write
** transaction yet: its write might then go through cachier's own
** connection). */
int dependsMayStore(Cachier *p, const DepsState *pD, CachierStore *pStore){
  int i;
  if( pD->eState==DEPS_UNKNOWN ) return 0;
  for(i=0; i<pD->nSchema; i++){
    if( sqlite3_txn_state(p->db, pD->azSchema[i])==SQLITE_TXN_WRITE ){
      if( pStore!=p->pMainStore ) return 0;
      if( sqlite3_txn_state(p->db, "main")!=SQLITE_TXN_WRITE ) return 0;
    }
  }
  return 1;
}

/* Why entry e of a function with settings pS is not fresh by its stamps,
** under the current stamp pD (cachier_entries.changed): "version", the
** first dependency whose counter moved, "depends_on" (the list changed),
** "untracked"; NULL if it is fresh (or on OOM). */
char *dependsChanged(const FnSettings *pS, const DepsState *pD,
                     const CachierEntry *e){
  DepName *aDep = 0;
  int nDep = 0, i;
  char *z = 0;
  if( pS->version && stampVersion(e->aStamp, e->nStamp)!=pS->version ){
    return sqlite3_mprintf("version");
  }
  if( pD->eState==DEPS_UNKNOWN ) return sqlite3_mprintf("untracked");
  if( dependsVerdict(pS, pD, e)==VERDICT_FRESH ) return 0;
  if( e->nStamp!=pD->nStamp || e->aStamp==0
   || depsParse(pS->zDependsOn, &aDep, &nDep, 0)!=SQLITE_OK ){
    return sqlite3_mprintf("depends_on");
  }
  for(i=0; z==0 && i<nDep; i++){
    const unsigned char *a = e->aStamp + CACHIER_STAMP_VERSION
                           + i*CACHIER_DEPS_ITEM;
    const unsigned char *b = pD->aStamp + CACHIER_STAMP_VERSION
                           + i*CACHIER_DEPS_ITEM;
    if( memcmp(a, b, 8)!=0 ){
      z = sqlite3_mprintf("depends_on");
    }else if( memcmp(a+8, b+8, 8)!=0 ){
      z = strcmp(aDep[i].zSchema, "main")==0
        ? sqlite3_mprintf("%s", aDep[i].zTable)
        : sqlite3_mprintf("%s.%s", aDep[i].zSchema, aDep[i].zTable);
    }
  }
  depNamesFree(aDep, nDep);
  return z;
}

/* Delete the entries of zFn in pStore computed under another version
** than pS's (cachier_cleanup_stale()); *pnDeleted gets how many. */
int dependsDeleteOutdated(CachierStore *pStore, const char *zFn,
                          const FnSettings *pS, sqlite3_int64 *pnDeleted){
  CachierScan *pScan = 0;
  CachierEntry e;
  sqlite3_int64 *aId = 0;
  int nId = 0, bEof = 0, rc, i;
  *pnDeleted = 0;
  rc = storeScanOpen(pStore, zFn, &pScan);
  while( rc==SQLITE_OK && pScan ){
    memset(&e, 0, sizeof(e));
    rc = storeScanNext(pStore, pScan, &e, &bEof);
    if( rc || bEof ) break;
    if( stampVersion(e.aStamp, e.nStamp)!=pS->version ){
      sqlite3_int64 *aNew = sqlite3_realloc64(aId, sizeof(aId[0])*(nId+1));
      if( aNew==0 ){ rc = SQLITE_NOMEM; break; }
      aId = aNew;
      aId[nId++] = e.id;
    }
  }
  if( pScan ) storeScanClose(pStore, pScan);
  for(i=0; rc==SQLITE_OK && i<nId; i++){
    rc = storeDelete(pStore, aId[i]);
    if( rc==SQLITE_OK ) (*pnDeleted)++;
  }
  sqlite3_free(aId);
  return rc;
}

/* ------------------------------------------------------ cachier_invalidate */

/* How many cachier_config rows name zSchema.zTable (every row with a
** depends_on if zTable is NULL). */
static int countDependents(Cachier *p, const char *zSchema,
                           const char *zTable, sqlite3_int64 *pn){
  sqlite3_stmt *pStmt = 0;
  int rc;
  *pn = 0;
  if( sqlite3_prepare_v2(p->db, "SELECT depends_on FROM main.cachier_config"
        " WHERE depends_on IS NOT NULL AND depends_on<>''", -1, &pStmt, 0) ){
    sqlite3_finalize(pStmt);
    return SQLITE_OK;         /* no config table: nothing depends */
  }
  rc = SQLITE_OK;
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    DepName *aDep = 0;
    int nDep = 0;
    const char *z = (const char*)sqlite3_column_text(pStmt, 0);
    rc = z ? depsParse(z, &aDep, &nDep, 0) : SQLITE_NOMEM;
    if( rc==SQLITE_ERROR ){
      rc = SQLITE_OK;
      continue;
    }
    if( rc==SQLITE_OK && nDep>0
     && (zTable==0 || depsContain(aDep, nDep, zSchema, zTable)) ){
      (*pn)++;
    }
    depNamesFree(aDep, nDep);
  }
  sqlite3_finalize(pStmt);
  return rc;
}

/* cachier_invalidate([TABLE]) */
static void invalidateFunc(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  DepName *aDep = 0;
  sqlite3_stmt *pDbs = 0;
  sqlite3_int64 n = 0;
  char *zErr = 0;
  int nDep = 0, rc;
  if( guardDirectOrTempCall(ctx, "cachier_invalidate") ) return;
  if( argc==1 ){
    if( sqlite3_value_type(argv[0])!=SQLITE_TEXT ){
      sqlite3_result_error(ctx, "cachier_invalidate: the argument is a "
                           "table name: 'orders' or 'aux.rates'", -1);
      return;
    }
    rc = depsParse((const char*)sqlite3_value_text(argv[0]), &aDep, &nDep,
                   &zErr);
    if( rc==SQLITE_OK && nDep!=1 ){
      zErr = sqlite3_mprintf("name one table");
      rc = SQLITE_ERROR;
    }
    if( rc==SQLITE_OK ){
      rc = depExec(p, sqlite3_mprintf("UPDATE \"%w\".cachier_changes"
          " SET n=n+1 WHERE tbl=%Q", aDep[0].zSchema, aDep[0].zTable));
      /* (No counter table there: the table is not tracked.) */
      if( rc==SQLITE_ERROR ) rc = SQLITE_OK;
    }
    if( rc==SQLITE_OK ){
      rc = countDependents(p, aDep[0].zSchema, aDep[0].zTable, &n);
    }
  }else{
    rc = sqlite3_prepare_v2(p->db, "SELECT name FROM pragma_database_list"
                            " WHERE name<>'temp'", -1, &pDbs, 0);
    while( rc==SQLITE_OK && sqlite3_step(pDbs)==SQLITE_ROW ){
      int rc2 = depExec(p, sqlite3_mprintf("UPDATE \"%w\".cachier_changes"
          " SET n=n+1", (const char*)sqlite3_column_text(pDbs, 0)));
      if( rc2 && rc2!=SQLITE_ERROR ) rc = rc2;
    }
    sqlite3_finalize(pDbs);
    if( rc==SQLITE_OK ) rc = countDependents(p, 0, 0, &n);
  }
  depNamesFree(aDep, nDep);
  if( rc ){
    char *z = sqlite3_mprintf("cachier_invalidate: %s",
                              zErr ? zErr : sqlite3_errmsg(p->db));
    sqlite3_result_error(ctx, z, -1);
    sqlite3_result_error_code(ctx, rc);
    sqlite3_free(z);
  }else{
    sqlite3_result_int64(ctx, n);
  }
  sqlite3_free(zErr);
}

/* Registration table for this file's functions (see cachier.c). */
const CachierFunction cachierDependsFunctions[] = {
  { "cachier_invalidate", 0, CACHIER_FN_WRITES, invalidateFunc },
  { "cachier_invalidate", 1, CACHIER_FN_WRITES, invalidateFunc },
  { 0, 0, 0, 0 }
};
