/* cgminer's joined command on a miner: "summary+stats+pools" in one
 * connection, the reply split back into one reply per command.
 *
 * cgminer answers {"summary":[<summary reply>],"stats":[<stats reply>],
 * "id":1}: each member is the whole reply the command would get alone,
 * STATUS included. One connection instead of three is most of a poll's
 * cost saved on both ends. Firmware that does not know the form answers
 * "Invalid command" for the whole, or something else; the caller learns
 * that and asks one by one. */
#include "am-miner-private.h"
#include "am-rpc-private.h"

#include <antmon/error.h>
#include <antmon/json.h>

typedef struct {
  AmMiner *miner;
  GStrv commands;
  char *joined; /* "a+b+c" */
} Joined;

static void
joined_free(Joined *j)
{
  am_miner_unref(j->miner);
  g_strfreev(j->commands);
  g_free(j->joined);
  g_free(j);
}

/* The reply object of @command in the joined @root: the real layout wraps
 * it in a one-element array, the API-README shows a bare object. */
static JsonObject *
member_reply(JsonObject *root, const char *command)
{
  JsonNode *node = json_object_get_member(root, command);
  if (node != NULL && JSON_NODE_HOLDS_ARRAY(node))
    return am_json_array_object(json_node_get_array(node), 0);
  if (node != NULL && JSON_NODE_HOLDS_OBJECT(node))
    return json_node_get_object(node);
  return NULL;
}

/* Returns: (transfer full) command -> AmRpcReply* of every command's part,
 * or NULL with AM_ERROR_PARSE naming the first command that has none. */
static GHashTable *
split(Joined *j, AmRpcReply *reply, GError **error)
{
  JsonObject *root = am_rpc_reply_get_root(reply);
  g_autoptr(GHashTable) parts =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)am_rpc_reply_unref);
  gboolean raw_wanted = am_miner_raw_wanted(j->miner);
  for (guint i = 0; j->commands[i] != NULL; i++) {
    JsonObject *section = member_reply(root, j->commands[i]);
    if (section == NULL) {
      g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: the reply to '%s' has no '%s' member",
                  am_miner_get_address(j->miner), j->joined, j->commands[i]);
      return NULL;
    }
    AmRpcReply *part = am_rpc_reply_new_part(section);
    /* The raw view shows each command on its own, as if asked alone; its
     * text is only made while somebody looks. */
    if (raw_wanted)
      am_miner_store_raw(j->miner, j->commands[i], am_rpc_reply_get_raw(part));
    g_hash_table_replace(parts, g_strdup(j->commands[i]), part);
  }
  return g_steal_pointer(&parts);
}

static void
on_joined_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Joined *j = g_task_get_task_data(task);
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GError) error = NULL;
  (void)source;

  g_autoptr(AmRpcReply) reply = am_rpc_call_finish(result, &raw, &error);
  GHashTable *parts = reply != NULL ? split(j, reply, &error) : NULL;
  if (parts == NULL) {
    /* What came is what a user debugging the fallback wants to see. */
    am_miner_want_raw(j->miner);
    if (raw != NULL)
      am_miner_store_raw(j->miner, j->joined, raw);
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  g_task_return_pointer(task, parts, (GDestroyNotify)g_hash_table_unref);
}

void
am_miner_rpc_joined_async(AmMiner *miner, const char *const *commands, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail(miner != NULL && commands != NULL && commands[0] != NULL);
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_miner_rpc_joined_async);
  g_task_set_check_cancellable(task, FALSE);
  Joined *j = g_new0(Joined, 1);
  j->miner = am_miner_ref(miner);
  j->commands = g_strdupv((char **)commands);
  j->joined = g_strjoinv("+", j->commands);
  g_task_set_task_data(task, j, (GDestroyNotify)joined_free);
  am_rpc_call_async(am_miner_get_host(miner), am_miner_get_port(miner), j->joined, NULL,
                    am_miner_get_timeout_ms(miner), cancellable, on_joined_reply, task);
}

GHashTable *
am_miner_rpc_joined_finish(AmMiner *miner, GAsyncResult *result, GError **error)
{
  (void)miner;
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == am_miner_rpc_joined_async, NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}
