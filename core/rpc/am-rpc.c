/* The CGMiner API transport: one request per TCP connection, as cgminer
 * wants, under one hard deadline that covers connect, write and read.
 *
 * The deadline is a timeout source that cancels our own GCancellable; the
 * caller's cancellable is chained to the same one, and the two causes are
 * told apart afterwards (AM_ERROR_TIMEOUT versus G_IO_ERROR_CANCELLED).
 * Replies are read in fixed chunks into a buffer that never grows past the
 * size cap, whatever the peer sends or claims.
 *
 * Two layers: the exchange (am_rpc_send_async: any request bytes out, the
 * reply bytes back) and the call on top of it (the cgminer request, the
 * JSON repairs, STATUS), so every request on the port shares one transport. */
#include "am-miner-private.h"
#include "am-rpc-private.h"

#include <antmon/deadline.h>
#include <antmon/error.h>
#include <antmon/json.h>
#include <antmon/rpc.h>
#include <antmon/work.h>
#include <string.h>

#define READ_CHUNK 16384
/* Replies up to this size are parsed on the loop (see on_exchanged). */
#define PARSE_HERE_MAX 2048

/* Set once at start-up from the configuration, read by every call. */
static gsize max_reply_bytes = AM_RPC_DEFAULT_MAX_REPLY;

void
am_rpc_set_max_reply(gsize max_bytes)
{
  max_reply_bytes = max_bytes > 0 ? max_bytes : AM_RPC_DEFAULT_MAX_REPLY;
}

/* ---- AmRpcReply ---- */

struct _AmRpcReply {
  gint ref_count;
  GBytes *raw;    /* NULL for a part of a joined reply until asked for */
  JsonNode *root; /* always an object */
};

static AmRpcReply *
reply_new(GBytes *raw, JsonNode *root)
{
  AmRpcReply *reply = g_new0(AmRpcReply, 1);
  reply->ref_count = 1;
  reply->raw = raw != NULL ? g_bytes_ref(raw) : NULL;
  reply->root = root;
  return reply;
}

AmRpcReply *
am_rpc_reply_new_part(JsonObject *section)
{
  JsonNode *root = json_node_init_object(json_node_alloc(), section);
  return reply_new(NULL, root);
}

AmRpcReply *
am_rpc_reply_ref(AmRpcReply *reply)
{
  g_return_val_if_fail(reply != NULL, NULL);
  g_atomic_int_inc(&reply->ref_count);
  return reply;
}

void
am_rpc_reply_unref(AmRpcReply *reply)
{
  if (reply == NULL || !g_atomic_int_dec_and_test(&reply->ref_count))
    return;
  g_clear_pointer(&reply->raw, g_bytes_unref);
  json_node_unref(reply->root);
  g_free(reply);
}

JsonObject *
am_rpc_reply_get_root(AmRpcReply *reply)
{
  g_return_val_if_fail(reply != NULL, NULL);
  return json_node_get_object(reply->root);
}

GBytes *
am_rpc_reply_get_raw(AmRpcReply *reply)
{
  g_return_val_if_fail(reply != NULL, NULL);
  GBytes *raw = g_atomic_pointer_get(&reply->raw);
  if (raw != NULL)
    return raw;
  /* A part of a joined reply: its text only when somebody asks, so a kept
   * part does not hold the whole joined reply's bytes. */
  gsize len = 0;
  char *text = json_to_string(reply->root, FALSE);
  len = strlen(text);
  GBytes *made = g_bytes_new_take(text, len + 1); /* the NUL, as cgminer sends */
  if (!g_atomic_pointer_compare_and_exchange(&reply->raw, NULL, made))
    g_bytes_unref(made);
  return g_atomic_pointer_get(&reply->raw);
}

static gboolean
has_status(JsonObject *obj)
{
  return json_object_has_member(obj, "STATUS") || json_object_has_member(obj, "status");
}

/* A multi-command reply has no STATUS of its own, only sections such as
 * "summary":[{"STATUS":[..],"SUMMARY":[..]}]. */
static gboolean
looks_multi(JsonObject *root)
{
  if (has_status(root))
    return FALSE;
  g_autoptr(GList) members = json_object_get_values(root);
  for (GList *l = members; l != NULL; l = l->next) {
    JsonNode *node = l->data;
    if (!JSON_NODE_HOLDS_ARRAY(node))
      continue;
    JsonObject *first = am_json_array_object(json_node_get_array(node), 0);
    if (first != NULL && has_status(first))
      return TRUE;
  }
  return FALSE;
}

