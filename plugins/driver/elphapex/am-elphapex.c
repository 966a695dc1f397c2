/* The elphapex driver plugin: Elphapex DG1 and DG Home scrypt miners read
 * through their web server's CGI API (/cgi-bin/NAME.cgi on port 80, HTTP
 * digest auth, realm "Daoge Miner").
 *
 * The module only does I/O: one GET per endpoint, one after another (the
 * miner's web server is small), each under the miner's timeout, then the
 * pure normalizer in am-elphapex-parse.c. The HTTP exchange is the web
 * drivers' shared one (common/am-web-call.c, compiled in): digest auth,
 * size cap and AM_ERROR codes.
 *
 * Firmware drift: a reply that fails while others arrive leaves the sample
 * partial, naming what failed; the poll fails only when nothing usable
 * came back. */
#include "../common/am-web-call.h"
#include "am-elphapex-parse.h"
#include "sample-ini.h"

#include <string.h>

typedef struct {
  guint16 http_port; /* the web port for miners configured on the RPC port */
  guint timeout_ms;  /* per request, at most; the miner's timeout may be shorter */
  char *user;        /* defaults when the miner has no credentials of its own */
  char *password;
  SoupSession *session; /* shared by every poll: keeps digest nonces and sockets */
} AmElphapex;

/* Endpoints that older images may lack: their 404 is not drift. */
static gboolean
is_optional(AmElphapexEndpoint e)
{
  return e == AM_ELPHAPEX_BLINK || e == AM_ELPHAPEX_MINER_CONF;
}

/* get_miner_conf.cgi holds the pools' passwords: it is read for the work
 * mode but never kept for the API's raw view. */
static gboolean
keeps_raw(AmElphapexEndpoint e)
{
  return e != AM_ELPHAPEX_MINER_CONF;
}

/* ---- instance ----------------------------------------------------------- */

static gpointer
elphapex_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  /* Elphapex ships its units as root/root. */
  AmWebSettings web;
  if (!am_web_settings_read(kf, group, "http_port", 80, "root", "root", &web, error))
    return NULL;
  AmElphapex *self = g_new0(AmElphapex, 1);
  self->http_port = web.port;
  self->timeout_ms = web.timeout_ms;
  self->user = g_steal_pointer(&web.user);
  self->password = g_steal_pointer(&web.password);
  self->session = am_web_session_new();
  return self;
}

static void
elphapex_destroy(gpointer instance)
{
  AmElphapex *self = instance;
  g_object_unref(self->session);
  g_free(self->user);
  g_free(self->password);
  g_free(self);
}

static AmMatch
elphapex_match(gpointer self, const AmFingerprint *fp)
{
  return am_elphapex_match(fp);
}

/* ---- one poll ----------------------------------------------------------- */

typedef struct {
  AmMiner *miner;
  SoupSession *session;
  AmWebCall request; /* host, port, credentials, timeout; path per step */
  char *user, *password;
  char *address; /* "host:port" as the HTTP helper writes it */
  AmElphapexEndpoint next;
  AmElphapexReplies replies;
  gboolean read_any;   /* some endpoint gave a JSON object */
  GPtrArray *failures; /* char*: "pools.cgi: HTTP 500 ..." */
} Poll;

static void
poll_free(Poll *p)
{
  am_miner_unref(p->miner);
  g_object_unref(p->session);
  g_free(p->user);
  g_free(p->password);
  g_free(p->address);
  for (guint i = 0; i < AM_ELPHAPEX_N_ENDPOINTS; i++)
    if (p->replies.reply[i] != NULL)
      json_object_unref(p->replies.reply[i]);
  g_ptr_array_unref(p->failures);
  g_free(p);
}

/* The web server's port: the miner's own when it is not the RPC default
 * (the user named the web port, or a NAT mapping), else http_port= (80).
 * core/am-selector.c fingerprints with the same rule. */
static guint16
web_port(AmElphapex *self, AmMiner *miner)
{
  guint16 port = am_miner_get_port(miner);
  return port != AM_RPC_DEFAULT_PORT ? port : self->http_port;
}

/* @message without the "host:port: " the HTTP helper puts in front: the
 * sample's problems are about this miner already. */
static const char *
without_address(Poll *p, const char *message)
{
  gsize n = strlen(p->address);
  if (strncmp(message, p->address, n) == 0 && strncmp(message + n, ": ", 2) == 0)
    return message + n + 2;
  return message;
}

static void
add_failure(Poll *p, AmElphapexEndpoint e, const GError *error)
{
  const char *what = without_address(p, error->message);
  /* The parse errors already start with the endpoint's name. */
  if (g_str_has_prefix(what, am_elphapex_name(e)))
    g_ptr_array_add(p->failures, g_strdup(what));
  else
    g_ptr_array_add(p->failures, g_strdup_printf("%s: %s", am_elphapex_name(e), what));
}

