/* luastep.h: Lua steps (ngt.lua{...}) as C steps: one lua_State per worker thread, each loaded
 * from the step function's bytecode with its plain-data upvalues, allocations counted. Exported
 * from the ngt binary and reached from Lua through ffi.C (declarations repeated in
 * lua/ngt/core.lua). */
#ifndef NGT_LUASTEP_H
#define NGT_LUASTEP_H

#include "ngt.h"

typedef struct ngt_lua_step ngt_lua_step;

/* chunk/len: the function's bytecode (string.dump); upvals: Lua source returning a table
 * {[index] = value} of the upvalues to set; columns: "name\tctype\n" lines, the columns the
 * function sees in its ev table. Loads one state on the calling thread to check everything. */
ngt_lua_step *ngt_lua_step_new(const char *name, const char *chunk, size_t len, const char *upvals,
                               const char *columns, ngt_error *err);
int ngt_lua_step_fn(void *user, ngt_step_io *io);
/* Allocations made by all of the step's states (lua_newstate allocator): count and bytes. */
void ngt_lua_step_allocs(const ngt_lua_step *s, uint64_t *count, uint64_t *bytes);
void ngt_lua_step_free(ngt_lua_step *s);

/* Set by the CLI's SIGINT/SIGTERM handler; polled by the run loop. */
int ngt_cli_interrupted(void);
void ngt_cli_catch_signals(void);

#endif
