/*
** sha256.c - SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), portable C.
**
** Used by seal.c to MAC the settings that reach code or the outside world.
** No SQL surface, except in test builds:
**   cachier_test_sha256(X)         hex SHA-256 of blob/text X
**   cachier_test_hmac(KEY, X)      hex HMAC-SHA-256 of X under KEY
** which tests/trust.test checks against the FIPS 180-4 and RFC 4231
** vectors.
*/
#include "cachier.h"
#include <string.h>

static const uint32_t aK[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
  0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* Process one 64-byte block. */
static void sha256Block(Sha256 *c, const unsigned char *b){
  uint32_t w[64], s[8], t1, t2;
  int i;
  for(i=0; i<16; i++){
    w[i] = (uint32_t)b[4*i]<<24 | (uint32_t)b[4*i+1]<<16
         | (uint32_t)b[4*i+2]<<8 | (uint32_t)b[4*i+3];
  }
  for(i=16; i<64; i++){
    uint32_t s0 = ROTR(w[i-15], 7) ^ ROTR(w[i-15], 18) ^ (w[i-15] >> 3);
    uint32_t s1 = ROTR(w[i-2], 17) ^ ROTR(w[i-2], 19) ^ (w[i-2] >> 10);
    w[i] = w[i-16] + s0 + w[i-7] + s1;
  }
  memcpy(s, c->h, sizeof(s));
  for(i=0; i<64; i++){
    t1 = s[7] + (ROTR(s[4], 6) ^ ROTR(s[4], 11) ^ ROTR(s[4], 25))
       + ((s[4] & s[5]) ^ (~s[4] & s[6])) + aK[i] + w[i];
    t2 = (ROTR(s[0], 2) ^ ROTR(s[0], 13) ^ ROTR(s[0], 22))
       + ((s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]));
    memmove(&s[1], &s[0], 7*sizeof(s[0]));
    s[4] += t1;
    s[0] = t1 + t2;
  }
  for(i=0; i<8; i++) c->h[i] += s[i];
}

void sha256Init(Sha256 *c){
  static const uint32_t aH0[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
  };
  memcpy(c->h, aH0, sizeof(aH0));
  c->nBytes = 0;
  c->nBuf = 0;
}

void sha256Update(Sha256 *c, const void *pData, size_t n){
  const unsigned char *a = (const unsigned char*)pData;
  c->nBytes += n;
  while( n>0 ){
    size_t k = 64 - c->nBuf;
    if( k>n ) k = n;
    memcpy(c->aBuf + c->nBuf, a, k);
    c->nBuf += (unsigned)k;
    a += k;
    n -= k;
    if( c->nBuf==64 ){
      sha256Block(c, c->aBuf);
      c->nBuf = 0;
    }
  }
}

void sha256Final(Sha256 *c, unsigned char aOut[SHA256_BYTES]){
  uint64_t nBits = c->nBytes * 8;
  unsigned char aLen[8];
  int i;
  for(i=0; i<8; i++) aLen[i] = (unsigned char)(nBits >> (56 - 8*i));
  sha256Update(c, "\x80", 1);
  while( c->nBuf!=56 ) sha256Update(c, "", 1);
  sha256Update(c, aLen, 8);
  for(i=0; i<8; i++){
    aOut[4*i]   = (unsigned char)(c->h[i] >> 24);
    aOut[4*i+1] = (unsigned char)(c->h[i] >> 16);
    aOut[4*i+2] = (unsigned char)(c->h[i] >> 8);
    aOut[4*i+3] = (unsigned char)(c->h[i]);
  }
}

/* HMAC: start hashing a message under aKey[0..nKey) (any length). */
void hmacInit(Hmac *m, const unsigned char *aKey, size_t nKey){
  unsigned char aPad[64], aHashed[SHA256_BYTES];
  int i;
  if( nKey>64 ){
    sha256Init(&m->inner);
    sha256Update(&m->inner, aKey, nKey);
    sha256Final(&m->inner, aHashed);
    aKey = aHashed;
    nKey = SHA256_BYTES;
  }
  memset(aPad, 0, sizeof(aPad));
  if( nKey>0 ) memcpy(aPad, aKey, nKey);
  for(i=0; i<64; i++) aPad[i] ^= 0x36;
  sha256Init(&m->inner);
  sha256Update(&m->inner, aPad, 64);
  for(i=0; i<64; i++) aPad[i] ^= 0x36 ^ 0x5c;
  sha256Init(&m->outer);
  sha256Update(&m->outer, aPad, 64);
  memset(aPad, 0, sizeof(aPad));
  memset(aHashed, 0, sizeof(aHashed));
}

void hmacUpdate(Hmac *m, const void *pData, size_t n){
  sha256Update(&m->inner, pData, n);
}

void hmacFinal(Hmac *m, unsigned char aOut[SHA256_BYTES]){
  unsigned char aInner[SHA256_BYTES];
  sha256Final(&m->inner, aInner);
  sha256Update(&m->outer, aInner, SHA256_BYTES);
  sha256Final(&m->outer, aOut);
  memset(m, 0, sizeof(*m));
}

#ifdef CACHIER_TEST
static void resultHex(sqlite3_context *ctx, const unsigned char *a, int n){
  char z[2*SHA256_BYTES+1];
  int i;
  for(i=0; i<n; i++){
    z[2*i] = "0123456789abcdef"[a[i]>>4];
    z[2*i+1] = "0123456789abcdef"[a[i]&15];
  }
  sqlite3_result_text(ctx, z, 2*n, SQLITE_TRANSIENT);
}

/* cachier_test_sha256(X): hex SHA-256 of X's bytes. */
static void testSha256Func(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv){
  unsigned char aOut[SHA256_BYTES];
  Sha256 c;
  (void)argc;
  sha256Init(&c);
  sha256Update(&c, sqlite3_value_blob(argv[0]),
               (size_t)sqlite3_value_bytes(argv[0]));
  sha256Final(&c, aOut);
  resultHex(ctx, aOut, SHA256_BYTES);
}

/* cachier_test_hmac(KEY, X): hex HMAC-SHA-256 of X under KEY. */
static void testHmacFunc(sqlite3_context *ctx, int argc,
                         sqlite3_value **argv){
  unsigned char aOut[SHA256_BYTES];
  Hmac m;
  (void)argc;
  hmacInit(&m, sqlite3_value_blob(argv[0]),
           (size_t)sqlite3_value_bytes(argv[0]));
  hmacUpdate(&m, sqlite3_value_blob(argv[1]),
             (size_t)sqlite3_value_bytes(argv[1]));
  hmacFinal(&m, aOut);
  resultHex(ctx, aOut, SHA256_BYTES);
}

const CachierFunction cachierSha256TestFunctions[] = {
  { "cachier_test_sha256", 1, CACHIER_FN_PURE, testSha256Func },
  { "cachier_test_hmac",   2, CACHIER_FN_PURE, testHmacFunc },
  { 0, 0, 0, 0 }
};
#endif
