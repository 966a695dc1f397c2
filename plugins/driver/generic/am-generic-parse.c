/* Plain cgminer replies -> AmSample. Pure: see am-generic-parse.h.
 *
 * Reads only what the cgminer API itself defines, believing the unit each
 * key names ("MHS 5s" is MH/s, "GHS 5s" GH/s):
 *  - SUMMARY: hashrate now/average, Elapsed, Accepted, Rejected, HW errors;
 *  - DEVS: one chain per device, with its hashrate, Temperature and HW errors;
 *  - POOLS;
 *  - VERSION: the program (Description) and its version, the model (Type).
 * From STATS, whose content "can change at any time" (API-README), it takes
 * only the fanN/tempN/temp2_N readings, Elapsed and the Type, never a
 * hashrate: Bitmain's scrypt, X11, ethash and equihash models put MH/s or
 * Sol/s into keys named GHS, and only a firmware driver knows which. The
 * algorithm stays unknown for the same reason. */
#include "am-generic-parse.h"

#include "../common/am-cgminer-common.h"

#include <string.h>

#define DRIVER_NAME "generic"

AmMatch
am_generic_match(const AmFingerprint *fp)
{
  /* Anything that speaks on the RPC port can be read as far as it goes;
   * this driver is only ever the last resort (priority G_MININT). */
  return fp != NULL && fp->rpc_open ? AM_MATCH_MAYBE : AM_MATCH_UNSUPPORTED;
}

/* The value of the VERSION member named like @program ("BMMiner" for
 * "bmminer"), which is more precise than Description on some firmware. */
static const char *
program_version(JsonObject *version, const char *program)
{
  g_autoptr(GList) members = version != NULL ? json_object_get_members(version) : NULL;
  for (GList *l = members; l != NULL; l = l->next)
    if (g_ascii_strcasecmp(l->data, program) == 0)
      return am_json_string(version, l->data);
  return NULL;
}

static void
read_identity(AmSample *s, const AmGenericReplies *r)
{
  JsonObject *version = am_cgminer_section(r->version, "VERSION");
  JsonObject *replies[] = {r->version, r->summary, r->pools, r->devs, r->stats};
  const char *description = NULL;
  for (gsize i = 0; i < G_N_ELEMENTS(replies) && description == NULL; i++)
    description = am_cgminer_description(replies[i]);

  if (description != NULL && *description != '\0') {
    /* "cgminer 4.9.0": the program, then its version. */
    const char *space = strchr(description, ' ');
    g_autofree char *program =
        space != NULL ? g_strndup(description, space - description) : g_strdup(description);
    const char *ver = program_version(version, program);
    g_autofree char *rest = space != NULL ? g_strstrip(g_strdup(space + 1)) : NULL;
    am_sample_set(s, &s->firmware, program);
    am_sample_set(s, &s->firmware_version, ver != NULL ? ver : rest);
  }

  const char *type = am_json_string(version, "Type");
  if (type == NULL)
    type = am_json_string(am_json_array_find_with_key(am_json_array(r->stats, "STATS"), "Type"),
                          "Type");
  g_autofree char *model = am_cgminer_clean_model(type);
  am_sample_set(s, &s->model, model);
}

static gboolean
read_stats(AmSample *s, JsonObject *reply)
{
  JsonObject *block = am_cgminer_stats_block(reply);
  if (block == NULL)
    return FALSE;
  am_cgminer_read_stats_fans(s, block);
  am_cgminer_read_stats_temps(s, block);
  if (s->elapsed_s < 0)
    s->elapsed_s = am_json_int(block, "Elapsed", AM_UNKNOWN);
  return TRUE;
}

AmSample *
am_generic_parse(const AmGenericReplies *replies, GError **error)
{
  g_autoptr(AmSample) s = am_sample_new();
  am_sample_set(s, &s->driver, DRIVER_NAME);

  if (replies->summary == NULL && replies->devs == NULL && replies->stats == NULL) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                        "none of summary, devs and stats was answered");
    return NULL;
  }
  gboolean any = am_cgminer_read_summary(s, replies->summary);
  any |= am_cgminer_read_devs(s, replies->devs) > 0;
  any |= read_stats(s, replies->stats);
  if (!any) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE,
                        "the replies carry no SUMMARY, DEVS or STATS data");
    return NULL;
  }
  read_identity(s, replies);
  am_cgminer_read_pools(s, replies->pools);
  return g_steal_pointer(&s);
}
