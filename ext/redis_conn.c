/*
** redis_conn.c - store names of Redis servers, and one connection to one.
**
** SQL surface: the store names of cachier_functions.store that name a
** Redis server (store_redis.c keeps the entries there):
**   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?PARAMS]
**   unix:/PATH/TO/redis.sock[?PARAMS]
** PARAMS, '&'-separated, each optional:
**   prefix=P       keys begin with "P:" (default "cachier")
**   timeout_ms=N   the most one Redis operation may take (default 250)
**   lease_ms=N     how long an in-flight mark lives unless released: a
**                  crashed computation blocks its key no longer (60000)
**   retry_ms=N     after a failure, reconnect no sooner than this (1000)
**   db=N           (unix: names) the database to SELECT
**   password=P     (unix: names) the password to AUTH with
** PASSWORD and P may be %-encoded. The store's name as cachier shows it
** (cachier_entries.store) keeps only the server, db and prefix.
**
** The connection (see redis_conn.h) is blocking from the caller's view,
** with a deadline on every network call; it is never shared between
** threads (one per store, one store per SQLite connection).
*/
#include "redis_conn.h"
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define REDIS_DEFAULT_PORT     6379
#define REDIS_DEFAULT_TIMEOUT  250
#define REDIS_DEFAULT_LEASE    60000
#define REDIS_DEFAULT_RETRY    1000

/* ------------------------------------------------------------ names */

void redisConfigClear(RedisConfig *c){
  sqlite3_free(c->zHost);
  sqlite3_free(c->zSocket);
  sqlite3_free(c->zUser);
  sqlite3_free(c->zPassword);
  sqlite3_free(c->zPrefix);
  memset(c, 0, sizeof(*c));
}

static int hexValue(char c){
  if( c>='0' && c<='9' ) return c - '0';
  if( c>='a' && c<='f' ) return c - 'a' + 10;
  if( c>='A' && c<='F' ) return c - 'A' + 10;
  return -1;
}

/* z[0..n), %-decoded, as a new string; NULL on a bad escape or OOM. */
static char *decodePart(const char *z, int n){
  char *zOut = sqlite3_malloc(n+1);
  int i, j = 0;
  if( zOut==0 ) return 0;
  for(i=0; i<n; i++){
    if( z[i]=='%' ){
      int hi = i+2<n ? hexValue(z[i+1]) : -1;
      int lo = i+2<n ? hexValue(z[i+2]) : -1;
      if( i+2>=n ) hi = lo = -1;
      if( hi<0 || lo<0 || (hi==0 && lo==0) ){
        sqlite3_free(zOut);
        return 0;
      }
      zOut[j++] = (char)(hi*16 + lo);
      i += 2;
    }else{
      zOut[j++] = z[i];
    }
  }
  zOut[j] = 0;
  return zOut;
}

/* A decimal in z[0..n) within [lo, hi] into *pV: 0, else 1. */
static int parseInt(const char *z, int n, int lo, int hi, int *pV){
  long v = 0;
  int i;
  if( n<=0 || n>9 ) return 1;
  for(i=0; i<n; i++){
    if( z[i]<'0' || z[i]>'9' ) return 1;
    v = v*10 + (z[i]-'0');
  }
  if( v<lo || v>hi ) return 1;
  *pV = (int)v;
  return 0;
}

