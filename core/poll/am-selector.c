/* Driver selection: one fingerprint (the RPC "version" reply, the web
 * server's answer to GET /, Whatsminer API v3, asked side by side), every
 * driver's opinion, then probes. */
#include "am-selector.h"
#include <antmon/error.h>
#include <antmon/json.h>
#include <antmon/rpc.h>
#include <antmon/version.h>
#include <libsoup/soup.h>
#include <string.h>

/* ---- one poll, finished the core's way -------------------------------- */

typedef struct {
  AmInstance *driver;
  AmMiner *miner;
} PollData;

static void
poll_data_free(PollData *d)
{
  am_miner_unref(d->miner);
  g_free(d);
}

static void
poll_finished(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  PollData *d = g_task_get_task_data(task);
  (void)source;
  g_autoptr(GError) error = NULL;
  AmSample *sample = d->driver->info->vtable.driver->poll_finish(d->driver->self, result, &error);
  if (sample == NULL) {
    if (error == NULL)
      g_set_error(&error, AM_ERROR, AM_ERROR_FAILED, "driver %s failed without saying why",
                  d->driver->info->name);
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  am_sample_set(sample, &sample->host, am_miner_get_host(d->miner));
  sample->port = am_miner_get_port(d->miner);
  am_sample_set(sample, &sample->driver, d->driver->info->name);
  sample->when_us = g_get_real_time(); /* miner clocks are wrong: ours counts */
  am_sample_finish(sample);
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

void
am_driver_poll_async(AmInstance *driver, AmMiner *miner, GCancellable *cancellable,
                     GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_driver_poll_async);
  PollData *d = g_new0(PollData, 1);
  d->driver = driver;
  d->miner = am_miner_ref(miner);
  g_task_set_task_data(task, d, (GDestroyNotify)poll_data_free);
  driver->info->vtable.driver->poll_async(driver->self, miner, cancellable, poll_finished, task);
}

AmSample *
am_driver_poll_finish(GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- ranking ----------------------------------------------------------- */

typedef struct {
  AmInstance *driver;
  AmMatch match;
} Ranked;

static gint
compare_ranked(gconstpointer a, gconstpointer b)
{
  const Ranked *x = a, *y = b;
  if (x->match != y->match)
    return x->match > y->match ? -1 : 1;
  if (x->driver->info->priority != y->driver->info->priority)
    return x->driver->info->priority > y->driver->info->priority ? -1 : 1;
  return g_strcmp0(x->driver->info->name, y->driver->info->name);
}

GPtrArray *
am_selector_rank(GPtrArray *drivers, const AmFingerprint *fp)
{
  g_autoptr(GArray) ranked = g_array_new(FALSE, FALSE, sizeof(Ranked));
  for (guint i = 0; i < drivers->len; i++) {
    AmInstance *driver = drivers->pdata[i];
    Ranked r = {driver, driver->info->vtable.driver->match(driver->self, fp)};
    if (r.match != AM_MATCH_UNSUPPORTED)
      g_array_append_val(ranked, r);
  }
  g_array_sort(ranked, compare_ranked);
  GPtrArray *out = g_ptr_array_new();
  for (guint i = 0; i < ranked->len; i++)
    g_ptr_array_add(out, g_array_index(ranked, Ranked, i).driver);
  return out;
}

/* ---- the fingerprint's ports ----------------------------------------- */

guint16
am_selector_http_port(guint16 port)
{
  return port == AM_RPC_DEFAULT_PORT ? 80 : port;
}

/* ---- identification ---------------------------------------------------- */

/* The fingerprint's probes run side by side under the miner's timeout (the
 * web ones under at most HTTP_PROBE_MAX_MS): "version" on the miner's port,
 * GET / on its web port, and for a miner on the RPC default (or the v3
 * port) one Whatsminer API v3 request on 4433. The first answer some driver
 * is sure of (LIKELY or better) decides; otherwise the drivers are ranked
 * on everything once every probe is in. A cgminer on a LAN answers
 * "version" in milliseconds, so the web and v3 probes then cost a refused
 * or cancelled connection, nothing more.
 *
 * An HTTP server on the RPC port (ePIC UMC on 4028) answers the RPC with
 * an HTTP error (AM_ERROR_PROTOCOL, at once); GET / is then asked on that
 * port too. Should "version" simply not answer, GET / on the RPC port is
 * asked after HTTP_HEAD_START_MS, so a web server that waits for a line
 * end is recognised well before the deadline. */
#define HTTP_HEAD_START_MS 1000
#define HTTP_PROBE_MAX_MS 3000

typedef struct {
  AmMiner *miner;
  GPtrArray *drivers;    /* all driver instances */
  GPtrArray *candidates; /* ranked, being probed */
  guint next;
  GError *last_error;
  gboolean returned; /* the task has completed; late callbacks do nothing */

  GCancellable *probes; /* ours: cancels every fingerprint probe at once */
  gulong probes_handler;
  guint pending; /* fingerprint probes still out */
  guint head_start_id;
  GCancellable *rpc_cancel; /* the "version" call alone, once GET / answered there */
  gboolean rpc_is_http;     /* ... because GET / on the RPC port got an HTTP reply */
  AmRpcReply *version;      /* keeps the fingerprint's JSON alive */
  GError *rpc_error;        /* why "version" gave nothing usable */
  gboolean rpc_done;
  gboolean http_rpc_asked; /* GET / on the RPC port */
  AmHttpPrint http_rpc;
  AmHttpPrint http_web; /* GET / on the web port */
  guint16 web_port;
  gboolean v3_open;
  gboolean ranked;    /* candidates chosen: late fingerprint answers are ignored */
  gboolean http_only; /* ranked on a web server's answer alone */
  AmFingerprint fp;   /* what the candidates were ranked on */
} Identify;

static void
identify_free(Identify *id)
{
  am_miner_unref(id->miner);
  g_ptr_array_unref(id->drivers);
  if (id->candidates != NULL)
    g_ptr_array_unref(id->candidates);
  g_clear_error(&id->last_error);
  g_clear_error(&id->rpc_error);
  if (id->version != NULL)
    am_rpc_reply_unref(id->version);
  am_http_print_clear(&id->http_rpc);
  am_http_print_clear(&id->http_web);
  g_clear_object(&id->probes);
  g_clear_object(&id->rpc_cancel);
  g_free(id);
}

static void
stop_head_start(Identify *id)
{
  if (id->head_start_id != 0) {
    g_source_remove(id->head_start_id);
    id->head_start_id = 0;
  }
}

/* Lets go of every probe still running. */
static void
stop_probes(GTask *task)
{
  Identify *id = g_task_get_task_data(task);
  stop_head_start(id);
  GCancellable *parent = g_task_get_cancellable(task);
  if (parent != NULL && id->probes_handler != 0)
    am_cancel_disconnect(parent, id->probes_handler);
  id->probes_handler = 0;
  if (id->probes != NULL)
    g_cancellable_cancel(id->probes);
  if (id->rpc_cancel != NULL)
    g_cancellable_cancel(id->rpc_cancel);
}

/* Completes the task once. */
static void
identify_return(GTask *task, AmInstance *driver, GError *error)
{
  Identify *id = g_task_get_task_data(task);
  if (id->returned) {
    g_clear_error(&error);
    return;
  }
  id->returned = TRUE;
  stop_probes(task);
  if (error != NULL)
    g_task_return_error(task, error);
  else
    g_task_return_pointer(task, driver, NULL);
}

static void probe_next(GTask *task);

static void
probe_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Identify *id = g_task_get_task_data(task);
  AmInstance *driver = id->candidates->pdata[id->next - 1];
  (void)source;
  GError *error = NULL;
  AmSample *sample = am_driver_poll_finish(result, &error);
  if (sample != NULL) {
    g_debug("%s: identified by driver %s", am_miner_get_address(id->miner), driver->info->name);
    g_object_set_data_full(G_OBJECT(task), "sample", sample, (GDestroyNotify)am_sample_unref);
    identify_return(task, driver, NULL);
    return;
  }
  g_debug("%s: driver %s did not fit: %s", am_miner_get_address(id->miner), driver->info->name,
          error->message);
  /* When only a web server answered, a driver that recognised it for
   * certain has the one useful explanation (wrong password, say); the
   * long shots after it would replace it with an RPC timeout. */
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      (id->http_only &&
       driver->info->vtable.driver->match(driver->self, &id->fp) == AM_MATCH_SUPPORTED)) {
    identify_return(task, NULL, error);
    return;
  }
  /* A refused login says the most (the password is wrong, not the
   * firmware): keep it over the errors of the long shots after it. */
  if (g_error_matches(id->last_error, AM_ERROR, AM_ERROR_AUTH) &&
      !g_error_matches(error, AM_ERROR, AM_ERROR_AUTH)) {
    g_error_free(error);
  } else {
    g_clear_error(&id->last_error);
    id->last_error = error;
  }
  probe_next(task);
}