static void
finish_poll(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  AmSample *sample = am_elphapex_parse(&p->replies, &error);
  if (sample == NULL) {
    /* Say why the data replies are missing: "... (stats.cgi: HTTP 500 ...)". */
    GString *message = g_string_new(NULL);
    g_string_printf(message, "%s: %s", p->address, error->message);
    for (guint i = 0; i < p->failures->len; i++)
      g_string_append_printf(message, "%s%s", i == 0 ? " (" : "; ",
                             (const char *)p->failures->pdata[i]);
    if (p->failures->len > 0)
      g_string_append_c(message, ')');
    g_task_return_new_error(task, error->domain, error->code, "%s", message->str);
    g_string_free(message, TRUE);
    return;
  }
  for (guint i = 0; i < p->failures->len; i++)
    am_sample_mark_partial(sample, "%s", (const char *)p->failures->pdata[i]);
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

/* Keeps a 2xx body (for the API's raw view) and its parsed object. */
static void
keep_reply(Poll *p, AmElphapexEndpoint e, GBytes *body)
{
  if (keeps_raw(e))
    am_miner_store_raw(p->miner, am_elphapex_name(e), body);
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  g_autoptr(GError) error = NULL;
  p->replies.reply[e] = am_elphapex_parse_body(e, data, len, &error);
  if (p->replies.reply[e] != NULL)
    p->read_any = TRUE;
  else
    add_failure(p, e, error);
}

/* An error that every later request would meet too: the miner is gone or
 * refuses us. Before anything was read it fails the poll at once. */
static gboolean
is_fatal_first(const GError *error)
{
  return error->domain == AM_ERROR &&
         (error->code == AM_ERROR_AUTH || error->code == AM_ERROR_REFUSED ||
          error->code == AM_ERROR_TIMEOUT || error->code == AM_ERROR_RESET);
}

/* A wrong password says where to set the right one (never what it is). */
static GError *
explain_auth(Poll *p, GError *error)
{
  if (!g_error_matches(error, AM_ERROR, AM_ERROR_AUTH))
    return error;
  GError *better = g_error_new(AM_ERROR, AM_ERROR_AUTH,
                               "%s (user \"%s\"; set user=/password= in [miner:NAME] or "
                               "[driver:elphapex])",
                               error->message, p->user);
  g_error_free(error);
  return better;
}

static void fetch_next(GTask *task);

static void
on_fetched(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  AmElphapexEndpoint e = p->next++;
  GError *error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body != NULL) {
    keep_reply(p, e, body);
  } else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
             (!p->read_any && is_fatal_first(error))) {
    g_task_return_error(task, explain_auth(p, error));
    return;
  } else {
    if (!(is_optional(e) && g_error_matches(error, AM_ERROR, AM_ERROR_UNSUPPORTED)))
      add_failure(p, e, error);
    g_debug("%s", error->message);
    /* The poll's time is spent: finish with what was read. */
    if (g_error_matches(error, AM_ERROR, AM_ERROR_TIMEOUT))
      p->next = AM_ELPHAPEX_N_ENDPOINTS;
    g_error_free(error);
  }
  fetch_next(g_steal_pointer(&task));
}

static void
fetch_next(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  if (p->next >= AM_ELPHAPEX_N_ENDPOINTS) {
    finish_poll(task);
    g_object_unref(task);
    return;
  }
  p->request.path = am_elphapex_path(p->next);
  am_web_call_async(p->session, &p->request, g_task_get_cancellable(task), on_fetched, task);
}

static void
elphapex_poll_async(gpointer instance, AmMiner *miner, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  AmElphapex *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, elphapex_poll_async);
  Poll *p = g_new0(Poll, 1);
  p->miner = am_miner_ref(miner);
  p->session = g_object_ref(self->session);
  p->failures = g_ptr_array_new_with_free_func(g_free);
  /* [miner:NAME] username=/password= win over the driver's defaults. */
  const char *user = am_miner_get_username(miner);
  const char *password = am_miner_get_password(miner);
  p->user = g_strdup(user != NULL ? user : self->user);
  p->password = g_strdup(password != NULL ? password : self->password);
  p->request = (AmWebCall){
      .method = "GET",
      .host = am_miner_get_host(miner),
      .port = web_port(self, miner),
      .username = p->user,
      .password = p->password,
      .timeout_ms = MIN(am_miner_get_timeout_ms(miner), self->timeout_ms),
  };
  p->address = am_web_format_address(p->request.host, p->request.port);
  g_task_set_task_data(task, p, (GDestroyNotify)poll_free);
  fetch_next(task);
}

static AmSample *
elphapex_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

static const AmDriverVTable elphapex_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = elphapex_match,
    .poll_async = elphapex_poll_async,
    .poll_finish = elphapex_poll_finish,
};

AM_PLUGIN_DEFINE(.name = "elphapex", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "Elphapex DG1 and DG Home (scrypt) over their web CGI API "
                                "(HTTP digest, realm \"Daoge Miner\")",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = elphapex_create, .destroy = elphapex_destroy,
                 .vtable.driver = &elphapex_vtable)