JsonObject *
am_rpc_reply_get_section(AmRpcReply *reply, const char *command, GError **error)
{
  g_return_val_if_fail(reply != NULL && command != NULL, NULL);
  JsonObject *root = am_rpc_reply_get_root(reply);
  JsonNode *node = json_object_get_member(root, command);
  if (node == NULL) {
    /* A single-command reply is its own section; the call checked STATUS. */
    if (!looks_multi(root))
      return root;
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "reply has no '%s' section", command);
    return NULL;
  }

  /* The real layout wraps each section in a one-element array; the
   * API-README shows a bare object. Accept both. */
  JsonObject *section = NULL;
  if (JSON_NODE_HOLDS_ARRAY(node))
    section = am_json_array_object(json_node_get_array(node), 0);
  else if (JSON_NODE_HOLDS_OBJECT(node))
    section = json_node_get_object(node);
  if (section == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "section '%s' is not an object", command);
    return NULL;
  }
  if (!am_rpc_check_status(section, error)) {
    g_prefix_error(error, "%s: ", command);
    return NULL;
  }
  return section;
}

/* ---- one exchange: the transport ---- */

typedef struct {
  char *address; /* "host:port" or "[v6]:port", for every message */
  gsize max_reply;
  GBytes *request;
  AmDeadline *deadline;      /* over connect, write and read */
  GCancellable *cancellable; /* the deadline's (transfer none) */
  GSocketClient *client;
  GSocketConnection *connection;
  guint8 *buf; /* the reply so far: len bytes of cap, cap <= max_reply */
  gsize len;
  gsize cap;
  guint8 *chunk;   /* READ_CHUNK bytes for each read, never zeroed */
  gboolean sent;   /* the whole request went out */
  GBytes *partial; /* on failure, what had come (never an over-cap stream) */
} Exchange;

static void
exchange_free(Exchange *x)
{
  g_clear_pointer(&x->deadline, am_deadline_free);
  g_clear_object(&x->connection);
  g_clear_object(&x->client);
  g_clear_pointer(&x->request, g_bytes_unref);
  g_clear_pointer(&x->partial, g_bytes_unref);
  g_free(x->buf);
  g_free(x->chunk);
  g_free(x->address);
  g_free(x);
}

static char *
format_address(const char *host, guint16 port)
{
  return strchr(host, ':') != NULL ? g_strdup_printf("[%s]:%u", host, port)
                                   : g_strdup_printf("%s:%u", host, port);
}

/* Stops the clock, unhooks the caller and closes the socket: called once,
 * just before the task returns. */
static void
exchange_finish_io(Exchange *x)
{
  am_deadline_stop(x->deadline);
  if (x->connection != NULL) {
    g_io_stream_close(G_IO_STREAM(x->connection), NULL, NULL);
    g_clear_object(&x->connection);
  }
}

/* Hands the bytes read so far over as the reply. */
static GBytes *
take_buffer(Exchange *x)
{
  /* An exact copy: the raw view keeps these bytes for the miner's life,
   * and the read buffer (at least a whole read chunk) goes back to malloc. */
  GBytes *bytes = g_bytes_new(x->buf, x->len);
  g_clear_pointer(&x->buf, g_free);
  x->len = x->cap = 0;
  return bytes;
}

/* Fails the exchange with @error turned into the AM_ERROR the caller can
 * act on, naming the address (cancellation stays G_IO_ERROR_CANCELLED
 * unless our deadline did it). */
static void
exchange_fail(GTask *task, const GError *error)
{
  Exchange *x = g_task_get_task_data(task);
  GError *mapped = am_deadline_error(x->deadline, x->address, error);
  /* Keep what arrived (a partial or slow reply) for the raw view, but never
   * an over-cap stream. */
  if (x->len > 0 && !g_error_matches(mapped, AM_ERROR, AM_ERROR_TOO_LARGE))
    x->partial = take_buffer(x);
  g_clear_pointer(&x->buf, g_free);
  x->len = x->cap = 0;
  exchange_finish_io(x);
  g_task_return_error(task, mapped);
}

static void
exchange_fail_literal(GTask *task, AmError code, const char *message)
{
  g_autoptr(GError) error = g_error_new_literal(AM_ERROR, code, message);
  exchange_fail(task, error);
}

static void
exchange_complete(GTask *task)
{
  Exchange *x = g_task_get_task_data(task);
  if (x->len == 0) {
    exchange_fail_literal(task, AM_ERROR_RESET, "closed the connection without replying");
    return;
  }
  exchange_finish_io(x);
  g_task_return_pointer(task, take_buffer(x), (GDestroyNotify)g_bytes_unref);
}

