/* sandbox.native: the few primitives the sandbox's Lua needs from C, on OpenSSL: HMAC-SHA256
 * (quote and download-URL signatures), SHA-256, constant-time comparison, base64. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lcl_compat.h"
#include "sb_internal.h"

static void sb_push_hex(lua_State *L, const unsigned char *d, size_t n) {
  static const char digits[] = "0123456789abcdef";
  char hex[2 * EVP_MAX_MD_SIZE];
  for (size_t i = 0; i < n; i++) {
    hex[2 * i] = digits[d[i] >> 4];
    hex[2 * i + 1] = digits[d[i] & 15];
  }
  lua_pushlstring(L, hex, 2 * n);
}

/// native.hmac_sha256_hex(key, message) -> 64 hex digits
static int sb_hmac_sha256_hex(lua_State *L) {
  size_t klen, mlen;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *msg = luaL_checklstring(L, 2, &mlen);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, md, &n))
    return luaL_error(L, "HMAC-SHA256 failed");
  sb_push_hex(L, md, n);
  return 1;
}

/// native.sha256_hex(message) -> 64 hex digits
static int sb_sha256_hex(lua_State *L) {
  size_t mlen;
  const char *msg = luaL_checklstring(L, 1, &mlen);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!EVP_Digest(msg, mlen, md, &n, EVP_sha256(), NULL)) return luaL_error(L, "SHA-256 failed");
  sb_push_hex(L, md, n);
  return 1;
}

/// native.equal(a, b) -> boolean, in time independent of where they differ
static int sb_equal(lua_State *L) {
  size_t alen, blen;
  const char *a = luaL_checklstring(L, 1, &alen);
  const char *b = luaL_checklstring(L, 2, &blen);
  lua_pushboolean(L, alen == blen && CRYPTO_memcmp(a, b, alen) == 0);
  return 1;
}

/// native.b64encode(bytes) -> base64 text (no line breaks)
static int sb_b64encode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_argcheck(L, n < (size_t)1 << 28, 1, "too large");
  size_t cap = 4 * ((n + 2) / 3) + 1;
  unsigned char *out = lua_newuserdata(L, cap);
  int len = EVP_EncodeBlock(out, (const unsigned char *)s, (int)n);
  lua_pushlstring(L, (const char *)out, (size_t)len);
  return 1;
}

/// native.b64decode(text) -> bytes | nil, message. Strict: standard alphabet, padding as
/// needed, no line breaks or spaces.
static int sb_b64decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_argcheck(L, n < (size_t)1 << 28, 1, "too large");
  if (n % 4 != 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "base64 text length is not a multiple of 4");
    return 2;
  }
  unsigned char *out = lua_newuserdata(L, n / 4 * 3 + 1);
  int len = n ? EVP_DecodeBlock(out, (const unsigned char *)s, (int)n) : 0;
  if (len < 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "not valid base64");
    return 2;
  }
  /* EVP_DecodeBlock counts padding as zero bytes: drop them. */
  if (n >= 1 && s[n - 1] == '=') len--;
  if (n >= 2 && s[n - 2] == '=') len--;
  lua_pushlstring(L, (const char *)out, (size_t)len);
  return 1;
}

int sb_open_native(lua_State *L) {
  static const luaL_Reg funcs[] = {{"hmac_sha256_hex", sb_hmac_sha256_hex},
                                   {"sha256_hex", sb_sha256_hex},
                                   {"equal", sb_equal},
                                   {"b64encode", sb_b64encode},
                                   {"b64decode", sb_b64decode},
                                   {NULL, NULL}};
  lua_newtable(L);
  for (const luaL_Reg *f = funcs; f->name; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
  return 1;
}
