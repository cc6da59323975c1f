/*
** memo.c - the statement memo: within one statement, a repeated argument
** list is served from memory kept with the statement's plan (memoize.c),
** in every store and journal mode, with no version check (a statement
** reads one snapshot of main anyway).
**
** SQL surface: the memoize_with() option statement_bytes (bytes a
** statement keeps per memoized function; default CACHIER_STATEMENT_BYTES,
** 0 or 'none' turns it off; memoize() always has the default). Its hits
** count as hits in cachier_stats, and also in its memo_hits column.
**
** A memo is an open-addressing hash table from the type-exact encoding of
** the arguments (key_codec.c, the part of a key after the name) to a copy
** of the value as served: type, subtype, the bytes of a text or blob
** (reference counted and handed to SQLite without a copy, as the hot tier
** does), and the entry's created time and id for the rules memoize.c
** checks on every memo hit (staleness under the clock in force, the test
** clock too; eviction's hit notes). A value enters at its second sight in
** the statement, so a scan of all-distinct keys pays for no copies; past
** the memo's bound nothing more enters. What was seen is a Bloom filter
** of MEMO_SEEN_BITS bits (two per argument list), emptied once it took
** MEMO_SEEN_BITS/8 lists: a list seen again within about that many calls
** enters (a table of tags, one per slot, let two lists that share a slot
** evict each other forever in a scan that repeats them in turn), and an
** all-distinct scan admits only the filter's false positives (at most
** about 5% of the lists, just before it empties).
**
** Exactness within the statement: the memo holds what the store held when
** it was read. Whatever this connection does that can change what the
** store would serve (cachier_clear, cachier_precache, overwrite_cache,
** DELETE FROM cachier_entries, evictions, settings written through
** cachier_functions) bumps the connection's memo generation
** (cachierMemoChanged()), and a memo whose generation is older empties
** itself before its next lookup.
*/
#include "cachier.h"
#include <string.h>

/* The filter of argument lists seen (admission on second sight): bits,
** a power of two, 16 KB. */
#define MEMO_SEEN_BITS (1<<17)

struct StmtMemo {
  uint64_t aSeen[MEMO_SEEN_BITS/64];  /* the Bloom filter of lists seen */
  int nSeen;                  /* lists it took since it was emptied */
  MemoEntry **aSlot;          /* open addressing, linear probing */
  int nSlot;                  /* a power of two; at most half used */
  int nEntry;
  sqlite3_int64 nBytes;       /* what the entries and slots take */
  sqlite3_int64 gen;          /* Cachier.memoGen its entries are valid for */
  sqlite3_int64 settingsGen;  /* Cachier.settingsGen, likewise */
};

#define MEMO_FIRST_SLOTS 64
#define MEMO_ENTRY_OVERHEAD 32     /* allocator and slot, roughly */


static void entryFree(MemoEntry *e){
  if( e->aShared ) cachierSharedRelease(e->aShared);
  sqlite3_free(e);
}

/* Drop every entry (the slots stay). */
static void memoEmpty(StmtMemo *m){
  int i;
  if( m->nEntry==0 ) return;
  for(i=0; i<m->nSlot; i++){
    if( m->aSlot[i] ){
      entryFree(m->aSlot[i]);
      m->aSlot[i] = 0;
    }
  }
  m->nEntry = 0;
  m->nBytes = (sqlite3_int64)sizeof(MemoEntry*)*m->nSlot;
}

void memoFree(StmtMemo *m){
  if( m ){
    memoEmpty(m);
    sqlite3_free(m->aSlot);
    sqlite3_free(m);
  }
}

/* Bring m to p's generations: empty it if this connection changed
** anything it may hold since it was filled. */
static void memoSync(StmtMemo *m, Cachier *p){
  if( m->gen!=p->memoGen || m->settingsGen!=p->settingsGen ){
    memoEmpty(m);
    m->gen = p->memoGen;
    m->settingsGen = p->settingsGen;
  }
}