/* Appends @n bytes, growing the buffer geometrically but never past the cap,
 * so a peer streaming forever costs at most max_reply bytes. */
static gboolean
append_bytes(Exchange *x, const guint8 *data, gsize n)
{
  if (n > x->max_reply - x->len)
    return FALSE;
  if (x->len + n > x->cap) {
    gsize cap = MAX(x->cap * 2, MAX(x->len + n, (gsize)READ_CHUNK));
    x->cap = MIN(cap, x->max_reply);
    x->buf = g_realloc(x->buf, x->cap);
  }
  memcpy(x->buf + x->len, data, n);
  x->len += n;
  return TRUE;
}

static void read_next(GTask *task);

static void
on_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Exchange *x = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
  if (n < 0) {
    /* A reset after part of a reply: hand over what came (the repairs close
     * a truncated tail). With nothing yet it is a plain reset. */
    if (x->len > 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
      exchange_complete(task);
    else
      exchange_fail(task, error);
    return;
  }
  if (n == 0) {
    exchange_complete(task);
    return;
  }

  /* cgminer ends a reply with a NUL; stop there even if the socket stays open. */
  const guint8 *nul = memchr(x->chunk, '\0', n);
  gsize take = nul != NULL ? (gsize)(nul - x->chunk) + 1 : (gsize)n;
  if (!append_bytes(x, x->chunk, take)) {
    g_autofree char *message =
        g_strdup_printf("reply is over the %" G_GSIZE_FORMAT "-byte cap", x->max_reply);
    exchange_fail_literal(task, AM_ERROR_TOO_LARGE, message);
    return;
  }
  /* A web server where the RPC was expected (ePIC UMC serves HTTP on 4028)
   * answers our JSON with an HTTP error, and may keep the socket open:
   * say so at once rather than wait for the deadline. */
  if (x->len >= 5 && memcmp(x->buf, "HTTP/", 5) == 0) {
    exchange_fail_literal(task, AM_ERROR_PROTOCOL, "the port speaks HTTP, not the cgminer API");
    return;
  }
  if (nul != NULL)
    exchange_complete(task);
  else
    read_next(g_steal_pointer(&task));
}

static void
read_next(GTask *task)
{
  Exchange *x = g_task_get_task_data(task);
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(x->connection));
  g_input_stream_read_async(in, x->chunk, READ_CHUNK, G_PRIORITY_DEFAULT, x->cancellable, on_read,
                            task);
}

static void
on_written(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, NULL, &error)) {
    exchange_fail(task, error);
    return;
  }
  Exchange *x = g_task_get_task_data(task);
  x->sent = TRUE;
  read_next(g_steal_pointer(&task));
}

static void
on_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Exchange *x = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  x->connection = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
  if (x->connection == NULL) {
    exchange_fail(task, error);
    return;
  }
  gsize len = 0;
  const void *data = g_bytes_get_data(x->request, &len);
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(x->connection));
  g_output_stream_write_all_async(out, data, len, G_PRIORITY_DEFAULT, x->cancellable, on_written,
                                  g_steal_pointer(&task));
}

/* One socket client for every call: it holds only settings, and creating a
 * GObject per call is measurable at thousands of polls (tests/bench/). */
static GSocketClient *
shared_client(void)
{
  static GSocketClient *client = NULL;
  if (g_once_init_enter(&client)) {
    GSocketClient *c = g_socket_client_new();
    /* Miners sit on the local network: a desktop proxy setting must not
     * route 4028 through an HTTP proxy. */
    g_socket_client_set_enable_proxy(c, FALSE);
    g_once_init_leave(&client, c);
  }
  return g_object_ref(client);
}

void
am_rpc_send_async(const char *host, guint16 port, GBytes *request, guint timeout_ms,
                  GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail(host != NULL && request != NULL);

  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_rpc_send_async);
  /* We report cancellation ourselves, with the address in the message. */
  g_task_set_check_cancellable(task, FALSE);

  Exchange *x = g_new0(Exchange, 1);
  x->address = format_address(host, port);
  x->max_reply = max_reply_bytes;
  x->request = g_bytes_ref(request);
  x->chunk = g_malloc(READ_CHUNK);
  x->deadline =
      am_deadline_new(cancellable, timeout_ms > 0 ? timeout_ms : AM_RPC_DEFAULT_TIMEOUT_MS,
                      g_task_get_context(task));
  x->cancellable = am_deadline_get_cancellable(x->deadline);
  g_task_set_task_data(task, x, (GDestroyNotify)exchange_free);

  x->client = shared_client();
  g_autoptr(GSocketConnectable) address = g_network_address_new(host, port);
  g_socket_client_connect_async(x->client, address, x->cancellable, on_connected, task);
}

