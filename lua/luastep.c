/* luastep.c: a Lua step run as a C step. Each worker thread gets its own lua_State (a LuaJIT VM
 * is single-threaded), made on first use from the step function's bytecode with its plain-data
 * upvalues set, through an allocator that counts. The function sees an ev table of FFI pointers
 * over the batch's columns (zero copy); ev tables are cached per (batch, column pointers) so a
 * steady-state call allocates nothing on the Lua side. */
#include "internal.h"
#include "luastep.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAX_WORKERS = 256, /* states for io->worker 0..MAX_WORKERS-1 */
    MAX_EXTRA = 8,     /* states for worker -1 (the host's thread, offload helpers) */
    MAX_COLS = 64,     /* columns one Lua step may see */
    NKEYS = MAX_COLS + 3,
    CACHE = 32 /* ev tables per state (one per pooled batch seen) */
};

typedef struct lstate {
    lua_State *L;
    pthread_mutex_t mu; /* extra slots only */
    _Atomic uint64_t allocs, bytes;
    int fn_ref, builder_ref;
    const ngt_schema *schema; /* the schema cols[] were resolved against */
    int cols[MAX_COLS];
    int nentries, next;
    const void *keys[CACHE][NKEYS];
    int refs[CACHE];
} lstate;

struct ngt_lua_step {
    char name[NGT_NAME_MAX];
    char *chunk, *upvals, *columns;
    size_t len;
    int ncols;
    char colnames[MAX_COLS][NGT_NAME_MAX];
    lstate workers[MAX_WORKERS];
    lstate extra[MAX_EXTRA];
};

/* Makes the ev table: builder(sel, pass, error, col1, col2, ...) with lightuserdata pointers. The
 * step interface (sel, pass, error, columns) is never shadowed: every column is in ev.columns, and
 * those whose names are not the interface's are also ev[name]. */
static const char builder_src[] =
    "local ffi = require 'ffi'\n"
    "local spec = ...\n"
    "local names, types = {}, {}\n"
    "for name, ct in spec:gmatch('([^\\t\\n]+)\\t([^\\n]+)\\n') do\n"
    "  names[#names + 1] = name; types[#types + 1] = ffi.typeof(ct)\n"
    "end\n"
    "local sel_t, u8_t = ffi.typeof('const uint32_t *'), ffi.typeof('uint8_t *')\n"
    "local reserved = { sel = true, pass = true, error = true, columns = true }\n"
    "return function(sel, pass, err, ...)\n"
    "  local cols = {}\n"
    "  local ev = { sel = ffi.cast(sel_t, sel), pass = ffi.cast(u8_t, pass),\n"
    "               error = ffi.cast(u8_t, err), columns = cols }\n"
    "  for i = 1, #names do\n"
    "    local v = ffi.cast(types[i], (select(i, ...)))\n"
    "    cols[names[i]] = v\n"
    "    if not reserved[names[i]] then ev[names[i]] = v end\n"
    "  end\n"
    "  return ev\n"
    "end\n";

/* Globals of a step's own state: the standard libraries only. A global the menu script defined
 * outside fn does not exist here; reading any other name is an error at its file:line (a typo or
 * a missing local would otherwise read nil and error or decide wrongly later). */
static const char strict_src[] =
    "setmetatable(_G, { __index = function(_, k)\n"
    "  error(string.format(\"reads undefined global '%s' (a step runs in its own Lua state: \" ..\n"
    "    \"define it as a local of the menu script, which fn then carries as an upvalue)\",\n"
    "    tostring(k)), 2)\n"
    "end })\n";

static void *count_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    lstate *s = ud;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (!ptr || nsize > osize) {
        atomic_fetch_add_explicit(&s->allocs, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->bytes, nsize - (ptr ? osize : 0), memory_order_relaxed);
    }
    return realloc(ptr, nsize);
}

static int lua_fail(ngt_lua_step *st, lstate *ls, const char *what, ngt_error *err)
{
    const char *msg = lua_tostring(ls->L, -1);
    int rc = seterr(err, NGT_EINVAL, "lua step '%s': %s: %s", st->name, what, msg ? msg : "?");
    lua_close(ls->L);
    ls->L = NULL;
    return rc;
}