/* The entry of the encoded arguments aArgs (h: their keyArgsHash(0, )), or
** NULL. */
MemoEntry *memoFind(StmtMemo *m, Cachier *p, const unsigned char *aArgs,
                    sqlite3_int64 nArgs, uint64_t h){
  unsigned i;
  MemoEntry *e;
  memoSync(m, p);
  if( m->nEntry==0 ) return 0;
  for(i=(unsigned)h & (unsigned)(m->nSlot-1); (e = m->aSlot[i])!=0;
      i=(i+1) & (unsigned)(m->nSlot-1)){
    if( e->h==h && e->nKey==nArgs && keyBytesEq(e->aKey, aArgs, nArgs) ){
      return e;
    }
  }
  return 0;
}

/* Serve e as the result of ctx: numbers as they are, text and blobs as a
** reference to the entry's bytes. */
void memoResult(sqlite3_context *ctx, const MemoEntry *e){
  switch( e->eType ){
    case SQLITE_INTEGER: sqlite3_result_int64(ctx, e->iVal); break;
    case SQLITE_FLOAT:   sqlite3_result_double(ctx, e->rVal); break;
    case SQLITE_TEXT:
      cachierSharedRef(e->aShared);
      sqlite3_result_text64(ctx, (const char*)e->aShared,
                            (sqlite3_uint64)e->nVal, cachierSharedRelease,
                            SQLITE_UTF8);
      break;
    case SQLITE_BLOB:
      cachierSharedRef(e->aShared);
      sqlite3_result_blob64(ctx, e->aShared, (sqlite3_uint64)e->nVal,
                            cachierSharedRelease);
      break;
    default: sqlite3_result_null(ctx); break;
  }
  if( e->subtype ) sqlite3_result_subtype(ctx, (unsigned int)e->subtype);
}

/* Double the slots (rehash); 0 if out of memory (then nothing enters). */
static int memoGrow(StmtMemo *m){
  int nNew = m->nSlot ? m->nSlot*2 : MEMO_FIRST_SLOTS, i;
  MemoEntry **aNew = sqlite3_malloc64(sizeof(MemoEntry*)*(sqlite3_uint64)nNew);
  if( aNew==0 ) return 0;
  memset(aNew, 0, sizeof(MemoEntry*)*(size_t)nNew);
  for(i=0; i<m->nSlot; i++){
    MemoEntry *e = m->aSlot[i];
    if( e ){
      unsigned j = (unsigned)e->h & (unsigned)(nNew-1);
      while( aNew[j] ) j = (j+1) & (unsigned)(nNew-1);
      aNew[j] = e;
    }
  }
  m->nBytes += (sqlite3_int64)sizeof(MemoEntry*)*(nNew - m->nSlot);
  sqlite3_free(m->aSlot);
  m->aSlot = aNew;
  m->nSlot = nNew;
  return 1;
}

/* 1 if the argument list of hash h was seen before (by the filter);
** else 0, and it is seen now. */
static int memoSeen(StmtMemo *m, uint64_t h){
  unsigned b1 = (unsigned)(h >> 20) & (MEMO_SEEN_BITS-1);
  unsigned b2 = (unsigned)(h >> 40) & (MEMO_SEEN_BITS-1);
  uint64_t m1 = (uint64_t)1 << (b1 & 63), m2 = (uint64_t)1 << (b2 & 63);
  if( (m->aSeen[b1>>6] & m1) && (m->aSeen[b2>>6] & m2) ) return 1;
  if( ++m->nSeen > MEMO_SEEN_BITS/8 ){
    memset(m->aSeen, 0, sizeof(m->aSeen));
    m->nSeen = 1;
  }
  m->aSeen[b1>>6] |= m1;
  m->aSeen[b2>>6] |= m2;
  return 0;
}

