/*
** json.c - a reader of JSON objects, for memoize_with()'s options.
**
** No SQL surface. It accepts exactly the text SQLite 3.40's json_valid()
** accepts, and decodes keys and values as its json_each() does, so options
** read here mean what they meant when json_each() read them on the user's
** connection (settings.c says why they no longer are).
*/
#include "cachier.h"
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 2000       /* nesting, as SQLite's */

static int jsonIsSpace(char c){
  return c==' ' || c=='\t' || c=='\n' || c=='\r';
}
static int jsonIsHex(char c){
  return (c>='0' && c<='9') || (c>='a' && c<='f') || (c>='A' && c<='F');
}
static int jsonIsAlnum(char c){
  return (c>='0' && c<='9') || (c>='a' && c<='z') || (c>='A' && c<='Z');
}

/* Read the JSON value at z[i] into *pTok (containers whole). Returns the
** index past it; -1 on a syntax error; -2 at a '}', -3 at a ']' (an empty
** object or array); 0 at the end of the text. As SQLite 3.40's
** jsonParseValue(). */
static int jsonValue(const char *z, int i, int *piDepth, JsonTok *pTok){
  int j, x, bFirst;
  char c;
  JsonTok t;
  while( jsonIsSpace(z[i]) ) i++;
  pTok->z = &z[i];
  c = z[i];
  if( c=='{' || c=='[' ){
    char cEnd = c=='{' ? '}' : ']';
    for(j=i+1, bFirst=1;; j++, bFirst=0){
      while( jsonIsSpace(z[j]) ) j++;
      if( ++*piDepth > JSON_MAX_DEPTH ) return -1;
      x = jsonValue(z, j, piDepth, &t);
      if( x<=0 ){             /* (0: the text ends inside it) */
        --*piDepth;
        if( x==(c=='{' ? -2 : -3) && bFirst ){ j++; break; }
        return -1;
      }
      if( c=='{' ){
        if( t.eType!=JTOK_TEXT ) return -1;
        j = x;
        while( jsonIsSpace(z[j]) ) j++;
        if( z[j]!=':' ) return -1;
        x = jsonValue(z, j+1, piDepth, &t);
        if( x<=0 ) return -1;
      }
      --*piDepth;
      j = x;
      while( jsonIsSpace(z[j]) ) j++;
      if( z[j]==',' ) continue;
      if( z[j]!=cEnd ) return -1;
      j++;
      break;
    }
    pTok->eType = c=='{' ? JTOK_OBJECT : JTOK_ARRAY;
  }else if( c=='"' ){
    for(j=i+1;; j++){
      c = z[j];
      if( (c & ~0x1f)==0 ) return -1;   /* a control character */
      if( c=='\\' ){
        c = z[++j];
        if( !(c=='"' || c=='\\' || c=='/' || c=='b' || c=='f' || c=='n'
              || c=='r' || c=='t'
              || (c=='u' && jsonIsHex(z[j+1]) && jsonIsHex(z[j+2])
                  && jsonIsHex(z[j+3]) && jsonIsHex(z[j+4]))) ){
          return -1;
        }
      }else if( c=='"' ){
        break;
      }
    }
    j++;
    pTok->eType = JTOK_TEXT;
  }else if( c=='n' && strncmp(&z[i], "null", 4)==0 && !jsonIsAlnum(z[i+4]) ){
    j = i+4;
    pTok->eType = JTOK_NULL;
  }else if( c=='t' && strncmp(&z[i], "true", 4)==0 && !jsonIsAlnum(z[i+4]) ){
    j = i+4;
    pTok->eType = JTOK_TRUE;
  }else if( c=='f' && strncmp(&z[i], "false", 5)==0
         && !jsonIsAlnum(z[i+5]) ){
    j = i+5;
    pTok->eType = JTOK_FALSE;
  }else if( c=='-' || (c>='0' && c<='9') ){
    int bReal = 0, bExp = 0;
    j = c=='-' ? i+1 : i;
    if( z[j]=='0' && z[j+1]>='0' && z[j+1]<='9' ) return -1;
    for(j=i+1;; j++){
      c = z[j];
      if( c>='0' && c<='9' ) continue;
      if( c=='.' ){
        if( z[j-1]=='-' || bReal ) return -1;
        bReal = 1;
        continue;
      }
      if( c=='e' || c=='E' ){
        if( z[j-1]<'0' || bExp ) return -1;
        bReal = bExp = 1;
        if( z[j+1]=='+' || z[j+1]=='-' ) j++;
        if( z[j+1]<'0' || z[j+1]>'9' ) return -1;
        continue;
      }
      break;
    }
    if( z[j-1]<'0' ) return -1;
    pTok->eType = bReal ? JTOK_REAL : JTOK_INTEGER;
  }else{
    return c=='}' ? -2 : c==']' ? -3 : c==0 ? 0 : -1;
  }
  pTok->n = j - i;
  return j;
}