/* Creates the state of one slot: libraries, the function, its upvalues, the ev builder. */
static int state_open(ngt_lua_step *st, lstate *ls, ngt_error *err)
{
    lua_State *L = lua_newstate(count_alloc, ls);
    if (!L)
        return seterr(err, NGT_ENOMEM, "lua step '%s': cannot create a Lua state", st->name);
    ls->L = L;
    luaL_openlibs(L);
    if (luaL_loadbuffer(L, st->chunk, st->len, st->name) != 0)
        return lua_fail(st, ls, "loading the function", err);
    if (luaL_loadstring(L, st->upvals) != 0 || lua_pcall(L, 0, 1, 0) != 0)
        return lua_fail(st, ls, "loading the upvalues", err);
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) { /* fn, upvals, key, value */
        int idx = (int)lua_tointeger(L, -2);
        if (!lua_setupvalue(L, -4, idx)) {
            lua_pushfstring(L, "the function has no upvalue %d", idx);
            return lua_fail(st, ls, "setting upvalues", err);
        }
    }
    lua_pop(L, 1);
    ls->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (luaL_loadstring(L, builder_src) != 0)
        return lua_fail(st, ls, "loading the column builder", err);
    lua_pushstring(L, st->columns);
    if (lua_pcall(L, 1, 1, 0) != 0)
        return lua_fail(st, ls, "column types", err);
    ls->builder_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (luaL_loadstring(L, strict_src) != 0 || lua_pcall(L, 0, 0, 0) != 0)
        return lua_fail(st, ls, "strict globals", err);
    ls->schema = NULL;
    ls->nentries = ls->next = 0;
    return NGT_OK;
}

ngt_lua_step *ngt_lua_step_new(const char *name, const char *chunk, size_t len, const char *upvals,
                               const char *columns, ngt_error *err)
{
    ngt_lua_step *st = calloc(1, sizeof *st);
    if (!st) {
        seterr(err, NGT_ENOMEM, "lua step: out of memory");
        return NULL;
    }
    snprintf(st->name, sizeof st->name, "%s", name);
    st->chunk = malloc(len);
    st->upvals = strdup(upvals);
    st->columns = strdup(columns);
    st->len = len;
    for (int i = 0; i < MAX_EXTRA; i++)
        pthread_mutex_init(&st->extra[i].mu, NULL);
    if (!st->chunk || !st->upvals || !st->columns) {
        seterr(err, NGT_ENOMEM, "lua step: out of memory");
        ngt_lua_step_free(st);
        return NULL;
    }
    memcpy(st->chunk, chunk, len);
    for (const char *p = columns; *p;) {
        const char *tab = strchr(p, '\t'), *nl = strchr(p, '\n');
        if (!tab || !nl || tab > nl || tab - p >= NGT_NAME_MAX || st->ncols == MAX_COLS) {
            seterr(err, NGT_EINVAL, "lua step '%s': bad column list (at most %d columns)", name,
                   MAX_COLS);
            ngt_lua_step_free(st);
            return NULL;
        }
        memcpy(st->colnames[st->ncols], p, (size_t)(tab - p));
        st->colnames[st->ncols++][tab - p] = '\0';
        p = nl + 1;
    }
    if (state_open(st, &st->extra[0], err) < 0) { /* checks the chunk and upvalues now */
        ngt_lua_step_free(st);
        return NULL;
    }
    return st;
}

/* Column indices in the batch's schema (each pooled batch may hold its own copy of the menu's
 * schema: the cache is kept while the indices stay the same). */
static int resolve(ngt_lua_step *st, lstate *ls, const ngt_schema *s, ngt_error *err)
{
    int same = ls->schema != NULL;
    for (int k = 0; k < st->ncols; k++) {
        int c = ngt_schema_find(s, st->colnames[k]);
        if (c < 0)
            return seterr(err, NGT_ESTEP, "lua step '%s': no column '%s' in the batch", st->name,
                          st->colnames[k]);
        same = same && c == ls->cols[k];
        ls->cols[k] = c;
    }
    ls->schema = s;
    if (same)
        return NGT_OK;
    for (int i = 0; i < ls->nentries; i++)
        luaL_unref(ls->L, LUA_REGISTRYINDEX, ls->refs[i]);
    ls->nentries = ls->next = 0;
    ls->schema = s;
    return NGT_OK;
}

