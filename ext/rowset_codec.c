/*
** rowset_codec.c - a query's whole result set as one value (a BLOB): the
** value of a cachier_query entry (vtab_query.c).
**
** No SQL surface. The format ("persistent formats" in cachier.h):
**
**     CACHIER_ROWSET_V1:1 byte | varint(nCol) | nRow:8 bytes big-endian
**     | { value }*(nRow*nCol), row after row
**
** where each value is encoded as key_codec.c encodes an argument (its
** SQLite type, its subtype if it has one, 8 bytes for INTEGER and REAL
** (REAL by its bit pattern: -0.0 stays -0.0), varint(length) and the bytes
** for TEXT and BLOB), so a row set reads back with the same types, bytes
** and JSON subtypes as the query returned.
*/
#include "cachier.h"
#include <string.h>

/* Run pStmt (bound, not yet stepped) to its end, encoding every row into
** pOut (replacing its contents). On error the statement's code (its
** message is the connection's), SQLITE_NOMEM or SQLITE_TOOBIG. The
** statement is reset either way. */
int rowsetEncode(sqlite3_stmt *pStmt, KeyBuf *pOut){
  int nCol = sqlite3_column_count(pStmt);
  sqlite3_int64 iRowCount, nRow = 0;
  int rc, i;
  pOut->n = 0;
  rc = keyBufReserve(pOut, 1 + 10 + 8);
  if( rc ){
    sqlite3_reset(pStmt);
    return rc;
  }
  pOut->a[pOut->n++] = CACHIER_ROWSET_V1;
  for(i=nCol; ; i>>=7){
    pOut->a[pOut->n++] = (unsigned char)((i>=0x80 ? 0x80 : 0) | (i & 0x7f));
    if( i<0x80 ) break;
  }
  iRowCount = pOut->n;
  pOut->n += CACHIER_ROWSET_NROW_B;
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    for(i=0; i<nCol && rc==SQLITE_ROW; i++){
      if( keyEncodeValue(pOut, sqlite3_column_value(pStmt, i)) ){
        rc = SQLITE_NOMEM;
      }
    }
    if( rc!=SQLITE_ROW ) break;
    nRow++;
  }
  if( rc==SQLITE_DONE ){
    rc = sqlite3_reset(pStmt);
  }else if( rc==SQLITE_NOMEM ){
    sqlite3_reset(pStmt);
  }else{
    int rcReset = sqlite3_reset(pStmt);
    if( rcReset ) rc = rcReset;
  }
  if( rc ) return rc;
  for(i=0; i<CACHIER_ROWSET_NROW_B; i++){
    pOut->a[iRowCount+i] = (unsigned char)
        ((uint64_t)nRow >> (8*(CACHIER_ROWSET_NROW_B - 1 - i)));
  }
  return SQLITE_OK;
}

/* The offset past the value at a[i], or -1 if it does not fit in a[0..n)
** or has an unknown type. */
static sqlite3_int64 rowsetSkip(const unsigned char *a, sqlite3_int64 n,
                                sqlite3_int64 i){
  int tag;
  uint64_t len = 0;
  int shift = 0;
  if( i>=n ) return -1;
  tag = a[i++];
  if( tag & 0x80 ) i++;               /* the subtype byte */
  switch( tag & 0x7f ){
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
      i += 8;
      break;
    case SQLITE_TEXT:
    case SQLITE_BLOB:
      for(;;){
        if( i>=n || shift>56 ) return -1;
        len |= (uint64_t)(a[i] & 0x7f) << shift;
        shift += 7;
        if( (a[i++] & 0x80)==0 ) break;
      }
      if( len>(uint64_t)(n-i) ) return -1;
      i += (sqlite3_int64)len;
      break;
    case SQLITE_NULL:
      break;
    default:
      return -1;
  }
  return i<=n ? i : -1;
}

