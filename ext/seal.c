/*
** seal.c - sealed settings: the per-user key and the seal (MAC) of a
** cachier_config row.
**
** No SQL surface. A database can come from anyone, and so can its
** cachier_config rows. The settings that reach code or the outside world
** (SETTING_SEALED in settings.c: hash_func, store) are honoured only if
** their row carries a seal: HMAC-SHA-256 (sha256.c), keyed by a secret
** that is not in the database, over
**
**     "cachier-seal-v1", the row's name, and for each sealed setting that
**     has a value (in aSetting[] order): its name and its text
**
** each field written as a 4-byte big-endian length and its bytes. Only
** sealed settings with a value count, so adding a sealed setting later
** leaves existing seals valid. cachier_functions seals each row it writes
** (sealRow()); settings.c and cachier_functions.trusted check them
** (sealCheck()).
**
** The key: 32 random bytes in the file $CACHIER_KEY_FILE if set, else
** $XDG_CONFIG_HOME/cachier/key, else $HOME/.config/cachier/key. It is
** created (mode 0600, directories 0700) on the first seal, and trusted only
** if it is a regular file of 32 bytes, owned by this user and not
** accessible to group or others (opened without following a symlink).
** It appears whole: written to a file of its own, then linked under its
** name (link() fails if another process linked its key first: that one
** is read), so that processes creating it at once all end with the same
** key (a reader of a file created and not yet written took a key of its
** own). An empty key file (left by a creator that died) is replaced,
** under a lock (KEY.lock) so that only one process replaces it.
** Without a usable key file a connection seals with a random key of its
** own, which no other connection or process trusts (it is logged).
*/
#include "cachier.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEAL_KEY_BYTES 32
#define SEAL_DOMAIN    "cachier-seal-v1"

/* Where the connection's key came from. */
#define SEAL_KEY_UNREAD 0     /* not read yet, or absent at the last read */
#define SEAL_KEY_FILE   1     /* the user's key file */
#define SEAL_KEY_CONN   2     /* random, this connection's alone */

/* A row a connection logged about already (sealWarnOnce()). */
typedef struct SealWarned SealWarned;
struct SealWarned {
  SealWarned *pNext;
  char *zWhat;
};

struct SealState {
  int eKey;                   /* SEAL_KEY_* */
  int bKeyLogged;             /* said why the key file is not used */
  unsigned char aKey[SEAL_KEY_BYTES];
  SealWarned *pWarned;
};

/* Results of keyRead() and keyCreate(). */
#define KEY_OK        0
#define KEY_ABSENT    1       /* no such file: it may be created */
#define KEY_UNTRUSTED 2       /* *pzWhy says why */
#define KEY_EMPTY     3       /* an empty file of this user's (a creator
                              ** died, or one is writing it now): it may
                              ** be replaced; untrusted meanwhile */

static SealState *sealState(Cachier *p){
  if( p->pSeal==0 ){
    p->pSeal = sqlite3_malloc(sizeof(SealState));
    if( p->pSeal ) memset(p->pSeal, 0, sizeof(SealState));
  }
  return p->pSeal;
}

void sealFree(Cachier *p){
  SealState *s = p->pSeal;
  if( s ){
    while( s->pWarned ){
      SealWarned *pNext = s->pWarned->pNext;
      sqlite3_free(s->pWarned->zWhat);
      sqlite3_free(s->pWarned);
      s->pWarned = pNext;
    }
    memset(s->aKey, 0, sizeof(s->aKey));
    sqlite3_free(s);
    p->pSeal = 0;
  }
}

/* The key file's path (sqlite3_malloc), NULL if no variable names one. */
static char *keyPath(void){
  const char *z = getenv("CACHIER_KEY_FILE");
  if( z && z[0] ) return sqlite3_mprintf("%s", z);
  z = getenv("XDG_CONFIG_HOME");
  if( z && z[0]=='/' ) return sqlite3_mprintf("%s/cachier/key", z);
  z = getenv("HOME");
  if( z && z[0] ) return sqlite3_mprintf("%s/.config/cachier/key", z);
  return 0;
}

