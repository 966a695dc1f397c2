/* The sealminer driver plugin: Bitdeer SealMiner units running BDMiner.
 *
 * The module only does I/O, in two parts:
 *  - the cgminer API on the miner's port (4028): "stats", "summary",
 *    "pools" and "version", one connection each, one after another;
 *  - the web UI's PHP API on http_port= (80): POST /cgi-bin/login.php with
 *    the form username=...&origin_pwd=... gives a session cookie (kept per
 *    miner across polls), sent on GET /cgi-bin/get_system_info.php and
 *    /cgi-bin/miner-psu-status.php. A refused or stale cookie (401, 403 or
 *    a redirect to the login page) logs in once more.
 * A reply that does not come is left out and the sample marked partial,
 * naming it (a refused web login included); the poll fails only when the
 * miner does not answer at all or neither "stats" nor "summary" came. The
 * pure normalizer is am-sealminer-parse.c; the HTTP exchange is the web
 * drivers' shared common/am-web-call.c, compiled in. */
#include "../common/am-web-call.h"
#include "am-sealminer-parse.h"
#include "sample-ini.h"

#include <string.h>

typedef struct {
  guint16 http_port;
  guint timeout_ms; /* per web request, at most */
  char *user;       /* web login, for miners whose [miner:NAME] gives none */
  char *password;
  SoupSession *session;
  GHashTable *cookies; /* "host:port" of the web server -> the Cookie header */
} AmSealminer;

/* The RPC commands of one poll, in order. */
static const char *const rpc_commands[] = {"stats", "summary", "pools", "version"};
#define N_RPC G_N_ELEMENTS(rpc_commands)

enum { WEB_SYSTEM_INFO, WEB_PSU_STATUS, N_WEB };
static const char *const web_paths[N_WEB] = {AM_SEALMINER_SYSTEM_INFO_PATH,
                                             AM_SEALMINER_PSU_STATUS_PATH};
static const char *const web_names[N_WEB] = {"get_system_info", "miner-psu-status"};

/* ---- instance ----------------------------------------------------------- */

static gpointer
sealminer_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  /* SealMiners ship with the web login seal/seal. */
  AmWebSettings web;
  if (!am_web_settings_read(kf, group, "http_port", 80, "seal", "seal", &web, error))
    return NULL;
  AmSealminer *self = g_new0(AmSealminer, 1);
  self->http_port = web.port;
  self->timeout_ms = web.timeout_ms;
  self->user = g_steal_pointer(&web.user);
  self->password = g_steal_pointer(&web.password);
  self->session = am_web_session_new();
  self->cookies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

static void
sealminer_destroy(gpointer instance)
{
  AmSealminer *self = instance;
  g_object_unref(self->session);
  g_hash_table_unref(self->cookies);
  g_free(self->user);
  g_free(self->password);
  g_free(self);
}

static AmMatch
sealminer_match(gpointer self, const AmFingerprint *fp)
{
  return am_sealminer_match(fp);
}

/* ---- one poll ----------------------------------------------------------- */

typedef struct {
  AmMiner *miner;
  SoupSession *session;
  GHashTable *cookies; /* the instance's, referenced */
  char *host;
  guint16 http_port;
  guint timeout_ms;
  char *web_address; /* "host:port" of the web server: messages, cookie cache */
  char *user, *password;
  char *cookie;
  guint step; /* the RPC command, then the web path, being asked */
  gboolean relogged;
  guint n_read;
  JsonObject *rpc[N_RPC];
  JsonObject *web[N_WEB];
  GPtrArray *missing; /* char*: what did not come, and why */
} Poll;

static void
poll_free(Poll *p)
{
  am_miner_unref(p->miner);
  g_object_unref(p->session);
  g_hash_table_unref(p->cookies);
  g_free(p->host);
  g_free(p->web_address);
  g_free(p->user);
  g_free(p->password);
  g_free(p->cookie);
  for (guint i = 0; i < N_RPC; i++)
    g_clear_pointer(&p->rpc[i], json_object_unref);
  for (guint i = 0; i < N_WEB; i++)
    g_clear_pointer(&p->web[i], json_object_unref);
  g_ptr_array_unref(p->missing);
  g_free(p);
}

static void rpc_step(GTask *task);
static void web_step(GTask *task);
static void web_login(GTask *task);

