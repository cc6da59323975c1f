/*
** store_file.c - "file:PATH": a cache database file of its own.
**
** SQL surface: store names 'file:PATH' in cachier_functions.store (and
** cachier_cache_path(), store.c).
**
** PATH is absolute, or relative to the main database's directory (the
** current directory for ":memory:"). The file holds the same tables as
** main (sql/schema.sql) and is opened by cachier on a connection of its
** own, in WAL mode with synchronous=NORMAL, so it is shared by every
** process on the machine and committed independently of the user's
** transactions: a rollback of the user's transaction keeps the values it
** computed.
**
** Grouped commits (store_tables.c): stored values go into a transaction
** that commits when it is 10 ms old (a thread of cachier's sees to it,
** also when the process is idle), after GROUP_MAX_WRITES (256) values or
** 1 MB, before any other kind of write, before the connection waits for
** another's computation, at cachier_flush(), and when the connection
** closes. So a stored miss costs no commit of its own, a clean close
** loses nothing, and a crash loses at most the values stored in the last
** 10 ms, no more than 256 values or 1 MB. The group holds the file's
** write lock while it is open: another process's write waits for it, at
** most about 10 ms. In-flight marks live beside the file
** (PATH-cachier-locks) and are released when the value they guard is
** committed, so processes that share the file compute each key once.
** The lookups of one statement share one read transaction (one snapshot,
** and one round of WAL read locks, per statement).
*/
#define _GNU_SOURCE           /* realpath() */
#include "store.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The canonical form of the absolute path zAbs (sqlite3_free it): its
** directory resolved by realpath() when it exists (symbolic links, "."
** and ".."), so that every way of naming a file names one store; else
** "." and ".." are removed as text. */
static char *canonicalPath(const char *zAbs){
  const char *zSlash = strrchr(zAbs, '/');
  char *zDir = sqlite3_mprintf("%.*s", (int)(zSlash - zAbs), zAbs);
  char *zReal = zDir ? realpath(zDir[0] ? zDir : "/", 0) : 0;
  char *zRes = 0;
  if( zReal ){
    zRes = sqlite3_mprintf("%s/%s", strcmp(zReal, "/")==0 ? "" : zReal,
                           zSlash+1);
    free(zReal);
  }else if( zDir ){
    /* Lexically: keep a stack of the components. */
    int n = (int)strlen(zAbs), i = 0, j = 0;
    zRes = sqlite3_malloc(n+2);
    while( zRes && i<n ){
      int k = i+1;
      while( k<n && zAbs[k]!='/' ) k++;
      if( k-i==2 && zAbs[i+1]=='.' ){
        /* "/." */
      }else if( k-i==3 && zAbs[i+1]=='.' && zAbs[i+2]=='.' ){
        while( j>0 && zRes[j-1]!='/' ) j--;
        if( j>0 ) j--;
      }else if( k-i>1 ){
        memcpy(&zRes[j], &zAbs[i], k-i);
        j += k-i;
      }
      i = k;
    }
    if( zRes ) zRes[j] = 0;
  }
  sqlite3_free(zDir);
  return zRes;
}

/* The absolute path zSpec ("file:PATH") means on this connection, in
** canonical form. */
char *storeFilePath(Cachier *p, const char *zSpec){
  const char *zPath = zSpec + 5;
  const char *zMain;
  char *zDir, *zAbs, *zRes;
  int n;
  if( zPath[0]=='/' ){
    zAbs = sqlite3_mprintf("%s", zPath);
  }else{
    zMain = sqlite3_db_filename(p->db, "main");
    if( zMain && zMain[0]=='/' ){
      n = (int)(strrchr(zMain, '/') - zMain);
      zAbs = sqlite3_mprintf("%.*s/%s", n>0 ? n : 1, zMain, zPath);
    }else{
      zDir = sqlite3_malloc(4096);
      if( zDir==0 ) return 0;
      zAbs = getcwd(zDir, 4096) ? sqlite3_mprintf("%s/%s", zDir, zPath) : 0;
      sqlite3_free(zDir);
    }
  }
  if( zAbs==0 ) return 0;
  zRes = canonicalPath(zAbs);
  sqlite3_free(zAbs);
  return zRes;
}

/* Is zPath the file of the main database (or of another database the
** connection has attached)? */
static int isMainFile(Cachier *p, const char *zPath){
  struct stat a, b;
  int i;
  if( stat(zPath, &a)!=0 ) return 0;       /* a new file: nobody's yet */
  for(i=0; ; i++){
    const char *zDb = sqlite3_db_name(p->db, i);
    const char *zFile;
    if( zDb==0 ) break;
    zFile = sqlite3_db_filename(p->db, zDb);
    if( zFile && zFile[0] && stat(zFile, &b)==0
     && a.st_dev==b.st_dev && a.st_ino==b.st_ino ){
      return 1;
    }
  }
  return 0;
}

CachierStore *storeFileOpen(Cachier *p, const char *zSpec, char **pzErr){
  char *zPath = storeFilePath(p, zSpec);
  char *zCanon;
  sqlite3 *db = 0;
  CachierStore *pStore = 0;
  int rc;
  if( zPath==0 ) return 0;
  /* The file is cachier's own: it is switched to WAL mode and written in
  ** groups that hold its write lock, which must never happen to the
  ** user's database. */
  if( isMainFile(p, zPath) ){
    *pzErr = sqlite3_mprintf("the cache file %s is the main database: use "
                             "the store 'main'", zPath);
    sqlite3_free(zPath);
    return 0;
  }
  rc = sqlite3_open_v2(zPath, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE
                       |SQLITE_OPEN_NOMUTEX, 0);
  if( rc==SQLITE_OK ) rc = tablesPrepareDb(p, db);
  if( rc==SQLITE_OK ){
    rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
                      0, 0, 0);
  }
  if( rc ){
    *pzErr = sqlite3_mprintf("cannot open the cache file %s: %s", zPath,
                             db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    sqlite3_free(zPath);
    return 0;
  }
  zCanon = sqlite3_mprintf("file:%s", zPath);
  if( zCanon ) pStore = tablesStoreNew(p, db, 1, 1, zCanon);
  sqlite3_free(zCanon);
  if( pStore==0 ){
    sqlite3_close(db);
    sqlite3_free(zPath);
    return 0;
  }
  pStore->zLockDb = zPath;
  return pStore;
}
