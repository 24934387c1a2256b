-- ngt/npyio.lua: recorded samples as directories of .npy files, one per input column
-- ("jet.pt.npy" [n][max], "jet.n.npy" [n], batch scalars [n] per event): a source reading them
-- (ngt run --input DIR) and the writer of a run's accepted events per stream (--output DIR).
local core = require "ngt.core"
local ffi, C = core.ffi, core.C
assert(core.cdef_module("ngt_npy.h"))

local _M = {}

-- API: a source over DIR for this built menu, or nil, err (missing file, wrong dtype or shape).
function _M.source(menu, dir, max_events)
   local e = core.err()
   local schema = menu.schema
   local cols, n = {}, nil
   for i = 0, C.ngt_schema_ncolumns(schema) - 1 do
      local info = C.ngt_schema_column(schema, i)
      local name = ffi.string(info.name)
      local path = dir .. "/" .. name .. ".npy"
      local a = ffi.gc(ffi.new("ngt_npy"), C.ngt_npy_free)
      if C.ngt_npy_read(path, a, e) < 0 then return nil, path .. ": " .. core.msg(e) end
      if a.dtype ~= info.dtype then
         return nil, string.format("%s: dtype %s, the schema says %s", path,
                                   ffi.string(C.ngt_dtype_name(a.dtype)), ffi.string(C.ngt_dtype_name(info.dtype)))
      end
      local per = info.kind == C.NGT_COL_SCALAR and 1 or tonumber(info.elems)
      local elems = 1
      for d = 1, a.rank - 1 do elems = elems * tonumber(a.shape[d]) end
      if a.rank < 1 or elems ~= per then
         return nil, string.format("%s: %d values per event, the schema says %d", path, elems, per)
      end
      local rows = tonumber(a.shape[0])
      if n and rows ~= n then return nil, string.format("%s: %d events, other columns have %d", path, rows, n) end
      n = rows
      cols[#cols + 1] = { i = i, a = a, rowb = tonumber(info.row_bytes), scalar = info.kind == C.NGT_COL_SCALAR }
   end
   n = math.min(n or 0, max_events or math.huge)
   local seq = 0
   local src = { events = n }
   function src:fill(b)
      local cap = C.ngt_batch_capacity(b)
      local k = math.min(cap, n - seq)
      if k <= 0 then return 0 end
      -- a batch ends where a batch scalar changes value
      for _, c in ipairs(cols) do
         if c.scalar then
            local base = ffi.cast("const uint8_t *", c.a.data)
            for j = 1, k - 1 do
               if ffi.C.memcmp(base + (seq + j) * c.rowb, base + seq * c.rowb, c.rowb) ~= 0 then
                  k = j
                  break
               end
            end
         end
      end
      for _, c in ipairs(cols) do
         local dst = C.ngt_batch_column(b, c.i)
         local src_p = ffi.cast("const uint8_t *", c.a.data) + seq * c.rowb
         ffi.copy(dst, src_p, c.scalar and c.rowb or k * c.rowb)
      end
      local ids = C.ngt_batch_event_ids(b)
      for j = 0, k - 1 do ids[j] = seq + j end
      seq = seq + k
      C.ngt_batch_set_count(b, k, nil)
      return k
   end
   return src
end

ffi.cdef "int memcmp(const void *a, const void *b, size_t n); int mkdir(const char *path, unsigned mode);"

local function mkdir(p) ffi.C.mkdir(p, 493) end

-- API: check_dir(dir) -> true, or nil and the reason: dir exists or can be made, and files can be
-- written in it (checked before a run, not after it).
function _M.check_dir(dir)
   mkdir(dir)
   local probe = dir .. "/.ngt-write-check"
   local f, err = io.open(probe, "wb")
   if not f then
      return nil, string.format("cannot write in %s: %s", dir, (err:gsub("^" .. probe:gsub("%p", "%%%0") .. ": ", "")))
   end
   f:close()
   os.remove(probe)
   return true
end

-- API: check_menu(menu) -> true, or nil and the reason: every stream's directory is its own
-- (a stream named "all" would share DIR/all with every event's decisions).
function _M.check_menu(menu)
   for s = 0, C.ngt_menu_nstreams(menu.menu) - 1 do
      if ffi.string(C.ngt_menu_stream_name(menu.menu, s)) == "all" then
         return nil, "a stream named 'all' cannot be written with --output (DIR/all holds every event's decisions): rename the stream"
      end
   end
   return true
end

-- Writes the recorded columns of set s as DIR/NAME.npy (input columns only when with_input).
local function write_set(rec, schema, s, dir, with_input)
   local e = core.err()
   mkdir(dir)
   local n = tonumber(C.ngt_recorder_events(rec, s))
   for k = 0, C.ngt_recorder_ncolumns(rec) - 1 do
      local data = C.ngt_recorder_data(rec, s, k)
      local info = C.ngt_schema_column(schema, C.ngt_recorder_column(rec, k))
      if (data ~= nil or n == 0) and (with_input or info.derived ~= 0) then
         local shape = ffi.new("int64_t[?]", 5)
         shape[0] = n
         local rank = 1
         if info.kind ~= C.NGT_COL_SCALAR then
            for d = 0, info.rank - 1 do shape[d + 1] = info.shape[d] end
            rank = 1 + info.rank
         end
         local path = dir .. "/" .. ffi.string(info.name) .. ".npy"
         local buf = data ~= nil and data or ffi.new("uint8_t[1]")
         if C.ngt_npy_write(path, info.dtype, rank, shape, buf, e) < 0 then
            return nil, path .. ": " .. core.msg(e)
         end
      end
   end
   return true
end

-- API: writes DIR/<stream>/*.npy for every stream (accepted events, their input columns and
-- decisions), DIR/all/ngt.*.npy (every event's decisions) and, with record_input, DIR/all/<col>.npy.
function _M.write(menu, rec, dir, record_input)
   mkdir(dir)
   local m = menu.menu
   local ns = C.ngt_menu_nstreams(m)
   local schema = C.ngt_menu_schema(m)
   for s = 0, ns - 1 do
      local ok, err = write_set(rec, schema, s, dir .. "/" .. ffi.string(C.ngt_menu_stream_name(m, s)), true)
      if not ok then return nil, err end
   end
   local ok, err = write_set(rec, schema, ns, dir .. "/all", record_input)
   if not ok then return nil, err end
   -- provenance: DIR/all/ngt.models.npy, [events][models] u64 hashes of the versions that
   -- decided each event (model order: DIR/all/ngt.models.txt, one name a line)
   local nm = ffi.new("int[1]")
   local data = C.ngt_recorder_models(rec, nm)
   if nm[0] > 0 then
      local n = tonumber(C.ngt_recorder_events(rec, ns))
      local shape = ffi.new("int64_t[2]", n, nm[0])
      local e = core.err()
      local path = dir .. "/all/ngt.models.npy"
      if C.ngt_npy_write(path, C.NGT_U64, 2, shape, data ~= nil and data or ffi.new("uint64_t[1]"), e) < 0 then
         return nil, path .. ": " .. core.msg(e)
      end
      local f = io.open(dir .. "/all/ngt.models.txt", "w")
      if not f then return nil, dir .. "/all/ngt.models.txt: cannot write" end
      for k = 0, nm[0] - 1 do f:write(ffi.string(C.ngt_menu_model_name(m, k)), "\n") end
      f:close()
   end
   return true
end

return _M