/* Read exactly n bytes from fd. */
static int readAll(int fd, unsigned char *a, size_t n){
  while( n>0 ){
    ssize_t k = read(fd, a, n);
    if( k<0 && errno==EINTR ) continue;
    if( k<=0 ) return 0;
    a += k;
    n -= (size_t)k;
  }
  return 1;
}

/* Read the key file zPath into aKey if it can be trusted. */
static int keyRead(const char *zPath, unsigned char *aKey, char **pzWhy){
  struct stat st;
  int fd = open(zPath, O_RDONLY|O_NOFOLLOW|O_CLOEXEC);
  int rc = KEY_UNTRUSTED;
  if( fd<0 ){
    if( errno==ENOENT ) return KEY_ABSENT;
    *pzWhy = sqlite3_mprintf("cannot open it: %s%s", strerror(errno),
                             errno==ELOOP ? " (a symbolic link)" : "");
    return KEY_UNTRUSTED;
  }
  if( fstat(fd, &st) ){
    *pzWhy = sqlite3_mprintf("cannot stat it: %s", strerror(errno));
  }else if( !S_ISREG(st.st_mode) ){
    *pzWhy = sqlite3_mprintf("not a regular file");
  }else if( st.st_uid!=geteuid() ){
    *pzWhy = sqlite3_mprintf("owned by another user");
  }else if( st.st_mode & (S_IRWXG|S_IRWXO) ){
    *pzWhy = sqlite3_mprintf("group or others may access it (mode %03o)",
                             (unsigned)(st.st_mode & 0777));
  }else if( st.st_size==0 ){
    *pzWhy = sqlite3_mprintf("it is empty");
    rc = KEY_EMPTY;
  }else if( st.st_size!=SEAL_KEY_BYTES ){
    *pzWhy = sqlite3_mprintf("it is not %d bytes", SEAL_KEY_BYTES);
  }else if( !readAll(fd, aKey, SEAL_KEY_BYTES) ){
    *pzWhy = sqlite3_mprintf("cannot read it");
  }else{
    rc = KEY_OK;
  }
  close(fd);
  return rc;
}

/* Create the missing directories of zPath's parent, mode 0700. */
static void makeParents(const char *zPath){
  char *z = sqlite3_mprintf("%s", zPath);
  char *zSlash;
  if( z==0 ) return;
  for(zSlash=strchr(z+1, '/'); zSlash; zSlash=strchr(zSlash+1, '/')){
    *zSlash = 0;
    mkdir(z, 0700);           /* (EEXIST is fine; other errors show below) */
    *zSlash = '/';
  }
  sqlite3_free(z);
}

/* 1 if zPath is an empty regular file of this user's (a creator died
** before writing it): it may be replaced. */
static int keyIsEmpty(const char *zPath){
  struct stat st;
  return lstat(zPath, &st)==0 && S_ISREG(st.st_mode)
      && st.st_uid==geteuid() && st.st_size==0;
}

/* Write the n bytes a to a new file zPath (mode 0600, not following a
** symlink). 0 on success, else errno (the file is removed). */
static int keyWriteNew(const char *zPath, const unsigned char *a, int n){
  int fd = open(zPath, O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600);
  int e = 0, nDone = 0;
  if( fd<0 ) return errno;
  while( nDone<n ){
    ssize_t k = write(fd, a + nDone, (size_t)(n - nDone));
    if( k<0 && errno==EINTR ) continue;
    if( k<=0 ){
      e = k<0 ? errno : EIO;
      break;
    }
    nDone += (int)k;
  }
  if( e==0 && fsync(fd) ) e = errno;
  if( close(fd) && e==0 ) e = errno;
  if( e ) unlink(zPath);
  return e;
}

/* How long keyLock() waits for another process's lock (which is held
** only to rename one file): KEY_LOCK_TRIES tries, 1 ms apart. */
#define KEY_LOCK_TRIES 2000