/* The ?PARAMS of a store name. */
static int parseParams(const char *z, RedisConfig *c, int bUnix,
                       char **pzWhy){
  while( *z ){
    const char *zAmp = strchr(z, '&');
    int n = zAmp ? (int)(zAmp - z) : (int)strlen(z);
    const char *zEq = memchr(z, '=', n);
    int nName = zEq ? (int)(zEq - z) : n;
    const char *zVal = zEq ? zEq+1 : z+n;
    int nVal = n - nName - (zEq ? 1 : 0);
#define IS(NAME) (nName==(int)strlen(NAME) && memcmp(z, NAME, nName)==0)
    if( zEq==0 ){
      *pzWhy = sqlite3_mprintf("parameter '%.*s' has no value", n, z);
      return SQLITE_ERROR;
    }
    if( IS("prefix") ){
      sqlite3_free(c->zPrefix);
      c->zPrefix = decodePart(zVal, nVal);
      if( c->zPrefix==0 || c->zPrefix[0]==0 ){
        *pzWhy = sqlite3_mprintf("prefix must be a non-empty text");
        return SQLITE_ERROR;
      }
    }else if( IS("timeout_ms") ){
      if( parseInt(zVal, nVal, 1, 600000, &c->timeoutMs) ){
        *pzWhy = sqlite3_mprintf("timeout_ms must be 1..600000");
        return SQLITE_ERROR;
      }
    }else if( IS("lease_ms") ){
      if( parseInt(zVal, nVal, 1, 86400000, &c->leaseMs) ){
        *pzWhy = sqlite3_mprintf("lease_ms must be 1..86400000");
        return SQLITE_ERROR;
      }
    }else if( IS("retry_ms") ){
      if( parseInt(zVal, nVal, 0, 86400000, &c->retryMs) ){
        *pzWhy = sqlite3_mprintf("retry_ms must be 0..86400000");
        return SQLITE_ERROR;
      }
    }else if( bUnix && IS("db") ){
      if( parseInt(zVal, nVal, 0, 1000000, &c->db) ){
        *pzWhy = sqlite3_mprintf("db must be a number");
        return SQLITE_ERROR;
      }
    }else if( bUnix && IS("password") ){
      sqlite3_free(c->zPassword);
      c->zPassword = decodePart(zVal, nVal);
      if( c->zPassword==0 ){
        *pzWhy = sqlite3_mprintf("bad %%-escape in the password");
        return SQLITE_ERROR;
      }
    }else{
      *pzWhy = sqlite3_mprintf("unknown parameter '%.*s' (known: prefix, "
                               "timeout_ms, lease_ms, retry_ms%s)", nName, z,
                               bUnix ? ", db, password" : "");
      return SQLITE_ERROR;
    }
#undef IS
    z += n;
    if( *z=='&' ) z++;
  }
  return SQLITE_OK;
}

