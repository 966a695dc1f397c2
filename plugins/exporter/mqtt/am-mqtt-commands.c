/* commands=true: Home Assistant's controls, carried out through the control
 * plane (am_context_action_submit) like an API request: the same rate
 * limit, the miner's own credentials, an "action" event naming this group
 * ("exporter:mqtt") as who asked. Who may publish to the command topics is
 * the broker's to decide (its ACL): that is the credential here.
 *
 * A command is <prefix>/<miner-id>/<object>/set:
 *   mining        ON (resume) or OFF (pause)
 *   power_target  watts, an integer
 *   reboot        anything (HA sends PRESS)
 *   locate        ON or OFF; PRESS turns the light to the other state
 * Each outcome is published (not retained) on <prefix>/<miner-id>/action:
 * the action JSON of antmon/context.h as it moves (sending, confirming,
 * confirmed...), or {"action":..,"state":"refused","message":..}. */
#include "am-mqtt-exporter.h"
#include <antmon/error.h>
#include <string.h>

#define FOLLOW_INTERVAL_MS 500

void
am_mqtt_commands_subscribe(AmMqttExporter *x)
{
  g_autofree char *pattern = g_strdup_printf("%s/+/+/set", x->prefix);
  am_mqtt_client_subscribe(x->client, pattern, 1);
}

static char *
action_topic(AmMqttExporter *x, const char *miner_id)
{
  return g_strdup_printf("%s/%s/action", x->prefix, miner_id);
}

static void
publish_refusal(AmMqttExporter *x, const char *miner_id, const char *object, const char *message)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "action");
  json_builder_add_string_value(b, object);
  json_builder_set_member_name(b, "who");
  json_builder_add_string_value(b, x->group);
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, "refused");
  json_builder_set_member_name(b, "message");
  json_builder_add_string_value(b, message);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *payload = json_to_string(root, FALSE);
  g_autofree char *topic = action_topic(x, miner_id);
  g_message("[%s] %s %s refused: %s", x->group, miner_id, object, message);
  am_mqtt_exporter_send_result(x, topic, payload);
}

static gboolean
is_payload(const char *payload, const char *word)
{
  g_autofree char *trimmed = g_strstrip(g_strdup(payload));
  return g_ascii_strcasecmp(trimmed, word) == 0;
}

/* The request @object and @payload ask for; FALSE with @error when the
 * payload makes no sense for it. */
static gboolean
parse_request(AmMqttMiner *m, const char *object, const char *payload, AmActionRequest *req,
              GError **error)
{
  *req = (AmActionRequest){.struct_size = sizeof(AmActionRequest)};
  if (g_str_equal(object, "mining") && (is_payload(payload, "ON") || is_payload(payload, "OFF"))) {
    req->kind = is_payload(payload, "ON") ? AM_ACTION_RESUME : AM_ACTION_PAUSE;
    return TRUE;
  }
  if (g_str_equal(object, "power_target")) {
    guint64 watts = 0;
    g_autofree char *text = g_strstrip(g_strdup(payload));
    /* HA's number sends "3000.0" */
    char *dot = strchr(text, '.');
    if (dot != NULL && strspn(dot + 1, "0") == strlen(dot + 1))
      *dot = '\0';
    if (g_ascii_string_to_unsigned(text, 10, 1, G_MAXUINT, &watts, NULL)) {
      req->kind = AM_ACTION_POWER_TARGET;
      req->watts = (guint)watts;
      return TRUE;
    }
  }
  if (g_str_equal(object, "reboot")) {
    req->kind = AM_ACTION_REBOOT;
    return TRUE;
  }
  if (g_str_equal(object, "locate")) {
    req->kind = AM_ACTION_LOCATE;
    req->on = is_payload(payload, "ON") || (!is_payload(payload, "OFF") && m->locate != TRUE);
    return TRUE;
  }
  g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
              "cannot read \"%.40s\" for %s: mining takes ON or OFF, power_target watts, "
              "reboot and locate a press",
              payload, object);
  return FALSE;
}