static Exchange *
exchange_of(GAsyncResult *result)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == am_rpc_send_async, NULL);
  return g_task_get_task_data(G_TASK(result));
}

GBytes *
am_rpc_send_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(exchange_of(result) != NULL, NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

gboolean
am_rpc_send_was_sent(GAsyncResult *result)
{
  Exchange *x = exchange_of(result);
  return x != NULL && x->sent;
}

/* What a failed exchange had received, for the raw view. (transfer full) */
static GBytes *
exchange_take_partial(GAsyncResult *result)
{
  Exchange *x = exchange_of(result);
  return x != NULL ? g_steal_pointer(&x->partial) : NULL;
}

/* ---- one call: the exchange, then the JSON ---- */

typedef struct {
  char *address;
  char *command;
  GBytes *raw; /* what came, for raw_out and the miner's raw view */
} Call;

static void
call_free(Call *c)
{
  g_clear_pointer(&c->raw, g_bytes_unref);
  g_free(c->address);
  g_free(c->command);
  g_free(c);
}

/* {"command":"C","parameter":"P"}, built by json-glib so quoting is right. */
static GBytes *
build_request(const char *command, const char *parameter)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "command");
  json_builder_add_string_value(b, command);
  if (parameter != NULL) {
    json_builder_set_member_name(b, "parameter");
    json_builder_add_string_value(b, parameter);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  gsize len = 0;
  char *text = json_generator_to_data(gen, &len);
  return g_bytes_new_take(text, len);
}

static void
call_fail(GTask *task, GError *error)
{
  Call *c = g_task_get_task_data(task);
  g_debug("%s (%s)", error->message, c->command);
  g_task_return_error(task, error);
}

/* On a worker: the repairs, the JSON parse and the STATUS check, the CPU
 * cost of a reply, kept off the main loop. */
static gpointer
parse_on_worker(gpointer input, GCancellable *cancellable, GError **error)
{
  GBytes *raw = input; /* freed by the job */
  (void)cancellable;
  gsize len = 0;
  const char *data = g_bytes_get_data(raw, &len);
  JsonNode *root = am_rpc_parse(data, len, error);
  if (root != NULL && !am_rpc_check_status(json_node_get_object(root), error))
    g_clear_pointer(&root, json_node_unref);
  return root;
}

/* Back on the caller's context: the reply, or why there is none. */
static void
call_parsed(GTask *task, JsonNode *root, GError *error)
{
  Call *c = g_task_get_task_data(task);
  if (root == NULL) {
    g_prefix_error(&error, "%s: ", c->address);
    call_fail(task, error);
    return;
  }
  g_debug("%s: %s: %" G_GSIZE_FORMAT " bytes", c->address, c->command, g_bytes_get_size(c->raw));
  g_task_return_pointer(task, reply_new(c->raw, root), (GDestroyNotify)am_rpc_reply_unref);
}

static void
on_parsed(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  (void)source;
  JsonNode *root = am_work_finish(result, &error);
  call_parsed(task, root, error);
}

static void
on_exchanged(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Call *c = g_task_get_task_data(task);
  GError *error = NULL;
  (void)source;
  c->raw = am_rpc_send_finish(result, &error);
  if (c->raw == NULL) {
    c->raw = exchange_take_partial(result);
    call_fail(task, error);
    return;
  }
  /* A short reply ("version", a summary) costs less to parse than to hand
   * to a worker and back, and it keeps the fingerprint's RPC answer as
   * quick as before against the web probe racing it. */
  if (g_bytes_get_size(c->raw) <= PARSE_HERE_MAX) {
    JsonNode *root = parse_on_worker(c->raw, NULL, &error);
    call_parsed(task, root, error);
    return;
  }
  GCancellable *cancellable = g_task_get_cancellable(task);
  am_work_async(parse_on_worker, g_bytes_ref(c->raw), (GDestroyNotify)g_bytes_unref,
                (GDestroyNotify)json_node_unref, cancellable, on_parsed, g_steal_pointer(&task));
}

void
am_rpc_call_async(const char *host, guint16 port, const char *command, const char *parameter,
                  guint timeout_ms, GCancellable *cancellable, GAsyncReadyCallback callback,
                  gpointer user_data)
{
  g_return_if_fail(host != NULL && command != NULL);

  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_rpc_call_async);
  /* The exchange reports cancellation, with the address in the message. */
  g_task_set_check_cancellable(task, FALSE);

  Call *c = g_new0(Call, 1);
  c->address = format_address(host, port);
  c->command = g_strdup(command);
  g_task_set_task_data(task, c, (GDestroyNotify)call_free);

  g_autoptr(GBytes) request = build_request(command, parameter);
  am_rpc_send_async(host, port, request, timeout_ms, cancellable, on_exchanged, task);
}