/* Parse a redis:// or unix: store name into *c (redisConfigClear() it,
** also on error). SQLITE_OK, or SQLITE_ERROR with *pzWhy. */
int redisParseSpec(const char *zSpec, RedisConfig *c, char **pzWhy){
  const char *z, *zEnd, *zQ;
  memset(c, 0, sizeof(*c));
  c->port = REDIS_DEFAULT_PORT;
  c->timeoutMs = REDIS_DEFAULT_TIMEOUT;
  c->leaseMs = REDIS_DEFAULT_LEASE;
  c->retryMs = REDIS_DEFAULT_RETRY;
  *pzWhy = 0;
  if( strncmp(zSpec, "unix:", 5)==0 ){
    z = zSpec + 5;
    zQ = strchr(z, '?');
    zEnd = zQ ? zQ : z + strlen(z);
    if( z[0]!='/' || zEnd==z+1 ){
      *pzWhy = sqlite3_mprintf("'unix:' needs an absolute socket path, as in"
                               " 'unix:/run/redis/redis.sock'");
      return SQLITE_ERROR;
    }
    if( zEnd - z >= (int)sizeof(((struct sockaddr_un*)0)->sun_path) ){
      *pzWhy = sqlite3_mprintf("the socket path is too long");
      return SQLITE_ERROR;
    }
    c->zSocket = sqlite3_mprintf("%.*s", (int)(zEnd - z), z);
    if( c->zSocket==0 ) return SQLITE_NOMEM;
    if( zQ && parseParams(zQ+1, c, 1, pzWhy) ) return SQLITE_ERROR;
  }else if( strncmp(zSpec, "redis://", 8)==0 ){
    const char *zAt, *zHostEnd, *zSlash;
    z = zSpec + 8;
    zQ = strchr(z, '?');
    zEnd = zQ ? zQ : z + strlen(z);
    zAt = memchr(z, '@', zEnd - z);
    if( zAt ){
      const char *zColon = memchr(z, ':', zAt - z);
      if( zColon==0 ){
        *pzWhy = sqlite3_mprintf("write the password as ':PASSWORD@' "
                                 "(or 'USER:PASSWORD@')");
        return SQLITE_ERROR;
      }
      if( zColon>z ){
        c->zUser = decodePart(z, (int)(zColon - z));
        if( c->zUser==0 ){
          *pzWhy = sqlite3_mprintf("bad %%-escape in the user name");
          return SQLITE_ERROR;
        }
      }
      c->zPassword = decodePart(zColon+1, (int)(zAt - zColon - 1));
      if( c->zPassword==0 ){
        *pzWhy = sqlite3_mprintf("bad %%-escape in the password");
        return SQLITE_ERROR;
      }
      z = zAt + 1;
    }
    zSlash = memchr(z, '/', zEnd - z);
    zHostEnd = zSlash ? zSlash : zEnd;
    if( *z=='[' ){                      /* [IPv6]:port */
      const char *zClose = memchr(z, ']', zHostEnd - z);
      if( zClose==0 ){
        *pzWhy = sqlite3_mprintf("unclosed '[' in the host");
        return SQLITE_ERROR;
      }
      c->zHost = sqlite3_mprintf("%.*s", (int)(zClose - z - 1), z+1);
      z = zClose + 1;
    }else{
      const char *zColon = memchr(z, ':', zHostEnd - z);
      const char *zH = zColon ? zColon : zHostEnd;
      c->zHost = sqlite3_mprintf("%.*s", (int)(zH - z), z);
      z = zH;
    }
    if( c->zHost==0 ) return SQLITE_NOMEM;
    if( c->zHost[0]==0 ){
      *pzWhy = sqlite3_mprintf("no host, as in 'redis://127.0.0.1:6379'");
      return SQLITE_ERROR;
    }
    if( *z==':' ){
      if( parseInt(z+1, (int)(zHostEnd - z - 1), 1, 65535, &c->port) ){
        *pzWhy = sqlite3_mprintf("the port must be 1..65535");
        return SQLITE_ERROR;
      }
    }else if( z!=zHostEnd ){
      *pzWhy = sqlite3_mprintf("unexpected '%.*s' after the host",
                               (int)(zHostEnd - z), z);
      return SQLITE_ERROR;
    }
    if( zSlash && zSlash+1<zEnd
     && parseInt(zSlash+1, (int)(zEnd - zSlash - 1), 0, 1000000, &c->db) ){
      *pzWhy = sqlite3_mprintf("the database after '/' must be a number");
      return SQLITE_ERROR;
    }
    if( zQ && parseParams(zQ+1, c, 0, pzWhy) ) return SQLITE_ERROR;
  }else{
    *pzWhy = sqlite3_mprintf("not a Redis store name");
    return SQLITE_ERROR;
  }
  if( c->zPrefix==0 ){
    c->zPrefix = sqlite3_mprintf("cachier");
    if( c->zPrefix==0 ) return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

char *redisCanonicalName(const RedisConfig *c){
  if( c->zSocket ){
    return sqlite3_mprintf("unix:%s?db=%d&prefix=%s", c->zSocket, c->db,
                           c->zPrefix);
  }
  return sqlite3_mprintf(strchr(c->zHost, ':') ? "redis://[%s]:%d/%d?prefix=%s"
                         : "redis://%s:%d/%d?prefix=%s", c->zHost, c->port,
                         c->db, c->zPrefix);
}

/* ------------------------------------------------------------ commands */

void redisCmdInit(RedisCmd *c){
  c->argc = 0;
}
void redisCmdArg(RedisCmd *c, const void *a, size_t n){
  if( c->argc<REDIS_MAX_ARGS ){
    c->argv[c->argc] = (const char*)a;
    c->argvlen[c->argc] = n;
    c->argc++;
  }
}
void redisCmdStr(RedisCmd *c, const char *z){
  redisCmdArg(c, z, strlen(z));
}

/* ---------------------------------------------------------- connection */

void redisConnInit(RedisConn *pConn, const RedisConfig *pConfig, Cachier *p,
                   const char *zName){
  memset(pConn, 0, sizeof(*pConn));
  pConn->pConfig = pConfig;
  pConn->fd = -1;
  pConn->pCachier = p;
  pConn->zName = zName;
}

void redisConnClose(RedisConn *pConn){
  if( pConn->fd>=0 ) close(pConn->fd);
  pConn->fd = -1;
  if( pConn->pReader ) redisReaderFree(pConn->pReader);
  pConn->pReader = 0;
}

int redisConnUp(RedisConn *pConn){
  return pConn->fd>=0;
}

/* The operation failed: close the connection, remember why, and do not
** reconnect before the retry interval. Logged when it starts failing. */
static int connFail(RedisConn *pConn, const char *zWhy){
  int bWasDown = pConn->bDown;
  redisConnClose(pConn);
  pConn->bDown = 1;
  pConn->nFailures++;
  snprintf(pConn->zErr, sizeof(pConn->zErr), "%s", zWhy);
  pConn->retryAtNs = cachierMonotonicNs()
                   + (sqlite3_int64)pConn->pConfig->retryMs*1000000;
  if( !bWasDown ){
    cachierLog(pConn->pCachier, "cachier: store %s: %s; computing without "
               "it, reconnecting in %d ms at the earliest", pConn->zName,
               zWhy, pConn->pConfig->retryMs);
  }
  return SQLITE_IOERR;
}

/* Wait for fd to be ready for ev until deadlineNs: 1 ready, 0 timed out
** or failed. */
static int waitFd(int fd, short ev, sqlite3_int64 deadlineNs){
  for(;;){
    struct pollfd pfd;
    sqlite3_int64 left = deadlineNs - cachierMonotonicNs();
    int rc;
    if( left<=0 ) return 0;
    pfd.fd = fd;
    pfd.events = ev;
    pfd.revents = 0;
    rc = poll(&pfd, 1, (int)((left + 999999)/1000000));
    if( rc>0 ) return 1;
    if( rc==0 ) continue;         /* (re-checks the deadline) */
    if( errno!=EINTR ) return 0;
  }
}

/* Open a non-blocking socket connected to the server, or -1 with *pzWhy
** (static text). */
static int connectSocket(const RedisConfig *c, sqlite3_int64 deadlineNs,
                         const char **pzWhy){
  struct addrinfo hints, *aInfo = 0, *pI;
  char zPort[16];
  int fd = -1;
  *pzWhy = "cannot connect";
  if( c->zSocket ){
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, c->zSocket, strlen(c->zSocket));
    fd = socket(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);
    if( fd<0 ) return -1;
    if( connect(fd, (struct sockaddr*)&sa, sizeof(sa))==0 ) return fd;
    if( errno==EAGAIN || errno==EINPROGRESS ){
      if( waitFd(fd, POLLOUT, deadlineNs) ) return fd;
      *pzWhy = "connect timed out";
    }
    close(fd);
    return -1;
  }
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  snprintf(zPort, sizeof(zPort), "%d", c->port);
  /* (Name resolution is not under the deadline; it runs only when a
  ** connection is made.) */
  if( getaddrinfo(c->zHost, zPort, &hints, &aInfo)!=0 ){
    *pzWhy = "cannot resolve the host";
    return -1;
  }
  for(pI=aInfo; pI; pI=pI->ai_next){
    int err = 0;
    socklen_t nErr = sizeof(err);
    fd = socket(pI->ai_family, pI->ai_socktype|SOCK_NONBLOCK|SOCK_CLOEXEC,
                pI->ai_protocol);
    if( fd<0 ) continue;
    if( connect(fd, pI->ai_addr, pI->ai_addrlen)==0 ) break;
    if( errno==EINPROGRESS ){
      if( waitFd(fd, POLLOUT, deadlineNs)
       && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &nErr)==0 && err==0 ){
        break;
      }
      *pzWhy = err ? "connection refused" : "connect timed out";
    }else{
      *pzWhy = "connection refused";
    }
    close(fd);
    fd = -1;
  }
  freeaddrinfo(aInfo);
  if( fd>=0 ){
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return fd;
}

/* Send n bytes before the deadline: 0, else 1. */
static int sendAll(int fd, const char *a, size_t n, sqlite3_int64 deadlineNs){
  while( n>0 ){
    ssize_t k = send(fd, a, n, MSG_NOSIGNAL);
    if( k>0 ){
      a += k;
      n -= (size_t)k;
    }else if( k<0 && errno==EINTR ){
      continue;
    }else if( k<0 && (errno==EAGAIN || errno==EWOULDBLOCK) ){
      if( !waitFd(fd, POLLOUT, deadlineNs) ) return 1;
    }else{
      return 1;
    }
  }
  return 0;
}

/* Read one reply before the deadline: 0 with *ppReply, else 1 with
** *pzWhy. */
static int readReply(RedisConn *pConn, redisReply **ppReply,
                     sqlite3_int64 deadlineNs, const char **pzWhy){
  char aBuf[16384];
  *ppReply = 0;
  for(;;){
    void *pReply = 0;
    ssize_t k;
    if( redisReaderGetReply(pConn->pReader, &pReply)!=REDIS_OK ){
      *pzWhy = "protocol error";
      return 1;
    }
    if( pReply ){
      *ppReply = (redisReply*)pReply;
      return 0;
    }
    k = recv(pConn->fd, aBuf, sizeof(aBuf), 0);
    if( k>0 ){
      if( redisReaderFeed(pConn->pReader, aBuf, (size_t)k)!=REDIS_OK ){
        *pzWhy = "out of memory";
        return 1;
      }
    }else if( k==0 ){
      *pzWhy = "the server closed the connection";
      return 1;
    }else if( errno==EINTR ){
      continue;
    }else if( errno==EAGAIN || errno==EWOULDBLOCK ){
      if( !waitFd(pConn->fd, POLLIN, deadlineNs) ){
        *pzWhy = "no answer within timeout_ms";
        return 1;
      }
    }else{
      *pzWhy = "connection lost";
      return 1;
    }
  }
}

/* Send aCmd[0..nCmd) as one pipeline and read every reply, before
** deadlineNs. */
static int pipeline(RedisConn *pConn, int nCmd, RedisCmd *aCmd,
                    redisReply **apReply, sqlite3_int64 deadlineNs){
  const char *zWhy = "connection lost";
  char *aOut = 0;
  size_t nOut = 0;
  int i, bFail = 0;
  for(i=0; i<nCmd; i++) apReply[i] = 0;
  for(i=0; i<nCmd && !bFail; i++){
    char *zCmd = 0;
    int n = redisFormatCommandArgv(&zCmd, aCmd[i].argc, aCmd[i].argv,
                                   aCmd[i].argvlen);
    if( n<0 ){
      bFail = 1;
      zWhy = "out of memory";
    }else{
      char *aNew = sqlite3_realloc64(aOut, nOut + (size_t)n);
      if( aNew==0 ){
        bFail = 1;
        zWhy = "out of memory";
      }else{
        memcpy(aNew + nOut, zCmd, (size_t)n);
        aOut = aNew;
        nOut += (size_t)n;
      }
    }
    redisFreeCommand(zCmd);
  }
  if( !bFail && sendAll(pConn->fd, aOut, nOut, deadlineNs) ){
    bFail = 1;
    zWhy = "cannot send (timeout_ms or connection lost)";
  }
  sqlite3_free(aOut);
  for(i=0; i<nCmd && !bFail; i++){
    bFail = readReply(pConn, &apReply[i], deadlineNs, &zWhy);
  }
  if( bFail ){
    for(i=0; i<nCmd; i++){
      if( apReply[i] ) freeReplyObject(apReply[i]);
      apReply[i] = 0;
    }
    return connFail(pConn, zWhy);
  }
  return SQLITE_OK;
}

/* Connect (at most once per retry interval), authenticate, select the
** database and let the store prepare the connection. */
static int connOpen(RedisConn *pConn){
  const RedisConfig *c = pConn->pConfig;
  sqlite3_int64 now = cachierMonotonicNs();
  sqlite3_int64 deadlineNs = now + (sqlite3_int64)c->timeoutMs*1000000;
  const char *zWhy = 0;
  RedisCmd aCmd[2];
  redisReply *apReply[2];
  char zDb[16];
  int nCmd = 0, i, rc = SQLITE_OK;
  if( pConn->bDown && now<pConn->retryAtNs ) return SQLITE_IOERR;
  pConn->fd = connectSocket(c, deadlineNs, &zWhy);
  if( pConn->fd<0 ) return connFail(pConn, zWhy);
  pConn->pReader = redisReaderCreate();
  if( pConn->pReader==0 ) return connFail(pConn, "out of memory");
  if( c->zPassword ){
    redisCmdInit(&aCmd[nCmd]);
    redisCmdStr(&aCmd[nCmd], "AUTH");
    if( c->zUser ) redisCmdStr(&aCmd[nCmd], c->zUser);
    redisCmdStr(&aCmd[nCmd], c->zPassword);
    nCmd++;
  }
  if( c->db ){
    snprintf(zDb, sizeof(zDb), "%d", c->db);
    redisCmdInit(&aCmd[nCmd]);
    redisCmdStr(&aCmd[nCmd], "SELECT");
    redisCmdStr(&aCmd[nCmd], zDb);
    nCmd++;
  }
  if( nCmd ){
    rc = pipeline(pConn, nCmd, aCmd, apReply, deadlineNs);
    if( rc ) return rc;
    for(i=0; i<nCmd; i++){
      if( apReply[i]->type==REDIS_REPLY_ERROR && rc==SQLITE_OK ){
        char zMsg[200];
        snprintf(zMsg, sizeof(zMsg), "%s refused: %.150s",
                 i==0 && c->zPassword ? "AUTH" : "SELECT", apReply[i]->str);
        rc = SQLITE_ERROR;
        for(; i<nCmd; i++) freeReplyObject(apReply[i]);
        return connFail(pConn, zMsg);
      }
      freeReplyObject(apReply[i]);
    }
  }
  if( pConn->xOnConnect ){
    rc = pConn->xOnConnect(pConn, pConn->pOnConnectArg);
    if( rc ){
      if( pConn->fd>=0 ) return connFail(pConn, pConn->zErr[0] ? pConn->zErr
                                         : "cannot prepare the connection");
      return rc;
    }
  }
  if( pConn->bDown ){
    cachierLog(pConn->pCachier, "cachier: store %s: connected again",
               pConn->zName);
  }
  pConn->bDown = 0;
  pConn->zErr[0] = 0;
  return SQLITE_OK;
}

int redisRoundTrip(RedisConn *pConn, int nCmd, RedisCmd *aCmd,
                   redisReply **apReply){
  int rc = SQLITE_OK;
  if( pConn->fd<0 ) rc = connOpen(pConn);
  if( rc==SQLITE_OK ){
    rc = pipeline(pConn, nCmd, aCmd, apReply, cachierMonotonicNs()
                  + (sqlite3_int64)pConn->pConfig->timeoutMs*1000000);
  }
  return rc;
}

int redisRun(RedisConn *pConn, RedisCmd *pCmd, redisReply **ppReply){
  int rc = redisRoundTrip(pConn, 1, pCmd, ppReply);
  if( rc ){
    *ppReply = 0;
    return rc;
  }
  if( (*ppReply)->type==REDIS_REPLY_ERROR ){
    snprintf(pConn->zErr, sizeof(pConn->zErr), "%s", (*ppReply)->str);
    freeReplyObject(*ppReply);
    *ppReply = 0;
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* Read, without waiting, what the server pushed on a subscribed
** connection, handing each message to xMsg (it is freed after).
** SQLITE_OK, or SQLITE_IOERR if the connection is lost (it is closed:
** what it would have said is lost with it). */
int redisReadPushed(RedisConn *pConn,
                    void (*xMsg)(void*, const redisReply*), void *pArg){
  char aBuf[4096];
  if( pConn->fd<0 ) return SQLITE_IOERR;
  for(;;){
    void *pReply = 0;
    ssize_t k;
    if( redisReaderGetReply(pConn->pReader, &pReply)!=REDIS_OK ){
      return connFail(pConn, "protocol error");
    }
    if( pReply ){
      xMsg(pArg, (const redisReply*)pReply);
      freeReplyObject(pReply);
      continue;
    }
    k = recv(pConn->fd, aBuf, sizeof(aBuf), MSG_DONTWAIT);
    if( k>0 ){
      if( redisReaderFeed(pConn->pReader, aBuf, (size_t)k)!=REDIS_OK ){
        return connFail(pConn, "out of memory");
      }
    }else if( k<0 && (errno==EAGAIN || errno==EWOULDBLOCK) ){
      return SQLITE_OK;
    }else if( k<0 && errno==EINTR ){
      continue;
    }else{
      return connFail(pConn, k==0 ? "the server closed the connection"
                                  : "connection lost");
    }
  }
}
