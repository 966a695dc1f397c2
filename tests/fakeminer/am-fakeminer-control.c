/* The control port: a line-based TCP service for tests that need to change
 * a miner while the daemon watches it (a hashrate drop, overheating, a miner
 * that stops answering).
 *
 *   set TARGET key=value...   fault=KIND|none, profile=DIR, hashrate_scale=X,
 *                             temp_offset=+N, drip_ms=N, http_port=N, v3_port=N, web_port=N,
 *                             joined=refuse|answer
 *   get [TARGET]              one line per miner with its settings
 *   stats                     connections, requests by command and by fault
 *   help | quit
 *
 * TARGET is "127.0.20.1" (every port), "127.0.20.1:4028" (the miner's label, or
 * any port it listens on) or "all". Every
 * answer ends with a line "ok" or is a single line "error: why".
 */
#include "am-fakeminer.h"
#include <string.h>

struct _AmFmControl {
  GSocketService *service;
  GCancellable *cancellable;
  guint16 port;
  AmFmServer *server;
  GPtrArray *miners;
  AmFmProfileCache *cache;
  char *profiles_root;
  char *base_dir;
};

typedef struct {
  AmFmControl *control;      /* only while cancellable is not cancelled */
  GCancellable *cancellable; /* the control's, cancelled when it goes */
  GSocketConnection *connection;
  GDataInputStream *input;
  char *answer;
  gboolean quit;
} Client;

/* ---- commands ---- */

/* "127.0.20.30:80" for a miner whose HTTP listens on port 80. */
static gboolean
names_endpoint(AmFmMiner *miner, const char *target)
{
  for (guint i = 0; i < miner->n_endpoints; i++) {
    gboolean v6 = g_inet_address_get_family(miner->address) == G_SOCKET_FAMILY_IPV6;
    g_autofree char *name =
        g_strdup_printf(v6 ? "[%s]:%u" : "%s:%u", miner->host, miner->endpoints[i].port);
    if (g_str_equal(target, name))
      return TRUE;
  }
  return FALSE;
}

static GPtrArray *
find_targets(AmFmControl *control, const char *target)
{
  GPtrArray *found = g_ptr_array_new();
  gboolean all = g_str_equal(target, "all") || g_str_equal(target, "*");
  for (guint i = 0; i < control->miners->len; i++) {
    AmFmMiner *miner = control->miners->pdata[i];
    if (all || g_str_equal(target, miner->label) || g_str_equal(target, miner->host) ||
        names_endpoint(miner, target))
      g_ptr_array_add(found, miner);
  }
  return found;
}

typedef struct {
  AmFmProfile *profile;
  AmFmFault fault;
  double hashrate_scale;
  double temp_offset;
  guint drip_ms;
  gboolean joined_refused;
  guint16 port_override[AM_FM_PROTOCOL_COUNT];
} Saved;

static void
save_settings(AmFmMiner *miner, Saved *saved)
{
  *saved = (Saved){miner->profile,     miner->fault,   miner->hashrate_scale,
                   miner->temp_offset, miner->drip_ms, miner->joined_refused};
  memcpy(saved->port_override, miner->port_override, sizeof saved->port_override);
}

static void
restore_settings(AmFmMiner *miner, const Saved *saved)
{
  miner->profile = saved->profile;
  miner->fault = saved->fault;
  miner->hashrate_scale = saved->hashrate_scale;
  miner->temp_offset = saved->temp_offset;
  miner->drip_ms = saved->drip_ms;
  miner->joined_refused = saved->joined_refused;
  memcpy(miner->port_override, saved->port_override, sizeof miner->port_override);
}

/* All settings apply, or none do: a half-applied line would leave a test
 * guessing what state the miner is in. */
static gboolean
set_one(AmFmControl *control, AmFmMiner *miner, char **pairs, GError **error)
{
  AmFmProfileLookup lookup = {.cache = control->cache,
                              .profiles_root = control->profiles_root,
                              .base_dir = control->base_dir};
  Saved saved;
  save_settings(miner, &saved);
  for (gsize i = 0; pairs[i] != NULL; i++) {
    if (!am_fm_miner_apply_pair(miner, pairs[i], &lookup, error)) {
      restore_settings(miner, &saved);
      return FALSE;
    }
  }
  if (!am_fm_server_refresh(control->server, miner, error)) {
    restore_settings(miner, &saved);
    am_fm_server_refresh(control->server, miner, NULL);
    return FALSE;
  }
  return TRUE;
}

static char *
command_set(AmFmControl *control, char **words)
{
  if (words[1] == NULL || words[2] == NULL)
    return g_strdup("error: usage: set TARGET key=value...\n");
  g_autoptr(GPtrArray) targets = find_targets(control, words[1]);
  if (targets->len == 0)
    return g_strdup_printf("error: no miner at %s\n", words[1]);
  for (guint i = 0; i < targets->len; i++) {
    g_autoptr(GError) error = NULL;
    if (!set_one(control, targets->pdata[i], words + 2, &error))
      return g_strdup_printf("error: %s\n", error->message);
  }
  return g_strdup("ok\n");
}

static char *
command_get(AmFmControl *control, char **words)
{
  g_autoptr(GPtrArray) targets = find_targets(control, words[1] ? words[1] : "all");
  if (targets->len == 0)
    return g_strdup_printf("error: no miner at %s\n", words[1]);
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < targets->len; i++) {
    g_autofree char *line = am_fm_miner_describe(targets->pdata[i]);
    g_string_append_printf(out, "%s\n", line);
  }
  g_string_append(out, "ok\n");
  return g_string_free(out, FALSE);
}