static unsigned jsonHex4(const char *z){
  unsigned v = 0;
  int i;
  for(i=0; i<4; i++){
    char c = z[i];
    v = (v<<4) + (unsigned)(c<='9' ? c-'0' : (c|0x20)-'a'+10);
  }
  return v;
}

/* The text of string token *pTok, unescaped as json_each() does (a \u0000
** ends it). NULL on OOM. */
char *jsonText(const JsonTok *pTok){
  const char *z = pTok->z;
  int n = pTok->n, i, j;
  char *zOut = sqlite3_malloc64(n+1);
  if( zOut==0 ) return 0;
  for(i=1, j=0; i<n-1; i++){
    char c = z[i];
    unsigned v, vlo;
    if( c!='\\' ){
      zOut[j++] = c;
      continue;
    }
    c = z[++i];
    if( c!='u' ){
      zOut[j++] = c=='b' ? '\b' : c=='f' ? '\f' : c=='n' ? '\n'
                : c=='r' ? '\r' : c=='t' ? '\t' : c;
      continue;
    }
    v = jsonHex4(&z[i+1]);
    i += 4;
    if( v==0 ) break;
    if( v<=0x7f ){
      zOut[j++] = (char)v;
    }else if( v<=0x7ff ){
      zOut[j++] = (char)(0xc0 | (v>>6));
      zOut[j++] = (char)(0x80 | (v&0x3f));
    }else if( (v&0xfc00)==0xd800 && i<n-6 && z[i+1]=='\\' && z[i+2]=='u'
           && ((vlo = jsonHex4(&z[i+3]))&0xfc00)==0xdc00 ){
      v = ((v&0x3ff)<<10) + (vlo&0x3ff) + 0x10000;   /* a surrogate pair */
      i += 6;
      zOut[j++] = (char)(0xf0 | (v>>18));
      zOut[j++] = (char)(0x80 | ((v>>12)&0x3f));
      zOut[j++] = (char)(0x80 | ((v>>6)&0x3f));
      zOut[j++] = (char)(0x80 | (v&0x3f));
    }else{
      zOut[j++] = (char)(0xe0 | (v>>12));
      zOut[j++] = (char)(0x80 | ((v>>6)&0x3f));
      zOut[j++] = (char)(0x80 | (v&0x3f));
    }
  }
  zOut[j] = 0;
  return zOut;
}

/* The number of token *pTok (JTOK_INTEGER or JTOK_REAL) as json_each()
** gives it: SQLITE_INTEGER with *pI (and *pR), or SQLITE_FLOAT with *pR
** (a real, or an integer past 64 bits, as SQLite's jsonReturn()). */
int jsonNumber(const JsonTok *pTok, sqlite3_int64 *pI, double *pR){
  const sqlite3_int64 mx = (sqlite3_int64)(((sqlite3_uint64)1<<63) - 1);
  const char *z = pTok->z;
  int bNeg = z[0]=='-', k;
  sqlite3_int64 i = 0;
  char *zNum;
  if( pTok->eType==JTOK_INTEGER ){
    for(k=bNeg; k<pTok->n; k++){
      int v = z[k] - '0';
      if( i>=mx/10 ){
        if( i>mx/10 || k+1<pTok->n || v==9 ) goto as_real;
        if( v==8 ){
          if( !bNeg ) goto as_real;
          *pI = -mx - 1;
          *pR = (double)*pI;
          return SQLITE_INTEGER;
        }
      }
      i = i*10 + v;
    }
    *pI = bNeg ? -i : i;
    *pR = (double)*pI;
    return SQLITE_INTEGER;
  }
as_real:
  zNum = sqlite3_mprintf("%.*s", pTok->n, z);
  *pR = zNum ? strtod(zNum, 0) : 0.0;
  sqlite3_free(zNum);
  *pI = 0;
  return SQLITE_FLOAT;
}

/* True if z is a JSON object (surrounding white space allowed); then
** *pi is where jsonObjectNext() starts reading its members. */
int jsonObjectCheck(const char *z, int *pi){
  JsonTok tok;
  int iDepth = 0;
  int i = jsonValue(z, 0, &iDepth, &tok);
  if( i<=0 || tok.eType!=JTOK_OBJECT ) return 0;
  while( jsonIsSpace(z[i]) ) i++;
  if( z[i] ) return 0;
  *pi = (int)(tok.z - z) + 1;
  return 1;
}

/* The next member of the object that jsonObjectCheck() accepted: its key
** and value, in document order (a repeated key too). 0 past the last. */
int jsonObjectNext(const char *z, int *pi, JsonTok *pKey, JsonTok *pVal){
  int iDepth = 1;             /* the members' depth, as when checked */
  int i = *pi;
  if( i<=0 || z[i-1]=='}' ) return 0;
  i = jsonValue(z, i, &iDepth, pKey);
  if( i<0 ) return 0;         /* -2: the empty object */
  while( z[i]!=':' ) i++;
  i = jsonValue(z, i+1, &iDepth, pVal);
  while( z[i]!=',' && z[i]!='}' ) i++;
  *pi = i+1;
  return 1;
}