/* ---- following an action to its end --------------------------------- */

static gboolean
is_final(const char *state)
{
  return g_strcmp0(state, "confirmed") == 0 || g_strcmp0(state, "not_confirmed") == 0 ||
         g_strcmp0(state, "failed") == 0;
}

/* Publishes @action when its state moved; returns TRUE once it ended. */
static gboolean
report(AmMqttExporter *x, const char *miner_id, JsonNode *action)
{
  JsonObject *o = json_node_get_object(action);
  const char *id = json_object_get_string_member_with_default(o, "id", "");
  const char *state = json_object_get_string_member_with_default(o, "state", "");
  if (g_strcmp0(g_hash_table_lookup(x->last_state, id), state) != 0) {
    g_hash_table_replace(x->last_state, g_strdup(id), g_strdup(state));
    g_autofree char *payload = json_to_string(action, FALSE);
    g_autofree char *topic = action_topic(x, miner_id);
    am_mqtt_exporter_send_result(x, topic, payload);
  }
  return is_final(state);
}

static gboolean
on_follow(gpointer user_data)
{
  AmMqttExporter *x = user_data;
  GHashTableIter it;
  gpointer id, miner_id;
  g_hash_table_iter_init(&it, x->following);
  while (g_hash_table_iter_next(&it, &id, &miner_id)) {
    g_autoptr(JsonNode) action = am_context_action_get(x->ctx, id);
    /* Gone (pruned, or the daemon stopping): nothing more to say. */
    if (action == NULL || report(x, miner_id, action)) {
      g_hash_table_remove(x->last_state, id);
      g_hash_table_iter_remove(&it);
    }
  }
  if (g_hash_table_size(x->following) > 0)
    return G_SOURCE_CONTINUE;
  x->follow_id = 0;
  return G_SOURCE_REMOVE;
}

static void
follow(AmMqttExporter *x, const char *miner_id, JsonNode *action)
{
  if (report(x, miner_id, action))
    return;
  const char *id = json_object_get_string_member(json_node_get_object(action), "id");
  g_hash_table_replace(x->following, g_strdup(id), g_strdup(miner_id));
  if (x->follow_id == 0)
    x->follow_id = g_timeout_add(FOLLOW_INTERVAL_MS, on_follow, x);
}

/* "<prefix>/<id>/<object>/set" -> id and object; FALSE for other topics. */
static gboolean
split_topic(AmMqttExporter *x, const char *topic, char **id, char **object)
{
  gsize n = strlen(x->prefix);
  if (strncmp(topic, x->prefix, n) != 0 || topic[n] != '/')
    return FALSE;
  g_auto(GStrv) parts = g_strsplit(topic + n + 1, "/", -1);
  if (g_strv_length(parts) != 3 || !g_str_equal(parts[2], "set"))
    return FALSE;
  *id = g_strdup(parts[0]);
  *object = g_strdup(parts[1]);
  return TRUE;
}

void
am_mqtt_commands_on_message(AmMqttExporter *x, const char *topic, const char *payload)
{
  g_autofree char *id = NULL, *object = NULL;
  if (!split_topic(x, topic, &id, &object))
    return;
  AmMqttMiner *m = g_hash_table_lookup(x->by_id, id);
  if (m == NULL) {
    g_debug("[%s] %s: no such miner here", x->group, topic);
    return;
  }
  AmActionRequest req;
  g_autoptr(GError) error = NULL;
  if (!parse_request(m, object, payload, &req, &error)) {
    publish_refusal(x, m->id, object, error->message);
    return;
  }
  g_autoptr(JsonNode) action = am_context_action_submit(x->ctx, m->address, &req, x->group, &error);
  if (action == NULL) {
    publish_refusal(x, m->id, am_action_kind_to_string(req.kind), error->message);
    return;
  }
  follow(x, m->id, action);
}

void
am_mqtt_commands_stop(AmMqttExporter *x)
{
  g_clear_handle_id(&x->follow_id, g_source_remove);
}