/* An exclusive flock() of zPath.lock, a regular file of this user's (one
** of another user's, in a shared directory, could be held forever): the
** descriptor, which closing releases; -1 if it cannot be had within
** about two seconds. */
static int keyLock(const char *zPath){
  char *zLock = sqlite3_mprintf("%s.lock", zPath);
  struct stat st;
  int fd, i;
  if( zLock==0 ) return -1;
  fd = open(zLock, O_RDWR|O_CREAT|O_NOFOLLOW|O_CLOEXEC, 0600);
  sqlite3_free(zLock);
  if( fd<0 ) return -1;
  if( fstat(fd, &st)==0 && S_ISREG(st.st_mode) && st.st_uid==geteuid() ){
    for(i=0; i<KEY_LOCK_TRIES; i++){
      struct timespec ms = { 0, 1000000 };
      if( flock(fd, LOCK_EX|LOCK_NB)==0 ) return fd;
      if( errno!=EWOULDBLOCK && errno!=EINTR ) break;
      nanosleep(&ms, 0);
    }
  }
  close(fd);
  return -1;
}

/* Put the new key file zTmp in the place of zPath by rename, if zPath is
** absent or empty (a creator died before writing it): under keyLock(),
** so that two processes never both place theirs (the second would
** replace the first one's key, already in use). Where there are no hard
** links to make a key appear whole, this is how it does. 1 if zTmp took
** its place; 0 if another key is there or the lock could not be had. */
static int keyPlace(const char *zPath, const char *zTmp){
  struct stat st;
  int fd = keyLock(zPath), bDone = 0;
  if( fd<0 ) return 0;
  if( (lstat(zPath, &st)!=0 && errno==ENOENT) || keyIsEmpty(zPath) ){
    bDone = rename(zTmp, zPath)==0;
  }
  close(fd);                  /* (releases the lock) */
  return bDone;
}

/* 1 if link() failing with e means this file system has no hard links. */
static int keyNoHardLinks(int e){
  return e==EPERM || e==ENOTSUP || e==EOPNOTSUPP || e==EXDEV || e==EMLINK
      || e==ENOSYS;
}

/* link(), which test builds can make fail as on a file system without
** hard links (CACHIER_TEST_NO_HARD_LINKS set). */
static int keyLink(const char *zFrom, const char *zTo){
#ifdef CACHIER_TEST
  if( getenv("CACHIER_TEST_NO_HARD_LINKS") ){
    errno = EPERM;
    return -1;
  }
#endif
  return link(zFrom, zTo);
}

/* Create the key file zPath with fresh random bytes (into aKey), or read
** the one another process created meanwhile. */
static int keyCreate(const char *zPath, unsigned char *aKey, char **pzWhy){
  int fdRand, bOk, e, rc, bNoLinks;
  unsigned char aTag[8];
  char *zTmp;
  fdRand = open("/dev/urandom", O_RDONLY|O_CLOEXEC);
  bOk = fdRand>=0 && readAll(fdRand, aKey, SEAL_KEY_BYTES)
                  && readAll(fdRand, aTag, sizeof(aTag));
  if( fdRand>=0 ) close(fdRand);
  if( !bOk ){
    *pzWhy = sqlite3_mprintf("no random bytes from /dev/urandom");
    return KEY_UNTRUSTED;
  }
  makeParents(zPath);
  zTmp = sqlite3_mprintf("%s.%d.%02x%02x%02x%02x%02x%02x%02x%02x.new", zPath,
                         (int)getpid(), aTag[0], aTag[1], aTag[2], aTag[3],
                         aTag[4], aTag[5], aTag[6], aTag[7]);
  if( zTmp==0 ){
    *pzWhy = sqlite3_mprintf("out of memory");
    return KEY_UNTRUSTED;
  }
  e = keyWriteNew(zTmp, aKey, SEAL_KEY_BYTES);
  if( e ){
    sqlite3_free(zTmp);
    *pzWhy = sqlite3_mprintf("cannot create it: %s", strerror(e));
    return KEY_UNTRUSTED;
  }
  if( keyLink(zTmp, zPath)==0 ){
    unlink(zTmp);
    sqlite3_free(zTmp);
    return KEY_OK;
  }
  e = errno;
  /* An empty key file (its creator died), or no hard links here: ours goes
  ** in place by rename, unless another's is there by then. (Not on other
  ** errors: a link() made meanwhile by another process takes no lock.) */
  bNoLinks = keyNoHardLinks(e);
  if( (bNoLinks || (e==EEXIST && keyIsEmpty(zPath))) && keyPlace(zPath, zTmp) ){
    sqlite3_free(zTmp);
    return KEY_OK;
  }
  unlink(zTmp);
  sqlite3_free(zTmp);
  if( e!=EEXIST && !bNoLinks ){
    *pzWhy = sqlite3_mprintf("cannot create it: %s", strerror(e));
    return KEY_UNTRUSTED;
  }
  rc = keyRead(zPath, aKey, pzWhy);   /* another's, whole */
  if( rc==KEY_ABSENT || rc==KEY_EMPTY ){
    /* Ours could not be put in place (keyLock() failed): none, rather than
    ** one made without the lock, which another process could replace. */
    sqlite3_free(*pzWhy);
    *pzWhy = sqlite3_mprintf("cannot lock %s.lock to put it in place",
                             zPath);
    rc = KEY_UNTRUSTED;
  }
  return rc;
}