static void
probe_next(GTask *task)
{
  Identify *id = g_task_get_task_data(task);
  if (id->next >= id->candidates->len) {
    GError *error = g_steal_pointer(&id->last_error);
    if (error == NULL)
      error = g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED, "%s: no installed driver recognises it",
                          am_miner_get_address(id->miner));
    identify_return(task, NULL, error);
    return;
  }
  AmInstance *driver = id->candidates->pdata[id->next++];
  am_driver_poll_async(driver, id->miner, g_task_get_cancellable(task), probe_done,
                       g_object_ref(task));
}

/* Everything the probes learnt so far, as the drivers see it. The web
 * fields come from the web port, or from the RPC port when only that one
 * speaks HTTP. */
static void
fill_fingerprint(AmFingerprint *fp, const Identify *id)
{
  *fp = (AmFingerprint){.struct_size = sizeof(AmFingerprint)};
  fp->host = am_miner_get_host(id->miner);
  fp->port = am_miner_get_port(id->miner);
  fp->rpc_open =
      id->version != NULL || (id->rpc_error != NULL && id->rpc_error->domain == AM_ERROR &&
                              id->rpc_error->code == AM_ERROR_API);
  if (id->version != NULL) {
    JsonObject *root = am_rpc_reply_get_root(id->version);
    fp->version_reply = root;
    fp->version = am_json_array_object(am_json_array(root, "VERSION"), 0);
    fp->description =
        am_json_string(am_json_array_object(am_json_array(root, "STATUS"), 0), "Description");
  }
  fp->http_on_rpc_port = id->http_rpc.open;
  const AmHttpPrint *web = id->http_web.open ? &id->http_web : &id->http_rpc;
  fp->http_port = id->http_web.open ? id->web_port : am_miner_get_port(id->miner);
  fp->http_open = web->open;
  fp->http_status = web->status;
  fp->http_realm = web->realm;
  fp->http_title = web->title;
  fp->http_body = web->body;
  fp->http_server = web->server;
  fp->v3_open = id->v3_open;
  if (!web->open)
    fp->http_port = 0;
}

