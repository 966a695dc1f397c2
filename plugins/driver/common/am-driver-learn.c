/* What the poll glue learns about a miner between polls (see the header).
 *
 * Everything lives in the miner's notes (am_miner_set_note()), kept by the
 * core: a plugin keeps no state of its own, and a miner polled by another
 * driver instance after a re-identification starts from what was learnt. */
#include "am-driver-learn.h"

#include <string.h>

#define NOTE_UPTIME "rpc.uptime"
#define NOTE_FIRMWARE "rpc.firmware"
#define KEPT_VERSION "version"

gboolean
am_learn_single_only(AmMiner *miner)
{
  g_autofree char *rounds = am_miner_dup_note(miner, AM_LEARN_NOTE_ROUNDS);
  return g_strcmp0(rounds, "single") == 0;
}

AmRpcReply *
am_learn_kept_version(AmMiner *miner)
{
  gint64 kept_at = 0;
  AmRpcReply *kept = am_miner_get_kept_reply(miner, KEPT_VERSION, &kept_at);
  if (kept != NULL && g_get_monotonic_time() - kept_at >= AM_LEARN_VERSION_MAX_AGE_US)
    g_clear_pointer(&kept, am_rpc_reply_unref); /* old enough to check again */
  return kept;
}

void
am_learn_keep_version(AmMiner *miner, AmRpcReply *reply)
{
  am_miner_keep_reply(miner, KEPT_VERSION, reply);
}

gboolean
am_learn_try_joined(AmMiner *miner)
{
  g_autofree char *joined = am_miner_dup_note(miner, AM_LEARN_NOTE_JOINED);
  return g_strcmp0(joined, "no") != 0;
}

gboolean
am_learn_joined_works(AmMiner *miner)
{
  g_autofree char *joined = am_miner_dup_note(miner, AM_LEARN_NOTE_JOINED);
  return g_strcmp0(joined, "yes") == 0;
}

void
am_learn_joined_result(AmMiner *miner, gboolean worked)
{
  g_autofree char *was = am_miner_dup_note(miner, AM_LEARN_NOTE_JOINED);
  const char *now = worked ? "yes" : "no";
  if (g_strcmp0(was, now) == 0)
    return; /* the common case: nothing to write */
  if (!worked)
    g_info("%s: joined commands fail on this firmware: asking one command per connection",
           am_miner_get_address(miner));
  am_miner_set_note(miner, AM_LEARN_NOTE_JOINED, now);
}

static JsonObject *
root_of(GHashTable *replies, const char *command)
{
  AmRpcReply *reply = g_hash_table_lookup(replies, command);
  return reply != NULL ? am_rpc_reply_get_root(reply) : NULL;
}

/* The uptime in seconds from "summary" (SUMMARY[0].Elapsed) or a "stats"
 * block that has one, or -1 when neither says. */
static gint64
read_uptime(GHashTable *replies)
{
  JsonObject *summary =
      am_json_array_object(am_json_array(root_of(replies, "summary"), "SUMMARY"), 0);
  gint64 uptime = am_json_int(summary, "Elapsed", -1);
  if (uptime >= 0)
    return uptime;
  JsonArray *stats = am_json_array(root_of(replies, "stats"), "STATS");
  return am_json_int(am_json_array_find_with_key(stats, "Elapsed"), "Elapsed", -1);
}

/* What the firmware says of itself on every reply: STATUS Description
 * ("bmminer 1.0.0", "LUXminer 2024.5.1"), with the model and build
 * ("Type", "CompileTime") of an Antminer's first stats block. NULL when
 * nothing read says. (transfer full) */
static char *
read_firmware(GHashTable *replies)
{
  static const char *const commands[] = {"summary", "stats", "pools", "devs", NULL};
  const char *description = NULL;
  for (guint i = 0; commands[i] != NULL && description == NULL; i++) {
    JsonObject *status =
        am_json_array_object(am_json_array(root_of(replies, commands[i]), "STATUS"), 0);
    description = am_json_string(status, "Description");
  }
  JsonObject *block = am_json_array_object(am_json_array(root_of(replies, "stats"), "STATS"), 0);
  const char *type = am_json_string(block, "Type");
  const char *built = am_json_string(block, "CompileTime");
  if (description == NULL && type == NULL && built == NULL)
    return NULL;
  return g_strdup_printf("%s|%s|%s", description ? description : "", type ? type : "",
                         built ? built : "");
}

gboolean
am_learn_notice_change(AmMiner *miner, GHashTable *replies)
{
  gint64 uptime = read_uptime(replies);
  g_autofree char *firmware = read_firmware(replies);
  g_autofree char *was_uptime = am_miner_dup_note(miner, NOTE_UPTIME);
  g_autofree char *was_firmware = am_miner_dup_note(miner, NOTE_FIRMWARE);

  gboolean restarted =
      uptime >= 0 && was_uptime != NULL && uptime < g_ascii_strtoll(was_uptime, NULL, 10);
  gboolean changed =
      firmware != NULL && was_firmware != NULL && strcmp(firmware, was_firmware) != 0;
  if (uptime >= 0) {
    char text[24];
    g_snprintf(text, sizeof text, "%" G_GINT64_FORMAT, uptime);
    am_miner_set_note(miner, NOTE_UPTIME, text);
  }
  if (firmware != NULL && g_strcmp0(firmware, was_firmware) != 0)
    am_miner_set_note(miner, NOTE_FIRMWARE, firmware);
  if (changed) {
    /* A new firmware may answer joined commands where the old did not. */
    g_info("%s: firmware changed (%s): reading its version again", am_miner_get_address(miner),
           firmware);
    am_miner_set_note(miner, AM_LEARN_NOTE_JOINED, NULL);
  }
  if (restarted || changed)
    am_learn_keep_version(miner, NULL);
  return restarted || changed;
}