/* What did not come, joined by "; ", or NULL when all came. */
static char *
missing_text(Poll *p)
{
  if (p->missing->len == 0)
    return NULL;
  g_ptr_array_add(p->missing, NULL);
  char *text = g_strjoinv("; ", (char **)p->missing->pdata);
  g_ptr_array_remove_index(p->missing, p->missing->len - 1);
  return text;
}

/* Takes the caller's reference to @task. */
static void
finish_poll(GTask *task_ref)
{
  g_autoptr(GTask) task = task_ref;
  Poll *p = g_task_get_task_data(task);
  AmSealminerReplies replies = {.stats = p->rpc[0],
                                .summary = p->rpc[1],
                                .pools = p->rpc[2],
                                .version = p->rpc[3],
                                .system_info = p->web[WEB_SYSTEM_INFO],
                                .psu_status = p->web[WEB_PSU_STATUS]};
  g_autoptr(GError) error = NULL;
  AmSample *sample = am_sealminer_parse(&replies, &error);
  if (sample == NULL) {
    g_autofree char *why = missing_text(p);
    g_task_return_new_error(task, AM_ERROR, error->code, "%s: %s", am_miner_get_address(p->miner),
                            why != NULL ? why : error->message);
    return;
  }
  g_autofree char *why = missing_text(p);
  if (why != NULL)
    am_sample_mark_partial(sample, "%s", why);
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

/* Records a reply that did not come. */
static void
note_missing(Poll *p, const char *why)
{
  g_ptr_array_add(p->missing, g_strdup(why));
}

/* ---- the web part ------------------------------------------------------- */

static void
web_next(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  if (++p->step < N_WEB)
    web_step(task);
  else
    finish_poll(task);
}

/* The session is gone when the PHP API refuses us or sends us to its login
 * page. */
static gboolean
is_logged_out(const GError *error, guint status)
{
  return g_error_matches(error, AM_ERROR, AM_ERROR_AUTH) ||
         (status >= 300 && status < 400 && error->domain == AM_ERROR);
}

static void
on_web(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  guint status = 0;
  g_autoptr(GBytes) body = am_web_call_finish(result, &status, &error);
  if (body == NULL) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_task_return_error(task, g_steal_pointer(&error));
      return;
    }
    if (is_logged_out(error, status) && !p->relogged) {
      g_hash_table_remove(p->cookies, p->web_address);
      p->relogged = TRUE;
      web_login(g_steal_pointer(&task));
      return;
    }
    note_missing(p, error->message);
    web_next(g_steal_pointer(&task));
    return;
  }
  am_miner_store_raw(p->miner, web_names[p->step], body);
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  p->web[p->step] = am_sealminer_parse_web(web_paths[p->step], data, len, &error);
  if (p->web[p->step] == NULL) {
    g_prefix_error(&error, "%s: ", p->web_address);
    note_missing(p, error->message);
  }
  web_next(g_steal_pointer(&task));
}

static void
web_step(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  AmWebCall call = {.host = p->host,
                    .port = p->http_port,
                    .method = "GET",
                    .path = web_paths[p->step],
                    .cookie = p->cookie,
                    .no_redirect = TRUE, /* a redirect to the login page: logged out */
                    .timeout_ms = p->timeout_ms};
  am_web_call_async(p->session, &call, g_task_get_cancellable(task), on_web, task);
}

/* Without a session nothing of the web part comes: both replies are
 * missing for the same reason. */
static void
web_give_up(GTask *task, const char *why)
{
  Poll *p = g_task_get_task_data(task);
  for (guint i = 0; i < N_WEB; i++) {
    g_autofree char *text = g_strdup_printf("no %s: %s", web_paths[i], why);
    note_missing(p, text);
  }
  finish_poll(task);
}

static void
on_login(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autofree char *cookie = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body != NULL)
    cookie = am_web_call_cookies(result);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  if (body == NULL && !g_error_matches(error, AM_ERROR, AM_ERROR_AUTH)) {
    web_give_up(g_steal_pointer(&task), error->message);
    return;
  }
  if (body == NULL || cookie == NULL) {
    /* BDMiner answers a refused login without a session cookie. */
    g_autofree char *why =
        g_strdup_printf("%s: web login refused: wrong user or password (user=/password= in "
                        "[driver:sealminer] or the miner's group)",
                        p->web_address);
    web_give_up(g_steal_pointer(&task), why);
    return;
  }
  g_free(p->cookie);
  p->cookie = g_strdup(cookie);
  g_hash_table_replace(p->cookies, g_strdup(p->web_address), g_steal_pointer(&cookie));
  web_step(g_steal_pointer(&task));
}