/* The best match any driver gives @fp. */
static AmMatch
best_match(GPtrArray *drivers, const AmFingerprint *fp)
{
  AmMatch best = AM_MATCH_UNSUPPORTED;
  for (guint i = 0; i < drivers->len; i++) {
    AmInstance *d = drivers->pdata[i];
    best = MAX(best, d->info->vtable.driver->match(d->self, fp));
  }
  return best;
}

static gboolean
is_transport_error(const GError *error)
{
  return error->domain == AM_ERROR &&
         (error->code == AM_ERROR_TIMEOUT || error->code == AM_ERROR_REFUSED ||
          error->code == AM_ERROR_RESET || error->code == AM_ERROR_TOO_LARGE ||
          error->code == AM_ERROR_PARSE || error->code == AM_ERROR_FAILED ||
          error->code == AM_ERROR_PROTOCOL);
}

/* Ranks the drivers on what is known and starts probing them. */
static void
rank(GTask *task)
{
  Identify *id = g_task_get_task_data(task);
  id->ranked = TRUE;
  stop_probes(task);
  fill_fingerprint(&id->fp, id);
  id->http_only = !id->fp.rpc_open && (id->fp.http_open || id->fp.v3_open);
  id->candidates = am_selector_rank(id->drivers, &id->fp);
  /* A web page that no driver is at least LIKELY about is no miner's: it
   * gets no second request (a printer, a switch, a camera). */
  if (id->http_only && best_match(id->drivers, &id->fp) < AM_MATCH_LIKELY)
    g_ptr_array_set_size(id->candidates, 0);
  if (id->candidates->len == 0) {
    GError *error = g_steal_pointer(&id->rpc_error);
    if (id->fp.http_open && !id->fp.rpc_open) {
      g_clear_error(&error);
      error =
          g_error_new(AM_ERROR, AM_ERROR_NOT_MINER, "%s: a web server that is not a known miner",
                      am_miner_get_address(id->miner));
    } else if (error == NULL) {
      error = g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED, "%s: no installed driver recognises it",
                          am_miner_get_address(id->miner));
    }
    identify_return(task, NULL, error);
    return;
  }
  if (id->http_only)
    g_debug("%s: RPC gave nothing usable; HTTP %u realm \"%s\" title \"%s\"%s",
            am_miner_get_address(id->miner), id->fp.http_status,
            id->fp.http_realm ? id->fp.http_realm : "", id->fp.http_title ? id->fp.http_title : "",
            id->fp.v3_open ? "; Whatsminer API v3 answered" : "");
  probe_next(task);
}

