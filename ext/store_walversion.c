/*
** store_walversion.c - the version of a tables store (main, file:,
** memory) that the hot tier (hot.c) checks before it serves a hit: the
** header of SQLite's WAL index, which every commit of any process
** rewrites. It is read straight from shared memory, without a statement.
**
** No SQL surface.
**
** The WAL index (the "-shm" file) is documented in "The WAL-Index Format"
** (https://www.sqlite.org/walformat.html). Its header starts the first
** 32 KiB page of the index: two copies of a 48-byte WalIndexHdr, at
** offsets 0 and 48, then the checkpoint information. A writer rewrites
** the second copy, then the first; a reader copies the first, then
** compares it with the second, and a mismatch means a writer is midway.
** Among the fields of a copy, iChange (offset 8) counts transactions and
** mxFrame (offset 16), the salts (offset 32) and the checksum (offset 40)
** move with every commit and every WAL reset, so the whole copy, compared
** as bytes, is a version that changes with every commit, by any
** connection of any process. Nothing here interprets a field but one:
** an index rebuilt from the WAL file (by the first connection to open it,
** or after this connection left WAL mode and took it again) starts with
** iChange 0, and rebuilt over an empty WAL its whole header is the same
** every time, whatever the database holds: while iChange is 0 (until the
** next commit) the version is unknown, so nothing taken at an earlier
** such header is trusted after a round trip through another journal mode.
**
** Outside WAL mode there is no such header: the version is unknown (0)
** and the hot tier keeps nothing.
*/
#include "store_tables.h"
#include <string.h>

#define WALINDEX_PAGE_BYTES  32768 /* the unit SQLite maps the index in */
#define WALINDEX_HDR_BYTES   48    /* one copy of the WalIndexHdr */
#define WALINDEX_HDR1_OFFSET 0     /* the copy written last */
#define WALINDEX_HDR2_OFFSET (WALINDEX_HDR1_OFFSET + WALINDEX_HDR_BYTES)
#define WALINDEX_ICHANGE_OFFSET 8  /* iChange, a native 32-bit count */

_Static_assert(STORE_VERSION_BYTES==WALINDEX_HDR_BYTES,
               "a tables store's version is one copy of the WAL-index header");

/* The version into aVer; 0 if the header is being rewritten, or is one
** of a rebuilt index that nothing has committed to since (see above). */
static int walHeaderRead(const volatile unsigned char *pShm,
                         unsigned char *aVer){
  uint32_t iChange;
  memcpy(aVer, (const void*)(pShm + WALINDEX_HDR1_OFFSET),
         WALINDEX_HDR_BYTES);
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  memcpy(&iChange, aVer + WALINDEX_ICHANGE_OFFSET, 4);
  return iChange!=0
      && memcmp(aVer, (const void*)(pShm + WALINDEX_HDR2_OFFSET),
                WALINDEX_HDR_BYTES)==0;
}


/* The first page of main's WAL index, as mapped now; NULL if it is not
** mapped. Only while main is in WAL mode: in another mode xShmMap()
** would create the index. */
static const volatile unsigned char *walIndexMap(TablesStore *s){
  sqlite3_file *pDb = 0;
  void volatile *pMap = 0;
  if( sqlite3_file_control(s->db, "main", SQLITE_FCNTL_FILE_POINTER,
                           &pDb)!=SQLITE_OK
   || pDb==0 || pDb->pMethods==0 || pDb->pMethods->iVersion<2
   || pDb->pMethods->xShmMap==0
   || pDb->pMethods->xShmMap(pDb, 0, WALINDEX_PAGE_BYTES, 0,
                             &pMap)!=SQLITE_OK ){
    return 0;
  }
  return (const volatile unsigned char*)pMap;
}

/* tablesVersion() when the WAL index must be found (again): its location
** is found again whenever the database's journal or WAL file object
** changes (the journal mode changed), so a WAL index that was unmapped is
** never read. The same WAL file object may be a new one at the address
** of one closed before (WAL mode left and taken again: its index mapped
** anew, perhaps elsewhere), so on the user's connection the mapping is
** asked for again each time (cheap once mapped; the object is a WAL
** file, as the pager's rollback journal never shares its address). */
static int tablesVersionSlow(TablesStore *s, unsigned char *aVer){
  sqlite3_file *pJournal = 0;
  if( sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
                           &pJournal)!=SQLITE_OK ){
    s->pShm = 0;
    return 0;
  }
  if( pJournal!=s->pJournalSeen ){
    s->pShm = 0;
    if( pJournal==0 || pJournal->pMethods==0 ) return 0;  /* not open yet */
    if( !cachierIsWal(s->db) ){
      s->pJournalSeen = pJournal;     /* not WAL: asked again on a change */
      return 0;
    }
    s->pShm = walIndexMap(s);
    if( s->pShm==0 ) return 0;        /* not mapped yet: asked again */
    s->pJournalSeen = pJournal;
  }else if( s->pShm && !s->bOwnDb ){
    s->pShm = walIndexMap(s);
  }
  if( s->pShm==0 ) return 0;
  return walHeaderRead(s->pShm, aVer);
}

