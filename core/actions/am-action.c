/* One action: its request (copied, checked, shown without secrets) and its
 * JSON form, the one the API, the CLI and the audit events share. */
#include "am-action-private.h"

#include <antmon/error.h>
#include <antmon/sample.h>
#include <string.h>

/* Sane bounds for a power target: a Bitaxe draws ~15 W, the largest hydro
 * units ~12 kW; anything outside is a typo, not a wish. */
#define WATTS_MIN 10
#define WATTS_MAX 100000
#define POOLS_MAX 3

const char *
am_action_state_to_string(AmActionState state)
{
  switch (state) {
  case AM_ACTION_QUEUED:
    return "queued";
  case AM_ACTION_SENDING:
    return "sending";
  case AM_ACTION_CONFIRMING:
    return "confirming";
  case AM_ACTION_CONFIRMED:
    return "confirmed";
  case AM_ACTION_NOT_CONFIRMED:
    return "not_confirmed";
  case AM_ACTION_FAILED:
    return "failed";
  }
  return "failed";
}

gboolean
am_action_is_done(const AmAction *action)
{
  return action->state >= AM_ACTION_CONFIRMED;
}

static gboolean
check_pools(const AmActionRequest *request, GError **error)
{
  if (request->pools == NULL || request->n_pools == 0 || request->n_pools > POOLS_MAX) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "pools: expected 1 to %d pools, got %u",
                POOLS_MAX, request->pools == NULL ? 0 : request->n_pools);
    return FALSE;
  }
  for (guint i = 0; i < request->n_pools; i++) {
    const AmPoolSetting *p = &request->pools[i];
    if (p->url == NULL || *p->url == '\0' || p->user == NULL || *p->user == '\0') {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "pools: pool %u needs a url and a user", i + 1);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
am_action_request_check(const AmActionRequest *request, GError **error)
{
  switch (request->kind) {
  case AM_ACTION_POWER_TARGET:
    if (request->watts < WATTS_MIN || request->watts > WATTS_MAX) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "power_target: watts must be between %d and %d, got %u", WATTS_MIN, WATTS_MAX,
                  request->watts);
      return FALSE;
    }
    return TRUE;
  case AM_ACTION_WORK_MODE:
    if (g_strcmp0(request->mode, AM_WORK_MODE_LOW) != 0 &&
        g_strcmp0(request->mode, AM_WORK_MODE_NORMAL) != 0 &&
        g_strcmp0(request->mode, AM_WORK_MODE_HIGH) != 0) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "work_mode: mode must be low, normal or high, got '%s'",
                  request->mode != NULL ? request->mode : "");
      return FALSE;
    }
    return TRUE;
  case AM_ACTION_POOLS:
    return check_pools(request, error);
  default:
    if (am_action_kind_to_string(request->kind) == NULL) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "no such action (%d)", request->kind);
      return FALSE;
    }
    return TRUE;
  }
}

void
am_request_copy_init(AmRequestCopy *copy, const AmActionRequest *request)
{
  *copy = (AmRequestCopy){.request = *request};
  copy->request.struct_size = sizeof(AmActionRequest);
  copy->mode = g_strdup(request->mode);
  copy->request.mode = copy->mode;
  if (request->pools != NULL && request->n_pools > 0) {
    copy->pools = g_new0(AmPoolSetting, request->n_pools);
    for (guint i = 0; i < request->n_pools; i++) {
      copy->pools[i].url = g_strdup(request->pools[i].url);
      copy->pools[i].user = g_strdup(request->pools[i].user);
      copy->pools[i].password = g_strdup(request->pools[i].password);
    }
  }
  copy->request.pools = copy->pools;
}

void
am_request_copy_clear(AmRequestCopy *copy)
{
  for (guint i = 0; copy->pools != NULL && i < copy->request.n_pools; i++) {
    g_free((char *)copy->pools[i].url);
    g_free((char *)copy->pools[i].user);
    if (copy->pools[i].password != NULL) /* wipe the secret before it goes back */
      memset((char *)copy->pools[i].password, 0, strlen(copy->pools[i].password));
    g_free((char *)copy->pools[i].password);
  }
  g_clear_pointer(&copy->pools, g_free);
  g_clear_pointer(&copy->mode, g_free);
}

JsonNode *
am_request_params_json(const AmActionRequest *request)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  switch (request->kind) {
  case AM_ACTION_POWER_TARGET:
    json_builder_set_member_name(b, "watts");
    json_builder_add_int_value(b, request->watts);
    break;
  case AM_ACTION_WORK_MODE:
    json_builder_set_member_name(b, "mode");
    json_builder_add_string_value(b, request->mode);
    break;
  case AM_ACTION_LOCATE:
    json_builder_set_member_name(b, "on");
    json_builder_add_boolean_value(b, request->on);
    break;
  case AM_ACTION_POOLS:
    json_builder_set_member_name(b, "pools");
    json_builder_begin_array(b);
    for (guint i = 0; i < request->n_pools; i++) {
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "url");
      json_builder_add_string_value(b, request->pools[i].url);
      json_builder_set_member_name(b, "user");
      json_builder_add_string_value(b, request->pools[i].user);
      json_builder_end_object(b); /* the password stays out */
    }
    json_builder_end_array(b);
    break;
  default:
    break;
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static void
add_time(JsonBuilder *b, const char *name, gint64 when_us)
{
  json_builder_set_member_name(b, name);
  if (when_us == 0) {
    json_builder_add_null_value(b);
    return;
  }
  g_autofree char *text = am_time_to_iso8601(when_us);
  json_builder_add_string_value(b, text);
}

static void
add_nullable_string(JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name(b, name);
  if (value == NULL)
    json_builder_add_null_value(b);
  else
    json_builder_add_string_value(b, value);
}

JsonNode *
am_action_to_json(const AmAction *a)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_nullable_string(b, "id", a->id);
  add_nullable_string(b, "action", am_action_kind_to_string(a->req.request.kind));
  add_nullable_string(b, "miner", a->address);
  json_builder_set_member_name(b, "params");
  json_builder_add_value(b, am_request_params_json(&a->req.request));
  add_nullable_string(b, "who", a->who);
  add_nullable_string(b, "state", am_action_state_to_string(a->state));
  add_nullable_string(b, "message", a->message);
  add_time(b, "created", a->created_us);
  add_time(b, "sent", a->sent_us);
  add_time(b, "finished", a->finished_us);
  json_builder_set_member_name(b, "duration_s");
  if (a->finished_us != 0)
    json_builder_add_double_value(b, (a->finished_us - a->created_us) / 1e6);
  else
    json_builder_add_null_value(b);
  add_nullable_string(b, "fleet", a->fleet_id);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