/* Called as each probe ends: decides when some driver is sure, or when
 * nothing more is coming. */
static void
consider(GTask *task)
{
  Identify *id = g_task_get_task_data(task);
  if (id->ranked || id->returned)
    return;
  AmFingerprint fp;
  fill_fingerprint(&fp, id);
  if (best_match(id->drivers, &fp) >= AM_MATCH_LIKELY || id->pending == 0)
    rank(task);
}

static void
http_rpc_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Identify *id = g_task_get_task_data(task);
  (void)source;
  id->pending--;
  if (id->ranked || id->returned)
    return;
  am_http_print_copy(&id->http_rpc, am_http_probe_finish(result));
  /* The RPC port speaks HTTP: a web server that waits for a line end would
   * hold "version" until the deadline. Stop it; version_done() says why. */
  if (id->http_rpc.open && !id->rpc_done) {
    id->rpc_is_http = TRUE;
    g_cancellable_cancel(id->rpc_cancel);
  }
  consider(task);
}

static guint
http_timeout_ms(Identify *id)
{
  return MIN(HTTP_PROBE_MAX_MS, am_miner_get_timeout_ms(id->miner));
}

/* GET / on the RPC port itself, once. */
static void
start_http_on_rpc_port(GTask *task)
{
  Identify *id = g_task_get_task_data(task);
  if (id->http_rpc_asked || id->ranked)
    return;
  id->http_rpc_asked = TRUE;
  id->pending++;
  g_debug("%s: asking GET / on the RPC port", am_miner_get_address(id->miner));
  am_http_probe_async(am_miner_get_host(id->miner), am_miner_get_port(id->miner),
                      http_timeout_ms(id), id->probes, http_rpc_done, g_object_ref(task));
}

static gboolean
head_start_over(gpointer user_data)
{
  GTask *task = user_data;
  Identify *id = g_task_get_task_data(task);
  id->head_start_id = 0;
  if (!id->rpc_done)
    start_http_on_rpc_port(task);
  return G_SOURCE_REMOVE;
}

static void
version_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Identify *id = g_task_get_task_data(task);
  (void)source;
  GError *error = NULL;
  AmRpcReply *version = am_miner_rpc_finish(id->miner, result, &error);
  id->pending--;
  id->rpc_done = TRUE;
  if (id->ranked || id->returned) {
    g_clear_error(&error);
    if (version != NULL)
      am_rpc_reply_unref(version);
    return;
  }
  if (id->rpc_is_http && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      !g_cancellable_is_cancelled(id->probes)) {
    g_clear_error(&error);
    error =
        g_error_new(AM_ERROR, AM_ERROR_PROTOCOL, "%s: the port speaks HTTP, not the cgminer API",
                    am_miner_get_address(id->miner));
  }
  if (error != NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    identify_return(task, NULL, error);
    return;
  }
  id->version = version;
  id->rpc_error = error;
  /* The drivers' poll glue keeps "version" between polls under this key
   * (plugins/driver/common/am-driver-learn.h): the probe that follows
   * need not ask it again. */
  if (version != NULL)
    am_miner_keep_reply(id->miner, "version", version);
  /* An API error to "version" (access denied) still says an API is there.
   * A reply some driver is sure of decides now; a plain cgminer reply
   * (Goldshell's, say) waits for the web page, which names the family. */
  if (id->version != NULL || !is_transport_error(error)) {
    consider(task);
    return;
  }
  /* Whatever answered there was no cgminer: ask it GET / now. */
  stop_head_start(id);
  start_http_on_rpc_port(task);
  consider(task);
}

