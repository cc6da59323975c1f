/*
** redis_script.c - the Redis store's Lua scripts: loading them on a new
** connection and running them by their sha.
**
** No SQL surface. The scripts are sql/redis/NAME.lua, embedded by make
** (ext/redis_lua.h). Each runs after a prelude that defines, from the C
** definitions, the format numbers it uses (the header's offsets, the last
** slot of an entry id, the slot's hex digits), so the Lua writes none of
** its own.
*/
#include "redis_store.h"
#include "redis_lua.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const azScript[SCRIPT_COUNT] = {
  [SCRIPT_LOOKUP] = redisLuaLookup,   [SCRIPT_GET] = redisLuaGet,
  [SCRIPT_WRITE] = redisLuaWrite,     [SCRIPT_DELETE] = redisLuaDelete,
  [SCRIPT_DUE] = redisLuaDue,         [SCRIPT_RELEASE] = redisLuaRelease,
  [SCRIPT_HEADS] = redisLuaHeads,
};

/* Script iScript as sent to the server: the prelude, then the script
** (sqlite3_free it; NULL: out of memory). Lua positions count from 1. */
static char *scriptText(int iScript){
  return sqlite3_mprintf(
      "local ENTRY_FORMAT, HEADER_SIZE, LAST_SLOT = %d, %d, %d\n"
      "local POS_FORMAT, POS_SLOT, POS_CODEC, POS_CREATED = %d, %d, %d, %d\n"
      "local POS_COMPUTE, POS_NBYTES, POS_NARGS, POS_STAMP = %d, %d, %d, %d\n"
      "local SLOT_HEX, SLOT_FMT = %d, '%%0%dx'\n"
      "%s",
      REDIS_ENTRY_FORMAT, REDIS_HDR_SIZE, CACHIER_ID_LAST_SLOT,
      REDIS_HDR_FORMAT+1, REDIS_HDR_SLOT+1, REDIS_HDR_CODEC+1,
      REDIS_HDR_CREATED+1, REDIS_HDR_COMPUTE+1, REDIS_HDR_NBYTES+1,
      REDIS_HDR_NARGS+1, REDIS_HDR_STAMP+1, REDIS_SLOT_HEX, REDIS_SLOT_HEX, azScript[iScript]);
}

/* A new connection: load the scripts (their shas into aSha) and check the
** layout version. Once the server answered, *peFormat is STORE_READY,
** or STORE_NEWER if its keys are of a later layout (and left as it was if
** it did not). */
int redisScriptsLoad(RedisConn *pConn, const char *zPrefix,
                     char (*aSha)[41], int *peFormat){
  RedisCmd aCmd[SCRIPT_COUNT+2];
  redisReply *apReply[SCRIPT_COUNT+2];
  char *azText[SCRIPT_COUNT];
  char *zFormat = redisOwnKey(zPrefix, "format");
  char zVersion[8];
  int i, rc = zFormat ? SQLITE_OK : SQLITE_NOMEM;
  for(i=0; i<SCRIPT_COUNT; i++){
    azText[i] = scriptText(i);
    if( azText[i]==0 ) rc = SQLITE_NOMEM;
    redisCmdInit(&aCmd[i]);
    redisCmdStr(&aCmd[i], "SCRIPT");
    redisCmdStr(&aCmd[i], "LOAD");
    redisCmdStr(&aCmd[i], azText[i] ? azText[i] : "");
  }
  snprintf(zVersion, sizeof(zVersion), "%d", REDIS_LAYOUT_VERSION);
  redisCmdInit(&aCmd[i]);
  redisCmdStr(&aCmd[i], "SET");
  redisCmdStr(&aCmd[i], zFormat ? zFormat : "");
  redisCmdStr(&aCmd[i], zVersion);
  redisCmdStr(&aCmd[i], "NX");
  i++;
  redisCmdInit(&aCmd[i]);
  redisCmdStr(&aCmd[i], "GET");
  redisCmdStr(&aCmd[i], zFormat ? zFormat : "");
  if( rc==SQLITE_OK ) rc = redisRoundTrip(pConn, SCRIPT_COUNT+2, aCmd, apReply);
  sqlite3_free(zFormat);
  for(i=0; i<SCRIPT_COUNT; i++) sqlite3_free(azText[i]);
  if( rc ) return rc;
  for(i=0; i<SCRIPT_COUNT; i++){
    if( rc==SQLITE_OK && (apReply[i]->type!=REDIS_REPLY_STRING
                          || apReply[i]->len!=40) ){
      snprintf(pConn->zErr, sizeof(pConn->zErr), "SCRIPT LOAD failed: %.200s",
               apReply[i]->type==REDIS_REPLY_ERROR ? apReply[i]->str : "?");
      rc = SQLITE_ERROR;
    }else if( rc==SQLITE_OK ){
      memcpy(aSha[i], apReply[i]->str, 40);
      aSha[i][40] = 0;
    }
  }
  *peFormat = STORE_READY;
  if( apReply[SCRIPT_COUNT+1]->type==REDIS_REPLY_STRING
   && atoi(apReply[SCRIPT_COUNT+1]->str)>REDIS_LAYOUT_VERSION ){
    *peFormat = STORE_NEWER;
  }
  for(i=0; i<SCRIPT_COUNT+2; i++) freeReplyObject(apReply[i]);
  return rc;
}

/* Start a script command: three slots for redisRunScript(). */
void redisScriptInit(RedisCmd *pCmd){
  redisCmdInit(pCmd);
  pCmd->argc = 3;
}

/* Run script iScript with the keys and arguments of pCmd (argv[0..2]
** left for EVALSHA, its sha and the key count), loading it again if the
** server lost it. */
int redisRunScript(RedisStore *s, int iScript, int nKey, RedisCmd *pCmd,
                   redisReply **ppReply){
  char zKeys[8];
  int rc;
  snprintf(zKeys, sizeof(zKeys), "%d", nKey);
  pCmd->argv[0] = "EVALSHA";
  pCmd->argvlen[0] = 7;
  pCmd->argv[1] = s->aSha[iScript];
  pCmd->argvlen[1] = strlen(s->aSha[iScript]);
  pCmd->argv[2] = zKeys;
  pCmd->argvlen[2] = strlen(zKeys);
  rc = redisRun(&s->conn, pCmd, ppReply);
  if( rc==SQLITE_ERROR && strncmp(s->conn.zErr, "NOSCRIPT", 8)==0 ){
    char *zText = scriptText(iScript);
    if( zText==0 ) return SQLITE_NOMEM;
    pCmd->argv[0] = "EVAL";
    pCmd->argvlen[0] = 4;
    pCmd->argv[1] = zText;
    pCmd->argvlen[1] = strlen(zText);
    rc = redisRun(&s->conn, pCmd, ppReply);
    sqlite3_free(zText);
  }
  if( rc==SQLITE_ERROR ) redisSetErr(s, "Redis error: %s", s->conn.zErr);
  return rc;
}
