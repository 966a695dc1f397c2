/* The antminer driver's cgminer write commands, built and judged without
 * I/O. Command names and messages from cgminer's api.c (restart, addpool,
 * switchpool, removepool; MSG_ACCDENY 45 "Access denied to '%s' command"). */
#include "am-antminer-action.h"

#include "am-antminer-validate.h"
#include "am-antminer-vnish.h"

#include <string.h>

#define ACCESS_DENIED_CODE "API error 45:"

void
am_antminer_rpc_write_free(AmAntminerRpcWrite *write)
{
  if (write == NULL)
    return;
  g_free(write->command);
  g_free(write->parameter);
  g_free(write);
}

AmActionSet
am_antminer_actions(const AmSample *sample)
{
  AmActionSet rpc = AM_ACTION_BIT(AM_ACTION_RESTART) | AM_ACTION_BIT(AM_ACTION_POOLS);
  return am_antminer_is_vnish(sample) ? rpc | am_antminer_vnish_actions() : rpc;
}

gboolean
am_antminer_check_request(const AmActionRequest *request, GError **error)
{
  switch (request->kind) {
  case AM_ACTION_RESTART:
    return TRUE;
  case AM_ACTION_POOLS:
    return am_antminer_check_pools(request, error);
  case AM_ACTION_POWER_TARGET:
    g_set_error_literal(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                        "Antminer firmware takes no power target over the cgminer API");
    return FALSE;
  default:
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                "the cgminer API on 4028 cannot %s an Antminer: use the antminer-web driver "
                "(the miner's web interface)",
                am_action_kind_to_string(request->kind) != NULL
                    ? am_action_kind_to_string(request->kind)
                    : "do that on");
    return FALSE;
  }
}

static void
append_escaped(GString *out, const char *s)
{
  for (const char *p = s != NULL ? s : ""; *p != '\0'; p++) {
    if (*p == ',' || *p == '\\')
      g_string_append_c(out, '\\');
    g_string_append_c(out, *p);
  }
}

char *
am_antminer_addpool_parameter(const AmPoolSetting *pool)
{
  GString *out = g_string_new(NULL);
  append_escaped(out, pool->url);
  g_string_append_c(out, ',');
  append_escaped(out, pool->user);
  g_string_append_c(out, ',');
  append_escaped(out, pool->password != NULL ? pool->password : "x");
  return g_string_free(out, FALSE);
}

static AmAntminerRpcWrite *
write_new(const char *command, char *parameter)
{
  AmAntminerRpcWrite *w = g_new0(AmAntminerRpcWrite, 1);
  w->command = g_strdup(command);
  w->parameter = parameter;
  return w;
}

GPtrArray *
am_antminer_pool_writes(const AmActionRequest *request, guint old_count)
{
  GPtrArray *writes = g_ptr_array_new_with_free_func((GDestroyNotify)am_antminer_rpc_write_free);
  for (guint i = 0; i < request->n_pools; i++)
    g_ptr_array_add(writes,
                    write_new("addpool", am_antminer_addpool_parameter(&request->pools[i])));
  /* An old pool that is active cannot be removed: switch first. */
  g_ptr_array_add(writes, write_new("switchpool", g_strdup_printf("%u", old_count)));
  for (guint i = 0; i < old_count; i++)
    g_ptr_array_add(writes, write_new("removepool", g_strdup("0")));
  return writes;
}

static gboolean
is_restart_answer(GBytes *raw)
{
  gsize len = 0;
  const char *data = raw != NULL ? g_bytes_get_data(raw, &len) : NULL;
  return data != NULL && g_strstr_len(data, (gssize)len, "\"RESTART\"") != NULL;
}

gboolean
am_antminer_judge_write(const char *address, const char *command, const GError *rpc_error,
                        GBytes *raw, GError **error)
{
  if (rpc_error == NULL)
    return TRUE;
  /* cgminer answers restart with {"RESTART","id":1}: not JSON, but yes. */
  if (g_str_equal(command, "restart") && g_error_matches(rpc_error, AM_ERROR, AM_ERROR_PARSE) &&
      is_restart_answer(raw))
    return TRUE;
  if (g_error_matches(rpc_error, AM_ERROR, AM_ERROR_API) &&
      (strstr(rpc_error->message, ACCESS_DENIED_CODE) != NULL ||
       strstr(rpc_error->message, "Access denied") != NULL)) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                "%s: the miner's API refused '%s': writes are off (cgminer api-allow gives this "
                "host no W: access; add W:<antmon's address> to api-allow, or use the "
                "antminer-web driver)",
                address, command);
    return FALSE;
  }
  /* The transport's messages already start with the address. */
  const char *text = rpc_error->message;
  if (g_str_has_prefix(text, address) && g_str_has_prefix(text + strlen(address), ": "))
    text += strlen(address) + 2;
  g_set_error(error, rpc_error->domain, rpc_error->code, "%s: %s: %s", address, command, text);
  return FALSE;
}
