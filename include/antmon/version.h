/* antmon plugin ABI version.
 *
 * A plugin records the ABI it was built against in its descriptor
 * (AmPluginInfo.abi_major/abi_minor). The loader accepts a plugin when its
 * major equals the core's and its minor is not newer than the core's:
 * minors only ever append fields behind struct_size-checked structs.
 *
 * 1.1: AmStoreVTable.stats_json; antmon/deadline.h.
 * 1.2: the sample grows (mining state, power limit and work mode, vendor
 *      errors, PSU, hydro, best share and blocks, per chain voltage,
 *      frequency, inlet/outlet and serial, partial polls).
 * 1.3: actions (antmon/action.h): AmDriverVTable.actions, act_async and
 *      act_finish in what were reserved slots; AmSample.locate; the
 *      context's control plane (am_context_action_*); am_rpc_send_async/
 *      _finish/_was_sent (antmon/rpc.h): any request on the RPC port.
 * 1.4: fewer round trips (antmon/rpc.h): am_miner_rpc_joined_async/_finish
 *      (cgminer's "a+b+c" in one connection, split per command) and what a
 *      driver remembers about a miner between polls (am_miner_keep_reply,
 *      am_miner_get_kept_reply, am_miner_set_note, am_miner_dup_note);
 *      workers: am_work_async/_finish (antmon/work.h): pure CPU work, such
 *      as a driver's parse, on the core's worker pool, the result handed
 *      back to the submitting main context; that header lists the calls a
 *      work function may make. The RPC transport repairs and parses each
 *      reply over 2 KiB there, and the cgminer poll glue runs the driver's
 *      parser there;
 *      exporter plugins (AM_PLUGIN_KIND_EXPORTER, AmExporterVTable in
 *      antmon/plugin.h): each sample, state change and miner added or
 *      forgotten, pushed to another system ([exporter:NAME] groups);
 *      am_json_add_number/_string (antmon/json.h). */
#pragma once

#define AM_ABI_MAJOR 1
#define AM_ABI_MINOR 4

/* The antmon release these headers belong to. */
#define AM_VERSION_STRING "0.1.0"