/* The connection's key; NULL if there is none (or on OOM). bCreate: a
** seal is to be made, so create the key file if it is missing, and fall
** back to a key of the connection's own if there can be no file. */
static const unsigned char *sealKey(Cachier *p, int bCreate){
  SealState *s = sealState(p);
  char *zPath, *zWhy = 0;
  int e;
  if( s==0 ) return 0;
  if( s->eKey!=SEAL_KEY_UNREAD ) return s->aKey;
  zPath = keyPath();
  if( zPath==0 ){
    zWhy = sqlite3_mprintf("neither CACHIER_KEY_FILE nor HOME is set");
    e = KEY_UNTRUSTED;
  }else{
    e = keyRead(zPath, s->aKey, &zWhy);
    /* (Empty when read, not asked again: another process may have put
    ** its key in place since, and keyCreate() then reads that one.) */
    if( bCreate && (e==KEY_ABSENT || e==KEY_EMPTY) ){
      sqlite3_free(zWhy);
      zWhy = 0;
      e = keyCreate(zPath, s->aKey, &zWhy);
    }
  }
  if( e==KEY_OK ){
    s->eKey = SEAL_KEY_FILE;
  }else if( (e==KEY_UNTRUSTED || e==KEY_EMPTY) && !s->bKeyLogged ){
    s->bKeyLogged = 1;
    cachierLog(p, "cachier: key file %s is not used: %s",
               zPath ? zPath : "(none)", zWhy ? zWhy : "out of memory");
  }
  if( e!=KEY_OK && bCreate ){
    sqlite3_randomness(SEAL_KEY_BYTES, s->aKey);
    s->eKey = SEAL_KEY_CONN;
    cachierLog(p, "cachier: sealing settings with a key of this connection's "
               "own: other connections and processes will ignore its store "
               "and hash_func settings");
  }
  sqlite3_free(zPath);
  sqlite3_free(zWhy);
  return s->eKey==SEAL_KEY_UNREAD ? 0 : s->aKey;
}

/* Add a length-prefixed field to the MAC. */
static void macField(Hmac *m, const void *a, int n){
  unsigned char aLen[4];
  aLen[0] = (unsigned char)(n>>24); aLen[1] = (unsigned char)(n>>16);
  aLen[2] = (unsigned char)(n>>8);  aLen[3] = (unsigned char)n;
  hmacUpdate(m, aLen, 4);
  if( n>0 ) hmacUpdate(m, a, (size_t)n);
}