/* The xVersion method: the store's version into aVer. 0 outside WAL
** mode, while the header is being rewritten, or once after a group of
** writes rolled back (the hot tier, which may hold some of them, then
** empties). */
int tablesVersion(CachierStore *pStore, unsigned char *aVer, int bRecheck){
  TablesStore *s = (TablesStore*)pStore;
  int rc;
  if( s->bHotStale
   && __atomic_exchange_n(&s->bHotStale, 0, __ATOMIC_ACQ_REL) ){
    return 0;                 /* a group rolled back: the tier empties */
  }
  /* cachier's own connections stay in WAL mode: once found, the WAL
  ** index stays where it is. */
  if( s->pShm && (s->bOwnDb || !bRecheck) ){
    return walHeaderRead(s->pShm, aVer);
  }
  storeLock(s);
  rc = tablesVersionSlow(s, aVer);
  storeUnlock(s);
  return rc;
}

/* The xVersionIs method: 1 if the header's first copy is still aVer, a
** version tablesVersion() read whole (both copies equal, iChange not 0).
** The first copy alone suffices: a writer rewrites the second copy, then
** the first, and a reader that starts meanwhile waits for the two to
** agree, so while the first copy is aVer nobody can read past it. Word
** compares, no call: the hot tier asks at every hit. */
int tablesVersionIs(CachierStore *pStore, const unsigned char *aVer){
  TablesStore *s = (TablesStore*)pStore;
  const volatile unsigned char *pShm = s->pShm;
  const volatile uint64_t *pHdr;
  uint64_t d = 0;
  int i;
  if( pShm==0 || __atomic_load_n(&s->bHotStale, __ATOMIC_RELAXED) ){
    return 0;                 /* tablesVersion() decides */
  }
  pHdr = (const volatile uint64_t*)(pShm + WALINDEX_HDR1_OFFSET);
  for(i=0; i<WALINDEX_HDR_BYTES/8; i++){
    uint64_t w;
    memcpy(&w, aVer + 8*i, 8);
    d |= pHdr[i] ^ w;
  }
  return d==0;
}

/* May what a lookup now finds enter the hot tier, whose values are of
** version aVer (read just before)? Yes if the lookup reads a snapshot
** that is that version:
**   - outside any transaction, the lookup starts a new snapshot, at least
**     as new as aVer; aVer is noted as the snapshot's;
**   - inside a read transaction (the rest of the statement), if the
**     version is still the one noted when no transaction was open: then
**     nobody committed since, and the snapshot, begun after, is aVer;
**   - in this store's own group of writes (it holds the write lock, and a
**     group that fails to commit empties the tier);
** never in a write transaction of the user's, which may roll back. */
int tablesMayFill(CachierStore *pStore, const unsigned char *aVer){
  TablesStore *s = (TablesStore*)pStore;
  int eTxn, bFill;
  storeLock(s);
  eTxn = sqlite3_txn_state(s->db, "main");
  if( eTxn==SQLITE_TXN_NONE ){
    memcpy(s->aSnapVer, aVer, STORE_VERSION_BYTES);
    s->bSnapVer = 1;
    bFill = 1;
  }else if( eTxn==SQLITE_TXN_READ ){
    bFill = s->bSnapVer
         && memcmp(s->aSnapVer, aVer, STORE_VERSION_BYTES)==0;
  }else{
    bFill = s->inGroup;
  }
  storeUnlock(s);
  return bFill;
}

/* The xNoteStatementEnd method: a statement that read main is ending
** (memoize.c, when SQLite frees its plan). If its read transaction ends
** with it, note the version now, as tablesNoteSnapshot() does before a
** transaction begins: a statement whose own reads of main began its
** snapshot before cachier was called (SELECT memoize('f', col) FROM t,
** t in main) then finds it noted, and fills the tier while nobody has
** committed since (tablesMayFill()). */
void tablesNoteStatementEnd(CachierStore *pStore){
  TablesStore *s = (TablesStore*)pStore;
  unsigned char aVer[STORE_VERSION_BYTES];
  if( pStore->pHot && !s->bOwnDb && cachierOneStatementRuns(s->db)
   && tablesVersion(pStore, aVer, 1) ){
    storeLock(s);
    memcpy(s->aSnapVer, aVer, STORE_VERSION_BYTES);
    s->bSnapVer = 1;
    storeUnlock(s);
  }
}

/* The xNoteSnapshot method. The user's connection is about to read main
** outside any transaction (cachier's own check of main's data_version,
** or the statement's first lookup, which start the snapshot its lookups
** then share): note the version first, so that hits found in that
** snapshot may fill the hot tier (tablesMayFill()), and give it to the
** caller (fninfo.c: main's data_version cannot have moved while it is
** the same). */
int tablesNoteSnapshot(CachierStore *pStore, unsigned char *aVer){
  TablesStore *s = (TablesStore*)pStore;
  if( sqlite3_txn_state(s->db, "main")!=SQLITE_TXN_NONE
   || !tablesVersion(pStore, aVer, 1) ){
    return 0;
  }
  if( pStore->pHot ){
    memcpy(s->aSnapVer, aVer, STORE_VERSION_BYTES);
    s->bSnapVer = 1;
  }
  return 1;
}