static void
web_login(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  g_autofree char *user = g_uri_escape_string(p->user, NULL, FALSE);
  g_autofree char *password = g_uri_escape_string(p->password, NULL, FALSE);
  g_autofree char *form = g_strdup_printf("username=%s&origin_pwd=%s", user, password);
  AmWebCall call = {.host = p->host,
                    .port = p->http_port,
                    .method = "POST",
                    .path = AM_SEALMINER_LOGIN_PATH,
                    .body = form,
                    .content_type = "application/x-www-form-urlencoded; charset=UTF-8",
                    .no_redirect = TRUE,
                    .timeout_ms = p->timeout_ms};
  am_web_call_async(p->session, &call, g_task_get_cancellable(task), on_login, task);
  /* The request copied the form; wipe ours and the escaped password. */
  memset(form, 0, strlen(form));
  memset(password, 0, strlen(password));
}

static void
web_start(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  p->step = 0;
  const char *cookie = g_hash_table_lookup(p->cookies, p->web_address);
  if (cookie == NULL) {
    web_login(task);
    return;
  }
  p->cookie = g_strdup(cookie);
  web_step(task);
}

/* ---- the RPC part ------------------------------------------------------- */

static void
on_rpc(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmRpcReply) reply = am_miner_rpc_finish(p->miner, result, &error);
  if (reply == NULL) {
    /* A miner that does not answer at all fails the poll at once. */
    gboolean unreachable = g_error_matches(error, AM_ERROR, AM_ERROR_TIMEOUT) ||
                           g_error_matches(error, AM_ERROR, AM_ERROR_REFUSED);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
        (unreachable && p->n_read == 0)) {
      g_task_return_error(task, g_steal_pointer(&error));
      return;
    }
    g_prefix_error(&error, "\"%s\": ", rpc_commands[p->step]);
    note_missing(p, error->message);
  } else {
    p->rpc[p->step] = json_object_ref(am_rpc_reply_get_root(reply));
    p->n_read++;
  }
  if (++p->step < N_RPC)
    rpc_step(g_steal_pointer(&task));
  else
    web_start(g_steal_pointer(&task));
}

static void
rpc_step(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  am_miner_rpc_async(p->miner, rpc_commands[p->step], NULL, g_task_get_cancellable(task), on_rpc,
                     task);
}

static void
sealminer_poll_async(gpointer instance, AmMiner *miner, GCancellable *cancellable,
                     GAsyncReadyCallback callback, gpointer user_data)
{
  AmSealminer *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, sealminer_poll_async);
  Poll *p = g_new0(Poll, 1);
  p->miner = am_miner_ref(miner);
  p->session = g_object_ref(self->session);
  p->cookies = g_hash_table_ref(self->cookies);
  p->host = g_strdup(am_miner_get_host(miner));
  p->http_port = self->http_port;
  p->timeout_ms = MIN(am_miner_get_timeout_ms(miner), self->timeout_ms);
  p->web_address = strchr(p->host, ':') != NULL ? g_strdup_printf("[%s]:%u", p->host, p->http_port)
                                                : g_strdup_printf("%s:%u", p->host, p->http_port);
  /* [miner:NAME] username=/password= win over the driver's defaults. */
  const char *user = am_miner_get_username(miner);
  const char *password = am_miner_get_password(miner);
  p->user = g_strdup(user != NULL ? user : self->user);
  p->password = g_strdup(password != NULL ? password : self->password);
  p->missing = g_ptr_array_new_with_free_func(g_free);
  g_task_set_task_data(task, p, (GDestroyNotify)poll_free);
  rpc_step(task);
}

static AmSample *
sealminer_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

static const AmDriverVTable sealminer_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = sealminer_match,
    .poll_async = sealminer_poll_async,
    .poll_finish = sealminer_poll_finish,
};

AM_PLUGIN_DEFINE(.name = "sealminer", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "Bitdeer SealMiner (BDMiner), over its cgminer API on 4028 and "
                                "its web UI's PHP API (login cookie)",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = sealminer_create, .destroy = sealminer_destroy,
                 .vtable.driver = &sealminer_vtable)