AmRpcReply *
am_rpc_call_finish(GAsyncResult *result, GBytes **raw_out, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == am_rpc_call_async, NULL);
  Call *c = g_task_get_task_data(G_TASK(result));
  if (raw_out != NULL)
    *raw_out = c->raw != NULL ? g_bytes_ref(c->raw) : NULL;
  return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- on a miner ---- */

typedef struct {
  AmMiner *miner;
  char *command;
} MinerCall;

static void
miner_call_free(MinerCall *mc)
{
  am_miner_unref(mc->miner);
  g_free(mc->command);
  g_free(mc);
}

static void
on_miner_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  MinerCall *mc = g_task_get_task_data(task);
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GError) error = NULL;
  AmRpcReply *reply = am_rpc_call_finish(result, &raw, &error);
  /* Good or bad, the bytes that came are what the raw view should show;
   * the bytes of a failure are kept whether or not anyone is looking. */
  if (reply == NULL)
    am_miner_want_raw(mc->miner);
  if (raw != NULL)
    am_miner_store_raw(mc->miner, mc->command, raw);
  if (reply == NULL) {
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  g_task_return_pointer(task, reply, (GDestroyNotify)am_rpc_reply_unref);
}

void
am_miner_rpc_async(AmMiner *miner, const char *command, const char *parameter,
                   GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail(miner != NULL && command != NULL);
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_miner_rpc_async);
  g_task_set_check_cancellable(task, FALSE);
  MinerCall *mc = g_new0(MinerCall, 1);
  mc->miner = am_miner_ref(miner);
  mc->command = g_strdup(command);
  g_task_set_task_data(task, mc, (GDestroyNotify)miner_call_free);
  am_rpc_call_async(am_miner_get_host(miner), am_miner_get_port(miner), command, parameter,
                    am_miner_get_timeout_ms(miner), cancellable, on_miner_reply, task);
}

AmRpcReply *
am_miner_rpc_finish(AmMiner *miner, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == am_miner_rpc_async, NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- a batch on a miner ---- */

typedef struct {
  AmMiner *miner;
  GStrv commands;
  guint next;
  GHashTable *replies; /* command -> AmRpcReply */
} Batch;

static void
batch_free(Batch *b)
{
  am_miner_unref(b->miner);
  g_strfreev(b->commands);
  g_clear_pointer(&b->replies, g_hash_table_unref);
  g_free(b);
}

static void batch_step(GTask *task);

static void
on_batch_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Batch *b = g_task_get_task_data(task);
  const char *command = b->commands[b->next];
  g_autoptr(GError) error = NULL;
  AmRpcReply *reply = am_miner_rpc_finish(b->miner, result, &error);
  if (reply != NULL) {
    g_hash_table_replace(b->replies, g_strdup(command), reply);
  } else if (g_error_matches(error, AM_ERROR, AM_ERROR_API)) {
    /* "Access denied", "Invalid command": the driver reads it as unsupported. */
    g_debug("leaving %s out: %s", command, error->message);
  } else {
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  b->next++;
  batch_step(g_steal_pointer(&task));
}

static void
batch_step(GTask *task)
{
  Batch *b = g_task_get_task_data(task);
  if (b->commands[b->next] == NULL) {
    g_task_return_pointer(task, g_steal_pointer(&b->replies), (GDestroyNotify)g_hash_table_unref);
    g_object_unref(task);
    return;
  }
  am_miner_rpc_async(b->miner, b->commands[b->next], NULL, g_task_get_cancellable(task),
                     on_batch_reply, task);
}

void
am_miner_rpc_batch_async(AmMiner *miner, const char *const *commands, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail(miner != NULL && commands != NULL);
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_miner_rpc_batch_async);
  g_task_set_check_cancellable(task, FALSE);
  Batch *b = g_new0(Batch, 1);
  b->miner = am_miner_ref(miner);
  b->commands = g_strdupv((char **)commands);
  b->replies =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)am_rpc_reply_unref);
  g_task_set_task_data(task, b, (GDestroyNotify)batch_free);
  batch_step(task);
}

GHashTable *
am_miner_rpc_batch_finish(AmMiner *miner, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == am_miner_rpc_batch_async, NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}
