/* ngt_main.c: the `ngt` command: starts LuaJIT, points package.path at the Lua sources
 * (NGT_LUA_PATH or the directory compiled in), and runs lua/cli.lua with the arguments. Also the
 * SIGINT/SIGTERM flag the run loop polls (C never calls into Lua from a signal handler). */
#include "luastep.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef NGT_LUA_DIR
#error "NGT_LUA_DIR must name the directory of the Lua sources"
#endif
#ifndef NGT_HEADER_PATH
#error "NGT_HEADER_PATH must name core/ngt.h"
#endif

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

int ngt_cli_interrupted(void)
{
    return interrupted;
}

void ngt_cli_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second ^C kills */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

/* An installed ngt (make install) finds its Lua files in PREFIX/share/ngt/lua and the header in
 * PREFIX/include, PREFIX being the binary's directory's parent; a build-tree binary finds neither
 * there and uses the source tree compiled in. Returns 1 when installed. */
static int find_installed(char *dir, char *header, size_t size)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = 0; /* PREFIX/bin */
    char probe[4200];
    int a = snprintf(dir, size, "%s/../share/ngt/lua", exe);
    int b = snprintf(header, size, "%s/../include/ngt.h", exe);
    int c = snprintf(probe, sizeof probe, "%s/cli.lua", dir);
    if (a < 0 || b < 0 || c < 0 || (size_t)a >= size || (size_t)b >= size ||
        (size_t)c >= sizeof probe)
        return 0; /* a path too long to be ours */
    return access(probe, R_OK) == 0 && access(header, R_OK) == 0;
}

int main(int argc, char **argv)
{
    if (ngt_abi_version() != NGT_ABI_VERSION) {
        fprintf(stderr, "ngt: libngt ABI %d, this binary was built for %d\n", ngt_abi_version(),
                NGT_ABI_VERSION);
        return 2;
    }
    static char inst_dir[4096], inst_header[4096];
    const char *dir = getenv("NGT_LUA_PATH");
    const char *header = getenv("NGT_HEADER");
    int installed = find_installed(inst_dir, inst_header, sizeof inst_dir);
    if (!dir || !*dir)
        dir = installed ? inst_dir : NGT_LUA_DIR;
    if (!header || !*header)
        header = installed ? inst_header : NGT_HEADER_PATH;
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "ngt: cannot create a Lua state\n");
        return 2;
    }
    luaL_openlibs(L);
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", dir, dir);
    lua_getfield(L, -2, "path");
    lua_concat(L, 2);
    lua_setfield(L, -2, "path");
    lua_getfield(L, -1, "loaded");
    lua_newtable(L); /* package.loaded["ngt.paths"] */
    lua_pushstring(L, dir);
    lua_setfield(L, -2, "lua_dir");
    lua_pushstring(L, header);
    lua_setfield(L, -2, "header");
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "in_binary");
    lua_setfield(L, -2, "ngt.paths");
    lua_pop(L, 2);

    lua_pushcfunction(L, traceback);
    char path[4096];
    int k = snprintf(path, sizeof path, "%s/cli.lua", dir);
    if (k < 0 || (size_t)k >= sizeof path) {
        fprintf(stderr, "ngt: the Lua directory's path is too long: %s\n", dir);
        lua_close(L);
        return 2;
    }
    if (luaL_loadfile(L, path) != 0) {
        fprintf(stderr, "ngt: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return 2;
    }
    lua_createtable(L, argc, 0);
    for (int i = 1; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    int rc = 0;
    if (lua_pcall(L, 1, 1, 1) != 0) {
        fprintf(stderr, "ngt: internal error: %s\n", lua_tostring(L, -1));
        rc = 3;
    } else if (lua_isnumber(L, -1)) {
        rc = (int)lua_tointeger(L, -1);
    }
    lua_close(L);
    return rc;
}