/* Pushes the ev table for these pointers, building it on a cache miss. */
static int push_ev(ngt_lua_step *st, lstate *ls, const void **keys, ngt_error *err)
{
    lua_State *L = ls->L;
    int nk = st->ncols + 3;
    for (int i = 0; i < ls->nentries; i++)
        if (memcmp(ls->keys[i], keys, (size_t)nk * sizeof *keys) == 0) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, ls->refs[i]);
            return NGT_OK;
        }
    lua_rawgeti(L, LUA_REGISTRYINDEX, ls->builder_ref);
    for (int k = 0; k < nk; k++)
        lua_pushlightuserdata(L, (void *)keys[k]);
    if (lua_pcall(L, nk, 1, 0) != 0) {
        int rc = seterr(err, NGT_ESTEP, "lua step '%s': %s", st->name, lua_tostring(L, -1));
        lua_pop(L, 1);
        return rc;
    }
    int slot = ls->nentries < CACHE ? ls->nentries++ : ls->next;
    if (slot == ls->next && ls->nentries == CACHE) {
        luaL_unref(L, LUA_REGISTRYINDEX, ls->refs[slot]);
        ls->next = (ls->next + 1) % CACHE;
    }
    lua_pushvalue(L, -1);
    ls->refs[slot] = luaL_ref(L, LUA_REGISTRYINDEX);
    memcpy(ls->keys[slot], keys, (size_t)nk * sizeof *keys);
    return NGT_OK;
}

static int call(ngt_lua_step *st, lstate *ls, ngt_step_io *io)
{
    int rc;
    if (!ls->L && (rc = state_open(st, ls, io->err)) < 0)
        return rc;
    const ngt_schema *s = ngt_batch_schema(io->batch);
    if (ls->schema != s && (rc = resolve(st, ls, s, io->err)) < 0)
        return rc;
    const void *keys[NKEYS] = {io->sel, io->pass, io->error};
    for (int k = 0; k < st->ncols; k++)
        keys[k + 3] = ngt_batch_column(io->batch, ls->cols[k]);
    lua_State *L = ls->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ls->fn_ref);
    if ((rc = push_ev(st, ls, keys, io->err)) < 0) {
        lua_pop(L, 1);
        return rc;
    }
    lua_pushinteger(L, io->n);
    if (lua_pcall(L, 2, 0, 0) != 0) { /* "file:line: message"; the engine names the step */
        rc = seterr(io->err, NGT_ESTEP, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return rc;
    }
    return NGT_OK;
}

int ngt_lua_step_fn(void *user, ngt_step_io *io)
{
    ngt_lua_step *st = user;
    if (io->worker >= MAX_WORKERS)
        return seterr(io->err, NGT_ESTEP, "lua step '%s': worker %d, at most %d", st->name,
                      io->worker, MAX_WORKERS);
    if (io->worker >= 0)
        return call(st, &st->workers[io->worker], io);
    lstate *ls = NULL;
    for (int i = 0; i < MAX_EXTRA && !ls; i++)
        if (pthread_mutex_trylock(&st->extra[i].mu) == 0)
            ls = &st->extra[i];
    if (!ls) {
        ls = &st->extra[0];
        pthread_mutex_lock(&ls->mu);
    }
    int rc = call(st, ls, io);
    pthread_mutex_unlock(&ls->mu);
    return rc;
}

void ngt_lua_step_allocs(const ngt_lua_step *s, uint64_t *count, uint64_t *bytes)
{
    uint64_t c = 0, b = 0;
    for (int i = 0; i < MAX_WORKERS; i++) {
        c += atomic_load_explicit(&s->workers[i].allocs, memory_order_relaxed);
        b += atomic_load_explicit(&s->workers[i].bytes, memory_order_relaxed);
    }
    for (int i = 0; i < MAX_EXTRA; i++) {
        c += atomic_load_explicit(&s->extra[i].allocs, memory_order_relaxed);
        b += atomic_load_explicit(&s->extra[i].bytes, memory_order_relaxed);
    }
    if (count)
        *count = c;
    if (bytes)
        *bytes = b;
}

void ngt_lua_step_free(ngt_lua_step *st)
{
    if (!st)
        return;
    for (int i = 0; i < MAX_WORKERS; i++)
        if (st->workers[i].L)
            lua_close(st->workers[i].L);
    for (int i = 0; i < MAX_EXTRA; i++) {
        if (st->extra[i].L)
            lua_close(st->extra[i].L);
        pthread_mutex_destroy(&st->extra[i].mu);
    }
    free(st->chunk);
    free(st->upvals);
    free(st->columns);
    free(st);
}
