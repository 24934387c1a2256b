-- ngt/core.lua: the FFI binding: core/ngt.h fed to ffi.cdef (preprocessor lines dropped) plus
-- the binary's own exports (Lua steps, recorder, signal flag); C is the `ngt` binary (ffi.C) or
-- libngt loaded from NGT_LIB when run by a plain luajit.
local ffi = require "ffi"

local _M = {}

local function paths()
   local ok, p = pcall(require, "ngt.paths")
   if ok then return p end
   return { header = os.getenv("NGT_HEADER") or "core/ngt.h", in_binary = false }
end

-- The header without preprocessor lines and without the C++ guard blocks.
local function header_text(path)
   local f, err = io.open(path, "r")
   if not f then error("ngt: cannot read the C header: " .. err, 0) end
   local out, skip = {}, 0
   for line in f:lines() do
      if line:match("^%s*#%s*ifdef%s+__cplusplus") then
         skip = 1
      elseif line:match("^%s*#") then
         if skip == 1 and line:match("^%s*#%s*endif") then skip = 0 end
      elseif skip == 0 then
         out[#out + 1] = line
      end
   end
   f:close()
   return table.concat(out, "\n")
end

local p = paths()
ffi.cdef(header_text(p.header))

-- API: cdefs a module's public header (installed beside ngt.h), once; nil, err when the module
-- is not part of this build. Example: core.cdef_module("ngt_hls.h")
local cdefined = {}
function _M.cdef_module(name)
   if cdefined[name] then return true end
   local dir = p.header:match("^(.*)/[^/]*$") or "."
   local path = dir .. "/" .. name
   local f = io.open(path, "r")
   if not f then return nil, name .. " not found beside ngt.h (is its module built?)" end
   f:close()
   ffi.cdef(header_text(path))
   cdefined[name] = true
   return true
end
ffi.cdef [[
typedef struct ngt_lua_step ngt_lua_step;
ngt_lua_step *ngt_lua_step_new(const char *name, const char *chunk, size_t len, const char *upvals,
                               const char *columns, ngt_error *err);
int ngt_lua_step_fn(void *user, ngt_step_io *io);
void ngt_lua_step_allocs(const ngt_lua_step *s, uint64_t *count, uint64_t *bytes);
void ngt_lua_step_free(ngt_lua_step *s);
int ngt_cli_interrupted(void);
void ngt_cli_catch_signals(void);
typedef struct ngt_recorder ngt_recorder;
ngt_recorder *ngt_recorder_new(const ngt_menu *m, int record_input, const char *derived,
                               ngt_error *err);
void ngt_recorder_sink(void *user, ngt_batch *b);
int ngt_recorder_ncolumns(const ngt_recorder *r);
int ngt_recorder_column(const ngt_recorder *r, int k);
uint64_t ngt_recorder_events(const ngt_recorder *r, int s);
const void *ngt_recorder_data(const ngt_recorder *r, int s, int k);
const uint64_t *ngt_recorder_models(const ngt_recorder *r, int *n_models);
int ngt_recorder_failed(const ngt_recorder *r);
void ngt_recorder_free(ngt_recorder *r);
int isatty(int fd);
]]

-- C: where the ngt_* symbols live. In the binary they are in the global namespace.
if p.in_binary then
   _M.C = ffi.C
else
   _M.C = ffi.load(os.getenv("NGT_LIB") or "ngt", true)
end
_M.in_binary = p.in_binary
_M.ffi = ffi

-- API: a fresh error struct and its message.
function _M.err() return ffi.new("ngt_error") end
function _M.msg(e) return ffi.string(e.msg) end

-- dtype name -> C type of one element, for FFI views of columns.
_M.ctype = {
   f32 = "float", f64 = "double", i8 = "int8_t", i16 = "int16_t", i32 = "int32_t",
   i64 = "int64_t", u8 = "uint8_t", u16 = "uint16_t", u32 = "uint32_t", u64 = "uint64_t",
   bool = "uint8_t",
}

-- API: the C pointer type seeing a column of this info as [event][shape...].
-- Example: core.view_type(info) --> "float(*)[77]" for f32[77], "float *" for a scalar.
function _M.view_type(info)
   local t = _M.ctype[ffi.string(_M.C.ngt_dtype_name(info.dtype))]
   if info.rank == 0 then return t .. " *" end
   local dims = {}
   for i = 0, info.rank - 1 do dims[#dims + 1] = "[" .. tonumber(info.shape[i]) .. "]" end
   return t .. "(*)" .. table.concat(dims)
end

return _M
