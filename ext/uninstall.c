/*
** uninstall.c - cachier_uninstall(): remove what cachier made for a
** database.
**
** SQL surface:
**   cachier_uninstall()
**       Removes from the main database every table and trigger cachier
**       created there: the virtual table cachier and its tables
**       cachier_info, cachier_config, cachier_data and cachier_dict, the
**       invalidation triggers cachier_track_* and their table
**       cachier_changes; and the file beside it, DB-cachier-locks.
**       Returns how many objects (tables, triggers, files) it removed;
**       each is named in cachier_log. Entries in other stores (a file:
**       store's own file, which other databases may share, the memory
**       store, Redis) are left: cachier_clear() empties those. A later
**       memoize() creates the tables again. DIRECTONLY. An error while
**       a memoize() call of the connection is computing.
** docs/uninstall.md gives the SQL that does the same without cachier.
*/
#include "store.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

/* The objects to drop, triggers first (a table's triggers go with it,
** but the tracking triggers sit on the user's tables), then cachier's
** virtual table (which drops its shadow tables), then tables left over
** (a damaged cache without its virtual table). OUT: type, name. */
static const char zObjectsSql[] =
  "SELECT type, name FROM main.sqlite_schema"
  " WHERE (type='trigger' AND name LIKE 'cachier\\_track\\_%' ESCAPE '\\')"
  "    OR (type='table' AND name IN ('cachier', 'cachier_changes',"
  "        'cachier_info', 'cachier_config', 'cachier_data', 'cachier_dict'))"
  " ORDER BY type='table', name<>'cachier', name";

static void uninstallFunc(sqlite3_context *ctx, int argc,
                          sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  sqlite3_stmt *pStmt = 0;
  char **azSql = 0;
  const char *zMain;
  int nSql = 0, i, rc, nRemoved = 0;
  (void)argc; (void)argv;
  if( guardDirectCall(ctx, "cachier_uninstall") ) return;
  /* Not under a computation (a function memoize() calls): it holds marks
  ** in the side file this closes, and writes to the tables this drops. */
  if( p->depth>0 || inflightHeld(p->pInflight)>0 ){
    sqlite3_result_error(ctx, "cachier_uninstall: refused while a memoize() "
        "call of this connection is computing (from a function it calls?):"
        " run it as a statement of its own", -1);
    return;
  }
  /* First list, then drop: a schema change ends the listing statement. */
  rc = sqlite3_prepare_v2(p->db, zObjectsSql, -1, &pStmt, 0);
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zType = (const char*)sqlite3_column_text(pStmt, 0);
    const char *zName = (const char*)sqlite3_column_text(pStmt, 1);
    char **azNew = sqlite3_realloc64(azSql, sizeof(char*)*(nSql+1));
    if( azNew==0 ){
      rc = SQLITE_NOMEM;
      break;
    }
    azSql = azNew;
    azSql[nSql] = sqlite3_mprintf("DROP %s IF EXISTS main.\"%w\"",
        zType && zType[1]=='r' ? "TRIGGER" : "TABLE", zName);
    if( azSql[nSql]==0 ){
      rc = SQLITE_NOMEM;
      break;
    }
    nSql++;
  }
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt);
  else sqlite3_finalize(pStmt);
  /* (Each listed object exists: dropping cachier drops its shadow
  ** tables too, so theirs are no-ops then.) */
  for(i=0; rc==SQLITE_OK && i<nSql; i++){
    rc = sqlite3_exec(p->db, azSql[i], 0, 0, 0);
    if( rc==SQLITE_OK ){
      nRemoved++;
      cachierLog(p, "cachier: cachier_uninstall: %s", azSql[i]);
    }
  }
  if( rc ){
    char *zErr = sqlite3_mprintf("cachier_uninstall: %s",
                                 sqlite3_errmsg(p->db));
    sqlite3_result_error(ctx, zErr ? zErr : "out of memory", -1);
    sqlite3_free(zErr);
    goto done;
  }
  p->settingsGen++;           /* what the connection knew of them is gone */
  /* The marks' side file: this connection's marks end with it (and if it
  ** was its last user, closing deletes it already). */
  zMain = cachierMainFile(p);
  if( zMain ){
    char *zLocks = sqlite3_mprintf("%s-cachier-locks", zMain);
    int bWas;
    if( zLocks==0 ){
      sqlite3_result_error_nomem(ctx);
      goto done;
    }
    bWas = access(zLocks, F_OK)==0;
    inflightClose(&p->pInflight);
    if( unlink(zLocks)!=0 && errno!=ENOENT ){
      cachierLog(p, "cachier: cachier_uninstall: cannot delete %s (%s)",
                 zLocks, strerror(errno));
    }else if( bWas ){
      nRemoved++;
      cachierLog(p, "cachier: cachier_uninstall: deleted %s", zLocks);
    }
    sqlite3_free(zLocks);
  }
  sqlite3_result_int(ctx, nRemoved);
done:
  for(i=0; i<nSql; i++) sqlite3_free(azSql[i]);
  sqlite3_free(azSql);
}

const CachierFunction cachierUninstallFunctions[] = {
  { "cachier_uninstall", 0, CACHIER_FN_WRITES, uninstallFunc },
  { 0, 0, 0, 0 }
};
