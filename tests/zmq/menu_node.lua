-- tests/zmq/menu_node.lua: a node described by its script alone (source and sink in ngt.menu);
-- the endpoints come from NGT_ZMQ_SRC and NGT_ZMQ_SINK (zmq_script).
local ngt = require "ngt"
local ev = ngt.schema { met = "f32", jet = ngt.collection { pt = "f32", eta = "f32", max = 6 } }
return ngt.menu {
   schema = ev,
   chains = { ngt.chain "HighMet" { ngt.cut "met > 40" } },
   streams = { physics = { "HighMet" } },
   source = ngt.source.zmq { endpoint = os.getenv("NGT_ZMQ_SRC") or "tcp://127.0.0.1:5555", stop_at_end = true },
   sinks = { ngt.sink.zmq { stream = "physics", endpoint = os.getenv("NGT_ZMQ_SINK") or "tcp://127.0.0.1:5556" } },
}