static void
http_web_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Identify *id = g_task_get_task_data(task);
  (void)source;
  id->pending--;
  if (id->ranked || id->returned)
    return;
  am_http_print_copy(&id->http_web, am_http_probe_finish(result));
  consider(task);
}

static void
v3_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Identify *id = g_task_get_task_data(task);
  (void)source;
  id->pending--;
  if (id->ranked || id->returned)
    return;
  id->v3_open = am_v3_probe_finish(result);
  consider(task);
}

static void
identify_start(GTask *task)
{
  Identify *id = g_task_get_task_data(task);
  const char *host = am_miner_get_host(id->miner);
  guint16 port = am_miner_get_port(id->miner);
  guint timeout_ms = am_miner_get_timeout_ms(id->miner);
  id->probes = g_cancellable_new();
  GCancellable *parent = g_task_get_cancellable(task);
  if (parent != NULL)
    id->probes_handler = g_cancellable_connect(parent, G_CALLBACK(am_cancel_other),
                                               g_object_ref(id->probes), g_object_unref);

  id->pending = 1;
  id->rpc_cancel = g_cancellable_new();
  g_cancellable_connect(id->probes, G_CALLBACK(am_cancel_other), g_object_ref(id->rpc_cancel),
                        g_object_unref);
  am_miner_rpc_async(id->miner, "version", NULL, id->rpc_cancel, version_done, g_object_ref(task));
  id->web_port = am_selector_http_port(port);
  /* The web server on its own port is asked at once. A miner named on
   * another port has one way in: its RPC is given a head start there, since
   * a cgminer serves one API connection at a time. */
  if (id->web_port != port) {
    id->pending++;
    am_http_probe_async(host, id->web_port, http_timeout_ms(id), id->probes, http_web_done,
                        g_object_ref(task));
  }
  if (port == AM_RPC_DEFAULT_PORT || port == AM_PROBE_V3_PORT) {
    id->pending++;
    am_v3_probe_async(host, AM_PROBE_V3_PORT, MIN(timeout_ms, HTTP_PROBE_MAX_MS), id->probes,
                      v3_done, g_object_ref(task));
  }
  guint head_start = MIN(HTTP_HEAD_START_MS, timeout_ms / 2);
  id->head_start_id = g_timeout_add_full(G_PRIORITY_DEFAULT, head_start, head_start_over,
                                         g_object_ref(task), g_object_unref);
}

void
am_selector_identify_async(GPtrArray *drivers, AmMiner *miner, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_selector_identify_async);
  Identify *id = g_new0(Identify, 1);
  id->miner = am_miner_ref(miner);
  id->drivers = g_ptr_array_ref(drivers);
  g_task_set_task_data(task, id, (GDestroyNotify)identify_free);

  const char *pin = am_miner_get_driver_pin(miner);
  if (pin == NULL) {
    identify_start(task);
    return;
  }
  id->ranked = TRUE;
  id->candidates = g_ptr_array_new();
  for (guint i = 0; i < drivers->len; i++) {
    AmInstance *d = drivers->pdata[i];
    if (g_str_equal(d->info->name, pin))
      g_ptr_array_add(id->candidates, d);
  }
  if (id->candidates->len == 0) {
    identify_return(task, NULL,
                    g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED,
                                "%s: pinned driver '%s' is not installed",
                                am_miner_get_address(miner), pin));
    return;
  }
  probe_next(task);
}

AmInstance *
am_selector_identify_finish(GAsyncResult *result, AmSample **sample_out, GError **error)
{
  AmInstance *driver = g_task_propagate_pointer(G_TASK(result), error);
  if (driver != NULL && sample_out != NULL) {
    AmSample *sample = g_object_get_data(G_OBJECT(result), "sample");
    *sample_out = am_sample_ref(sample);
  }
  return driver;
}