static char *
command_stats(AmFmControl *control)
{
  GString *out = g_string_new(NULL);
  am_fm_server_write_stats(control->server, out);
  g_string_append(out, "ok\n");
  return g_string_free(out, FALSE);
}

static const char help_text[] =
    "set TARGET key=value...  (fault=KIND|none profile=DIR hashrate_scale=X temp_offset=+N "
    "drip_ms=N http_port=N v3_port=N web_port=N joined=refuse|answer)\n"
    "get [TARGET]\n"
    "stats\n"
    "quit\n"
    "TARGET: ADDRESS, ADDRESS:PORT or all\n"
    "ok\n";

char *
am_fm_control_execute(AmFmControl *control, const char *line)
{
  g_auto(GStrv) parts = g_strsplit_set(line, " \t\r\n", -1);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
  for (gsize i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_strv_builder_add(builder, parts[i]);
  g_auto(GStrv) words = g_strv_builder_end(builder);
  if (words[0] == NULL)
    return g_strdup("error: empty command (try help)\n");
  if (g_str_equal(words[0], "set"))
    return command_set(control, words);
  if (g_str_equal(words[0], "get"))
    return command_get(control, words);
  if (g_str_equal(words[0], "stats"))
    return command_stats(control);
  if (g_str_equal(words[0], "help"))
    return g_strdup(help_text);
  if (g_str_equal(words[0], "quit"))
    return g_strdup("ok\n");
  return g_strdup_printf("error: unknown command '%s' (try help)\n", words[0]);
}

/* ---- connections ---- */

static void read_next(Client *client);

static void
client_free(Client *client)
{
  g_clear_object(&client->input);
  g_clear_object(&client->cancellable);
  if (client->connection != NULL)
    g_io_stream_close(G_IO_STREAM(client->connection), NULL, NULL);
  g_clear_object(&client->connection);
  g_free(client->answer);
  g_free(client);
}

static void
on_written(GObject *source, GAsyncResult *result, gpointer data)
{
  Client *client = data;
  if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, NULL, NULL) ||
      client->quit || g_cancellable_is_cancelled(client->cancellable)) {
    client_free(client);
    return;
  }
  read_next(client);
}

static void
on_line(GObject *source, GAsyncResult *result, gpointer data)
{
  Client *client = data;
  g_autofree char *line =
      g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source), result, NULL, NULL);
  if (line == NULL || g_cancellable_is_cancelled(client->cancellable)) {
    /* EOF, error or shutdown (client->control may be gone) */
    client_free(client);
    return;
  }
  g_free(client->answer);
  client->answer = am_fm_control_execute(client->control, line);
  client->quit = g_str_equal(g_strstrip(line), "quit");
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(client->connection));
  g_output_stream_write_all_async(out, client->answer, strlen(client->answer), G_PRIORITY_DEFAULT,
                                  client->cancellable, on_written, client);
}

static void
read_next(Client *client)
{
  g_data_input_stream_read_line_async(client->input, G_PRIORITY_DEFAULT, client->cancellable,
                                      on_line, client);
}

static gboolean
on_incoming(GSocketService *service, GSocketConnection *connection, GObject *source, gpointer data)
{
  Client *client = g_new0(Client, 1);
  client->control = data;
  client->cancellable = g_object_ref(client->control->cancellable);
  client->connection = g_object_ref(connection);
  client->input = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(connection)));
  g_data_input_stream_set_newline_type(client->input, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  read_next(client);
  return TRUE;
}

AmFmControl *
am_fm_control_new(const char *address_port, AmFmServer *server, GPtrArray *miners,
                  const AmFmProfileLookup *lookup, GError **error)
{
  guint16 port = 0;
  g_autoptr(GInetAddress) address = am_fm_parse_host_port(address_port, &port, error);
  if (address == NULL) {
    g_prefix_error(error, "--control: ");
    return NULL;
  }
  g_autoptr(GSocketService) service = g_socket_service_new();
  g_autoptr(GSocketAddress) wanted = g_inet_socket_address_new(address, port);
  g_autoptr(GSocketAddress) bound = NULL;
  if (!g_socket_listener_add_address(G_SOCKET_LISTENER(service), wanted, G_SOCKET_TYPE_STREAM,
                                     G_SOCKET_PROTOCOL_TCP, NULL, &bound, error)) {
    g_prefix_error(error, "--control %s: ", address_port);
    return NULL;
  }
  AmFmControl *control = g_new0(AmFmControl, 1);
  control->service = g_steal_pointer(&service);
  control->cancellable = g_cancellable_new();
  control->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  control->server = server;
  control->miners = g_ptr_array_ref(miners);
  control->cache = lookup->cache;
  control->profiles_root = g_strdup(lookup->profiles_root);
  control->base_dir = g_strdup(lookup->base_dir);
  g_signal_connect(control->service, "incoming", G_CALLBACK(on_incoming), control);
  g_socket_service_start(control->service);
  return control;
}

guint16
am_fm_control_get_port(AmFmControl *control)
{
  return control->port;
}

/* Pending reads finish with G_IO_ERROR_CANCELLED on a later main-loop
 * iteration and free their clients then; the caller iterates once more. */
void
am_fm_control_free(AmFmControl *control)
{
  if (control == NULL)
    return;
  g_cancellable_cancel(control->cancellable);
  g_socket_service_stop(control->service);
  g_socket_listener_close(G_SOCKET_LISTENER(control->service));
  g_object_unref(control->service);
  g_object_unref(control->cancellable);
  g_ptr_array_unref(control->miners);
  g_free(control->profiles_root);
  g_free(control->base_dir);
  g_free(control);
}