/* Offer the value of an argument list (aArgs; h: its keyArgsHash(0, )) to
** the memo *pm (made if NULL, then seen once already: hSeen, the hash of an
** argument list seen before it existed). It enters at its second sight,
** within maxBytes. */
void memoFill(StmtMemo **pm, Cachier *p, sqlite3_int64 maxBytes,
              uint64_t hSeen, const unsigned char *aArgs, sqlite3_int64 nArgs,
              uint64_t h, sqlite3_value *pValue, int subtype, double created,
              sqlite3_int64 id){
  StmtMemo *m = *pm;
  MemoEntry *e;
  int eType;
  const void *a = 0;
  sqlite3_int64 nVal = 0, nCost;
  unsigned i;
  if( maxBytes<=0 ) return;
  if( m==0 ){
    m = sqlite3_malloc(sizeof(*m));
    if( m==0 ) return;
    memset(m, 0, sizeof(*m));
    m->gen = p->memoGen;
    m->settingsGen = p->settingsGen;
    *pm = m;
    memoSeen(m, hSeen);
  }
  memoSync(m, p);
  /* First sight: remembered only (before the value is looked at: a scan
  ** of all-distinct keys stops here). */
  if( !memoSeen(m, h) ) return;
  /* The pointer first, then its size (as SQLite advises, and hot.c does:
  ** the size is then that of what the pointer holds). */
  eType = sqlite3_value_type(pValue);
  if( eType==SQLITE_TEXT || eType==SQLITE_BLOB ){
    a = eType==SQLITE_TEXT ? (const void*)sqlite3_value_text(pValue)
                           : sqlite3_value_blob(pValue);
    nVal = sqlite3_value_bytes(pValue);
  }
  nCost = (sqlite3_int64)sizeof(MemoEntry) + nArgs + nVal
        + MEMO_ENTRY_OVERHEAD;
  /* Full: nothing more enters (the slots grow with the entries). */
  if( m->nBytes + nCost > maxBytes ){
    return;
  }
  if( 2*(m->nEntry+1) > m->nSlot && !memoGrow(m) ) return;
  for(i=(unsigned)h & (unsigned)(m->nSlot-1); (e = m->aSlot[i])!=0;
      i=(i+1) & (unsigned)(m->nSlot-1)){
    if( e->h==h && e->nKey==nArgs && keyBytesEq(e->aKey, aArgs, nArgs) ){
      break;                  /* (replaced: a stale value was recomputed) */
    }
  }
  e = sqlite3_malloc64(sizeof(MemoEntry) + (sqlite3_uint64)nArgs);
  if( e==0 ) return;
  memset(e, 0, sizeof(*e));
  e->h = h;
  e->nKey = nArgs;
  memcpy(e->aKey, aArgs, (size_t)nArgs);
  e->eType = eType;
  e->subtype = subtype;
  e->created = created;
  e->id = id;
  switch( eType ){
    case SQLITE_INTEGER: e->iVal = sqlite3_value_int64(pValue); break;
    case SQLITE_FLOAT:   e->rVal = sqlite3_value_double(pValue); break;
    case SQLITE_TEXT:
    case SQLITE_BLOB: {
      if( a==0 && nVal>0 ){
        sqlite3_free(e);
        return;
      }
      e->aShared = cachierSharedNew(a, nVal);
      if( e->aShared==0 ){
        sqlite3_free(e);
        return;
      }
      e->nVal = nVal;
      break;
    }
    default: break;
  }
  if( m->aSlot[i] ){
    MemoEntry *pOld = m->aSlot[i];
    m->nBytes -= (sqlite3_int64)sizeof(MemoEntry) + pOld->nKey + pOld->nVal
               + MEMO_ENTRY_OVERHEAD;
    entryFree(pOld);
    m->nEntry--;
  }
  m->aSlot[i] = e;
  m->nEntry++;
  m->nBytes += nCost;
}

/* This connection changed what a store would serve: every statement's
** memo empties before its next lookup. */
void cachierMemoChanged(Cachier *p){
  p->memoGen++;
}