/* How many sealed settings of the row in pStmt have a value (name in
** column iName, settingColumn(i) in column iName+i). -1 if one is not text
** (cachier_functions writes them as text only). */
static int sealedCount(sqlite3_stmt *pStmt, int iName){
  const SettingDef *pDef;
  int i, n = 0;
  for(i=1; (pDef = settingColumn(i))!=0; i++){
    int eType;
    if( (pDef->flags & SETTING_SEALED)==0 ) continue;
    eType = sqlite3_column_type(pStmt, iName+i);
    if( eType==SQLITE_NULL ) continue;
    if( eType!=SQLITE_TEXT ) return -1;
    n++;
  }
  return n;
}

/* The seal of the row in pStmt under aKey. */
static void sealMac(const unsigned char *aKey, sqlite3_stmt *pStmt,
                    int iName, unsigned char aMac[SHA256_BYTES]){
  const SettingDef *pDef;
  Hmac m;
  int i;
  hmacInit(&m, aKey, SEAL_KEY_BYTES);
  macField(&m, SEAL_DOMAIN, (int)strlen(SEAL_DOMAIN));
  macField(&m, sqlite3_column_text(pStmt, iName),
           sqlite3_column_bytes(pStmt, iName));
  for(i=1; (pDef = settingColumn(i))!=0; i++){
    if( (pDef->flags & SETTING_SEALED)==0 ) continue;
    if( sqlite3_column_type(pStmt, iName+i)==SQLITE_NULL ) continue;
    macField(&m, pDef->zName, (int)strlen(pDef->zName));
    macField(&m, sqlite3_column_text(pStmt, iName+i),
             sqlite3_column_bytes(pStmt, iName+i));
  }
  hmacFinal(&m, aMac);
}

/* Check the seal of a cachier_config row in pStmt: its name in column
** iName, the setting settingColumn(i) in column iName+i, the seal in
** column iSeal. SEAL_NONE: no sealed setting has a value; SEAL_VALID: the
** seal is this user's; SEAL_INVALID: the sealed settings must be
** ignored. */
int sealCheck(Cachier *p, sqlite3_stmt *pStmt, int iName, int iSeal){
  unsigned char aMac[SHA256_BYTES];
  const unsigned char *aKey, *aSeal;
  int n = sealedCount(pStmt, iName), i, diff = 0;
  if( n==0 ) return SEAL_NONE;
  if( n<0 || sqlite3_column_type(pStmt, iSeal)!=SQLITE_BLOB
   || sqlite3_column_bytes(pStmt, iSeal)!=SHA256_BYTES ){
    return SEAL_INVALID;
  }
  aKey = sealKey(p, 0);
  if( aKey==0 ) return SEAL_INVALID;
  sealMac(aKey, pStmt, iName, aMac);
  aSeal = sqlite3_column_blob(pStmt, iSeal);
  if( aSeal==0 ) return SEAL_INVALID;
  for(i=0; i<SHA256_BYTES; i++) diff |= aMac[i] ^ aSeal[i];
  return diff ? SEAL_INVALID : SEAL_VALID;
}

/* Seal the cachier_config row iRowid as it now is (cachier_functions
** calls it after each write): the seal, or NULL if no sealed setting has
** a value. */
int sealRow(Cachier *p, sqlite3_int64 iRowid, char **pzErr){
  unsigned char aMac[SHA256_BYTES];
  sqlite3_stmt *pSel = 0, *pUpd = 0;
  char *zList = settingColumnList();
  char *zSql = zList ? sqlite3_mprintf("SELECT %s FROM main.cachier_config"
                                       " WHERE rowid=?1", zList) : 0;
  int rc, bSeal = 0;
  sqlite3_free(zList);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(p->db, zSql, -1, &pSel, 0);
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ){
    sqlite3_bind_int64(pSel, 1, iRowid);
    if( sqlite3_step(pSel)==SQLITE_ROW && sealedCount(pSel, 0)>0 ){
      const unsigned char *aKey = sealKey(p, 1);
      if( aKey==0 ){
        rc = SQLITE_NOMEM;
      }else{
        sealMac(aKey, pSel, 0, aMac);
        bSeal = 1;
      }
    }
    if( rc==SQLITE_OK ) rc = sqlite3_reset(pSel);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(p->db, "UPDATE main.cachier_config SET seal=?1"
                            " WHERE rowid=?2", -1, &pUpd, 0);
  }
  if( rc==SQLITE_OK ){
    if( bSeal ) sqlite3_bind_blob(pUpd, 1, aMac, SHA256_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(pUpd, 2, iRowid);
    sqlite3_step(pUpd);
    rc = sqlite3_reset(pUpd);
  }
  if( rc && rc!=SQLITE_NOMEM ){
    *pzErr = sqlite3_mprintf("cachier_functions: cannot seal the row: %s",
                             sqlite3_errmsg(p->db));
  }
  sqlite3_finalize(pSel);
  sqlite3_finalize(pUpd);
  return rc;
}