/* Open the row set a[0..n) of nColExpect columns: check that it is one,
** every value well formed, before any row is read. OUT: the row count and
** the offset of its first value. SQLITE_CORRUPT if not. */
int rowsetOpen(const unsigned char *a, sqlite3_int64 n, int nColExpect,
               sqlite3_int64 *pnRow, sqlite3_int64 *piFirst){
  sqlite3_int64 i = 1, nRow = 0, j;
  uint64_t nCol = 0;
  int shift = 0;
  if( a==0 || n<1 || a[0]!=CACHIER_ROWSET_V1 ) return SQLITE_CORRUPT;
  for(;;){
    if( i>=n || shift>28 ) return SQLITE_CORRUPT;
    nCol |= (uint64_t)(a[i] & 0x7f) << shift;
    shift += 7;
    if( (a[i++] & 0x80)==0 ) break;
  }
  if( nCol!=(uint64_t)nColExpect || i+CACHIER_ROWSET_NROW_B>n ){
    return SQLITE_CORRUPT;
  }
  for(j=0; j<CACHIER_ROWSET_NROW_B; j++){
    nRow = (sqlite3_int64)(((uint64_t)nRow << 8) | a[i+j]);
  }
  i += CACHIER_ROWSET_NROW_B;
  if( nRow<0 || (nCol>0 && (uint64_t)nRow > (uint64_t)(n-i)/nCol)
   || (nRow==0 && i!=n) ){
    return SQLITE_CORRUPT;      /* each value is one byte at least */
  }
  *piFirst = i;
  *pnRow = nRow;
  for(j=0; (sqlite3_int64)j<nRow*(sqlite3_int64)nCol && i>=0; j++){
    i = rowsetSkip(a, n, i);
  }
  return i==n ? SQLITE_OK : SQLITE_CORRUPT;
}

/* The offsets of the nCol values of the row at a[*pi] into aOff[], moving
** *pi to the next row. bLast: the row set must end after this row.
** SQLITE_CORRUPT if a value does not fit or has an unknown type, or the
** last row is not the end (which a row set rowsetOpen() accepted never
** gives). */
int rowsetRow(const unsigned char *a, sqlite3_int64 n, int nCol, int bLast,
              sqlite3_int64 *pi, sqlite3_int64 *aOff){
  sqlite3_int64 i = *pi;
  int j;
  for(j=0; j<nCol; j++){
    aOff[j] = i;
    i = rowsetSkip(a, n, i);
    if( i<0 ) return SQLITE_CORRUPT;
  }
  if( bLast && i!=n ) return SQLITE_CORRUPT;
  *pi = i;
  return SQLITE_OK;
}

/* The longest text rowsetResult() hands over NUL-terminated. */
#define ROWSET_SHORT_TEXT 200

/* Return the value at a[iOff] (of a checked row set) as ctx's result,
** with its subtype. */
void rowsetResult(sqlite3_context *ctx, const unsigned char *a,
                  sqlite3_int64 n, sqlite3_int64 iOff){
  int tag = a[iOff++], subtype = 0, shift = 0, j;
  uint64_t u = 0;
  double r;
  if( tag & 0x80 ) subtype = a[iOff++];
  switch( tag & 0x7f ){
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
      for(j=0; j<8; j++) u = (u<<8) | a[iOff+j];
      if( (tag & 0x7f)==SQLITE_INTEGER ){
        sqlite3_result_int64(ctx, (sqlite3_int64)u);
      }else{
        memcpy(&r, &u, 8);
        sqlite3_result_double(ctx, r);
      }
      break;
    case SQLITE_TEXT:
    case SQLITE_BLOB:
      do{
        u |= (uint64_t)(a[iOff] & 0x7f) << shift;
        shift += 7;
      }while( a[iOff++] & 0x80 );
      if( (tag & 0x7f)==SQLITE_TEXT ){
        /* A short text without a NUL goes as a NUL-terminated string:
        ** SQLite then knows it is terminated and does not copy it again
        ** for sqlite3_column_text() (one reallocation a value saved). */
        char zShort[ROWSET_SHORT_TEXT+1];
        if( u<=ROWSET_SHORT_TEXT && memchr(&a[iOff], 0, (size_t)u)==0 ){
          memcpy(zShort, &a[iOff], (size_t)u);
          zShort[u] = 0;
          sqlite3_result_text(ctx, zShort, -1, SQLITE_TRANSIENT);
        }else{
          sqlite3_result_text64(ctx, (const char*)&a[iOff],
                                (sqlite3_uint64)u, SQLITE_TRANSIENT,
                                SQLITE_UTF8);
        }
      }else{
        sqlite3_result_blob64(ctx, &a[iOff], (sqlite3_uint64)u,
                              SQLITE_TRANSIENT);
      }
      break;
    default:
      sqlite3_result_null(ctx);
      break;
  }
  (void)n;
  if( subtype ) sqlite3_result_subtype(ctx, (unsigned int)subtype);
}
