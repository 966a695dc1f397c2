/* The iceriver driver plugin: Iceriver KS (Kaspa) and AL (Alephium) units,
 * read over their web server on port 80.
 *
 * The module only does I/O: it logs in with
 * POST /user/loginpost?post=6&user=...&pwd=..., keeps the cookies that
 * reply sets, and sends them with POST /user/userpanel (form post=4), whose
 * JSON reply holds everything the unit reports. It logs in every poll: the
 * session's lifetime is not known, and a login is one small request. Each
 * request has a deadline and honours the poll's cancellable. The pure
 * normalizer is am-iceriver-parse.c; the HTTP exchange is the web drivers'
 * shared common/am-web-call.c. */
#include "../common/am-web-call.h"
#include "am-iceriver-parse.h"
#include "sample-ini.h"

#include <string.h>

#define DEFAULT_USER "admin"
#define DEFAULT_PASSWORD "12345678"
/* The web interface sends the command as a form body, pyasic as a query
 * parameter; both are sent so either kind of server finds it. */
#define PANEL_FORM "post=4"
#define FORM_TYPE "application/x-www-form-urlencoded"

typedef struct {
  guint16 http_port; /* the web port for miners configured on the RPC port */
  guint timeout_ms;  /* per request, at most; the miner's timeout may be shorter */
  char *user;        /* defaults when the miner has no credentials of its own */
  char *password;
  SoupSession *session;
} AmIceriver;

/* ---- instance ----------------------------------------------------------- */

static gboolean
read_config(AmIceriver *self, GKeyFile *kf, const char *group, GError **error)
{
  AmWebSettings web;
  if (!am_web_settings_read(kf, group, "http_port", 80, DEFAULT_USER, DEFAULT_PASSWORD, &web,
                            error))
    return FALSE;
  self->http_port = web.port;
  self->timeout_ms = web.timeout_ms;
  self->user = g_steal_pointer(&web.user);
  self->password = g_steal_pointer(&web.password);
  return TRUE;
}

static void
iceriver_destroy(gpointer instance)
{
  AmIceriver *self = instance;
  g_clear_object(&self->session);
  g_free(self->user);
  g_free(self->password);
  g_free(self);
}

static gpointer
iceriver_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  AmIceriver *self = g_new0(AmIceriver, 1);
  if (!read_config(self, kf, group, error)) {
    iceriver_destroy(self);
    return NULL;
  }
  self->session = am_web_session_new();
  return self;
}

static AmMatch
iceriver_match(gpointer self, const AmFingerprint *fp)
{
  return am_iceriver_match(fp);
}

/* ---- one poll ----------------------------------------------------------- */

typedef struct {
  AmMiner *miner;
  SoupSession *session;
  AmWebCall call; /* host, port, timeout; the rest per step */
  char *address;  /* "host:port" of the web server, for messages */
  char *login_query;
  char *cookies;
} Poll;

static void
poll_free(Poll *p)
{
  am_miner_unref(p->miner);
  g_object_unref(p->session);
  g_free(p->address);
  if (p->login_query != NULL)
    memset(p->login_query, 0, strlen(p->login_query)); /* it holds the password */
  g_free(p->login_query);
  g_free(p->cookies);
  g_free(p);
}

/* The miner's own port when it is not the RPC default (the user named the
 * web port, host:80 or a NAT mapping), else the driver's http_port=. */
static guint16
web_port(AmIceriver *self, AmMiner *miner)
{
  guint16 port = am_miner_get_port(miner);
  return port != AM_RPC_DEFAULT_PORT ? port : self->http_port;
}

static void
fail(GTask *task, GError *error)
{
  Poll *p = g_task_get_task_data(task);
  if (!g_str_has_prefix(error->message, p->address))
    g_prefix_error(&error, "%s: ", p->address);
  g_task_return_error(task, error);
}

static void
on_panel(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body == NULL) {
    fail(task, error);
    return;
  }
  am_miner_store_raw(p->miner, "userpanel", body);
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  g_autoptr(JsonObject) panel = am_iceriver_parse_body(AM_ICERIVER_PANEL_PATH, data, len, &error);
  AmSample *sample = panel != NULL ? am_iceriver_parse(panel, &error) : NULL;
  if (sample == NULL) {
    fail(task, error);
    return;
  }
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

static void
on_login(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  p->cookies = am_web_call_cookies(result);
  gsize len = 0;
  const char *data = body != NULL ? g_bytes_get_data(body, &len) : NULL;
  if (body == NULL || !am_iceriver_check_login(data, len, &error)) {
    fail(task, error);
    return;
  }
  p->call.path = AM_ICERIVER_PANEL_PATH;
  p->call.query = PANEL_FORM;
  p->call.body = PANEL_FORM;
  p->call.content_type = FORM_TYPE;
  p->call.cookie = p->cookies;
  GTask *next = g_steal_pointer(&task);
  am_web_call_async(p->session, &p->call, g_task_get_cancellable(next), on_panel, next);
}

static char *
login_query(const char *user, const char *password)
{
  g_autofree char *u = g_uri_escape_string(user, NULL, FALSE);
  g_autofree char *w = g_uri_escape_string(password, NULL, FALSE);
  return g_strdup_printf("post=6&user=%s&pwd=%s", u, w);
}

static void
iceriver_poll_async(gpointer instance, AmMiner *miner, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  AmIceriver *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, iceriver_poll_async);
  Poll *p = g_new0(Poll, 1);
  p->miner = am_miner_ref(miner);
  p->session = g_object_ref(self->session);
  /* [miner:NAME] username=/password= win over the driver's defaults. */
  const char *user = am_miner_get_username(miner);
  const char *password = am_miner_get_password(miner);
  p->login_query =
      login_query(user != NULL ? user : self->user, password != NULL ? password : self->password);
  p->call = (AmWebCall){
      .method = "POST",
      .host = am_miner_get_host(miner),
      .port = web_port(self, miner),
      .path = AM_ICERIVER_LOGIN_PATH,
      .query = p->login_query,
      .timeout_ms = MIN(am_miner_get_timeout_ms(miner), self->timeout_ms),
  };
  p->address = am_web_format_address(p->call.host, p->call.port);
  g_task_set_task_data(task, p, (GDestroyNotify)poll_free);
  am_web_call_async(p->session, &p->call, cancellable, on_login, task);
}

static AmSample *
iceriver_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

static const AmDriverVTable iceriver_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = iceriver_match,
    .poll_async = iceriver_poll_async,
    .poll_finish = iceriver_poll_finish,
};

AM_PLUGIN_DEFINE(.name = "iceriver", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "Iceriver KS and AL units over their web server "
                                "(/user/loginpost, /user/userpanel)",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = iceriver_create, .destroy = iceriver_destroy,
                 .vtable.driver = &iceriver_vtable)