/* True if an UPDATE of the cachier_config row iRowid that leaves the
** columns in mUnchanged (bit i: settingColumn(i)) as they are may seal
** the row: the row is trusted now (its seal is valid, or it sets no sealed
** setting), or none of those columns is a sealed setting with a value. */
int sealUpdateMaySeal(Cachier *p, sqlite3_int64 iRowid, uint64_t mUnchanged){
  sqlite3_stmt *pSel = 0;
  char *zList = settingColumnList();
  char *zSql = zList ? sqlite3_mprintf("SELECT %s, seal FROM"
      " main.cachier_config WHERE rowid=?1", zList) : 0;
  int bMay = 0, i;
  sqlite3_free(zList);
  if( zSql && sqlite3_prepare_v2(p->db, zSql, -1, &pSel, 0)==SQLITE_OK ){
    sqlite3_bind_int64(pSel, 1, iRowid);
    if( sqlite3_step(pSel)==SQLITE_ROW ){
      bMay = 1;
      for(i=1; i<64 && settingColumn(i); i++){
        if( (mUnchanged>>i & 1) && sqlite3_column_type(pSel, i)!=SQLITE_NULL ){
          bMay = 0;
        }
      }
      if( !bMay ){
        bMay = sealCheck(p, pSel, 0, settingColumnCount())!=SEAL_INVALID;
      }
    }
  }
  sqlite3_finalize(pSel);
  sqlite3_free(zSql);
  return bMay;
}

/* True the first time this connection asks about zWhat (logging an
** ignored row once per connection, function and row). */
int sealWarnOnce(Cachier *p, const char *zWhat){
  SealState *s = sealState(p);
  SealWarned *w;
  if( s==0 ) return 0;
  for(w=s->pWarned; w; w=w->pNext){
    if( strcmp(w->zWhat, zWhat)==0 ) return 0;
  }
  w = sqlite3_malloc(sizeof(*w));
  if( w==0 ) return 0;
  w->zWhat = sqlite3_mprintf("%s", zWhat);
  if( w->zWhat==0 ){
    sqlite3_free(w);
    return 0;
  }
  w->pNext = s->pWarned;
  s->pWarned = w;
  return 1;
}

/* The seal of a cachier_query table's query (vtab_query.c): HMAC-SHA-256
** under the user's key over "cachier-query-seal-v1", the table's name
** (canonical) and the query text, each field length-prefixed. bCreate: a
** seal is being made (the key file may be created). 0 into aMac and
** SQLITE_NOMEM if there is no key. */
int sealQuery(Cachier *p, const char *zName, const char *zQuery, int bCreate,
              unsigned char aMac[SHA256_BYTES]){
  static const char zDomain[] = "cachier-query-seal-v1";
  const unsigned char *aKey = sealKey(p, bCreate);
  Hmac m;
  if( aKey==0 ){
    memset(aMac, 0, SHA256_BYTES);
    return SQLITE_NOMEM;
  }
  hmacInit(&m, aKey, SEAL_KEY_BYTES);
  macField(&m, zDomain, (int)strlen(zDomain));
  macField(&m, zName, (int)strlen(zName));
  macField(&m, zQuery, (int)strlen(zQuery));
  hmacFinal(&m, aMac);
  return SQLITE_OK;
}
