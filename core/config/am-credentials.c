/* [credentials:NAME] groups and a miner's login (see am-credentials.h).
 *
 * Groups are kept in file order and a lookup walks them until the first
 * match: with a few dozen groups and the host parsed once per lookup,
 * that is a few hundred integer comparisons, cheaper than any index would
 * be to keep right. Passwords are wiped from memory when freed and never
 * written into a message. */
#include "am-credentials.h"
#include "am-host-set.h"
#include <antmon/config.h>
#include <antmon/error.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GROUP_PREFIX "credentials:"
/* A password file larger than this is not a password file. */
#define MAX_SECRET_FILE_BYTES (64 * 1024)

typedef struct {
  char *group;       /* "credentials:NAME" */
  AmHostSet *hosts;  /* hosts=, or NULL: any host */
  GPtrArray *models; /* model= GPatternSpec*, lower case, or NULL: any */
  char **drivers;    /* driver= names, lower case, or NULL: any */
  char *user;        /* or NULL */
  char *password;    /* or NULL */
} Group;

typedef struct {
  char *user;
  char *password;
} Login;

struct _AmCredentials {
  GPtrArray *groups; /* Group*, enabled ones, in file order */
  GHashTable *own;   /* "host:port" -> Login*, from [miner:NAME] */
};

/* ---- the objects ------------------------------------------------------- */

/* Overwrites a secret before freeing it, so it does not linger in a core
 * dump or in memory handed out again. */
static void
free_secret(char *secret)
{
  if (secret != NULL)
    memset(secret, 0, strlen(secret));
  g_free(secret);
}

static void
group_free(Group *g)
{
  if (g == NULL)
    return;
  g_free(g->group);
  g_clear_pointer(&g->hosts, am_host_set_free);
  g_clear_pointer(&g->models, g_ptr_array_unref);
  g_strfreev(g->drivers);
  g_free(g->user);
  free_secret(g->password);
  g_free(g);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Group, group_free)

static void
login_free(Login *login)
{
  g_free(login->user);
  free_secret(login->password);
  g_free(login);
}

void
am_credentials_free(AmCredentials *c)
{
  if (c == NULL)
    return;
  g_ptr_array_unref(c->groups);
  g_hash_table_unref(c->own);
  g_free(c);
}

static AmCredentials *
credentials_new(void)
{
  AmCredentials *c = g_new0(AmCredentials, 1);
  c->groups = g_ptr_array_new_with_free_func((GDestroyNotify)group_free);
  c->own = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)login_free);
  return c;
}

guint
am_credentials_get_n_groups(const AmCredentials *c)
{
  return c != NULL ? c->groups->len : 0;
}

void
am_credentials_add_own(AmCredentials *c, const char *address, const char *user,
                       const char *password)
{
  g_return_if_fail(c != NULL && address != NULL);
  Login *login = g_new0(Login, 1);
  login->user = g_strdup(user);
  login->password = g_strdup(password);
  g_hash_table_replace(c->own, g_strdup(address), login);
}

/* ---- reading one group ------------------------------------------------- */

static gboolean config_error(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean
config_error(GError **error, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree char *message = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error_literal(error, AM_ERROR, AM_ERROR_CONFIG, message);
  return FALSE;
}

/* @key's ';' list; FALSE with @error if the key is present but lists
 * nothing ("model=" or "hosts=;"), which would make the group match no
 * miner or every miner without saying so. Sets *@out NULL when absent. */
static gboolean
read_list(GKeyFile *kf, const char *group, const char *key, char ***out, GError **error)
{
  *out = NULL;
  if (!g_key_file_has_key(kf, group, key, NULL))
    return TRUE;
  g_auto(GStrv) items = am_config_get_list(kf, group, key, error);
  if (items == NULL)
    return FALSE;
  if (items[0] == NULL)
    return config_error(error, "[%s] %s is empty: expected a ';' list of one item or more", group,
                        key);
  *out = g_steal_pointer(&items);
  return TRUE;
}

static gboolean
read_hosts(GKeyFile *kf, Group *g, GError **error)
{
  g_auto(GStrv) items = NULL;
  if (!read_list(kf, g->group, "hosts", &items, error))
    return FALSE;
  if (items == NULL)
    return TRUE;
  g->hosts = am_host_set_new();
  for (guint i = 0; items[i] != NULL; i++)
    if (!am_host_set_add(g->hosts, items[i]))
      return config_error(error, "[%s] hosts=%s: expected %s", g->group, items[i],
                          AM_HOST_SET_EXPECTED);
  return TRUE;
}

/* Model globs compare without case, as the alert rules' per-model keys do:
 * firmwares disagree on "Antminer" and "antminer". */
static gboolean
read_models(GKeyFile *kf, Group *g, GError **error)
{
  g_auto(GStrv) items = NULL;
  if (!read_list(kf, g->group, "model", &items, error))
    return FALSE;
  if (items == NULL)
    return TRUE;
  g->models = g_ptr_array_new_with_free_func((GDestroyNotify)g_pattern_spec_free);
  for (guint i = 0; items[i] != NULL; i++) {
    g_autofree char *lower = g_utf8_strdown(items[i], -1);
    g_ptr_array_add(g->models, g_pattern_spec_new(lower));
  }
  return TRUE;
}

static gboolean
is_driver_name(const char *name)
{
  static const char allowed[] = "abcdefghijklmnopqrstuvwxyz0123456789-_";
  return name[0] != '\0' && strspn(name, allowed) == strlen(name);
}

static gboolean
read_drivers(GKeyFile *kf, Group *g, GError **error)
{
  if (!read_list(kf, g->group, "driver", &g->drivers, error))
    return FALSE;
  for (guint i = 0; g->drivers != NULL && g->drivers[i] != NULL; i++) {
    char *lower = g_ascii_strdown(g->drivers[i], -1);
    g_free(g->drivers[i]);
    g->drivers[i] = lower;
    if (!is_driver_name(lower))
      return config_error(error,
                          "[%s] driver=%s: expected driver names of letters, digits, '-' and '_' "
                          "(see `antmon plugins`)",
                          g->group, lower);
  }
  return TRUE;
}

/* user=, or username= as [miner:NAME] spells it; not both. */
static gboolean
read_user(GKeyFile *kf, Group *g, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *user = am_config_get_string(kf, g->group, "user", NULL, &local);
  g_autofree char *username =
      local == NULL ? am_config_get_string(kf, g->group, "username", NULL, &local) : NULL;
  if (local != NULL) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  if (user != NULL && username != NULL)
    return config_error(error, "[%s] user and username are both set: keep one", g->group);
  g->user = user != NULL ? g_steal_pointer(&user) : g_steal_pointer(&username);
  return TRUE;
}

/* Reads @fd to its end, at most MAX_SECRET_FILE_BYTES. */
static char *
read_fd(int fd, const char *group, const char *path, GError **error)
{
  g_autoptr(GString) content = g_string_new(NULL);
  char buffer[4096];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;
      config_error(error, "[%s] password_file=%s: expected a readable file (%s)", group, path,
                   g_strerror(saved));
      return NULL;
    }
    if (n == 0)
      break;
    g_string_append_len(content, buffer, n);
    if (content->len > MAX_SECRET_FILE_BYTES) {
      config_error(error, "[%s] password_file=%s: expected a file of at most 64 KiB", group, path);
      return NULL;
    }
  }
  if (content->len > 0 && content->str[content->len - 1] == '\n')
    g_string_truncate(content, content->len - 1);
  if (content->len > 0 && content->str[content->len - 1] == '\r')
    g_string_truncate(content, content->len - 1);
  return g_string_free(g_steal_pointer(&content), FALSE);
}

/* A password file, refused when others may read or write it (ssh refuses a
 * private key the same way): a login to a whole rack must not be readable
 * by every account on the host. The mode is read from the opened file, so
 * it is the file that was checked that is read. */
static char *
read_private_file(const char *group, const char *path, GError **error)
{
  int fd = g_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0) {
    int saved = errno;
    config_error(error, "[%s] password_file=%s: expected a readable file (%s)", group, path,
                 g_strerror(saved));
    return NULL;
  }
  struct stat st;
  char *secret = NULL;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    config_error(error, "[%s] password_file=%s: expected a regular file", group, path);
  else if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0)
    config_error(error,
                 "[%s] password_file=%s: expected a file that others cannot read or write, but "
                 "its mode is %04o: run chmod 600 %s",
                 group, path, (unsigned)(st.st_mode & 07777), path);
  else
    secret = read_fd(fd, group, path, error);
  close(fd);
  return secret;
}

/* password= (with ${ENV}) or password_file=; not both. */
static gboolean
read_password(GKeyFile *kf, Group *g, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *path = am_config_get_string(kf, g->group, "password_file", NULL, &local);
  if (path == NULL && local == NULL)
    g->password = am_config_get_secret(kf, g->group, "password", &local);
  if (local != NULL) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  if (path == NULL)
    return TRUE;
  g_autofree char *inline_value = g_key_file_get_value(kf, g->group, "password", NULL);
  if (inline_value != NULL && g_strstrip(inline_value)[0] != '\0')
    return config_error(error, "[%s] password and password_file are both set: keep one", g->group);
  g->password = read_private_file(g->group, path, error);
  return g->password != NULL;
}

/* Reads and checks [credentials:NAME] as a whole. */
static Group *
read_group(GKeyFile *kf, const char *group_name, gboolean *enabled, GError **error)
{
  if (group_name[strlen(GROUP_PREFIX)] == '\0') {
    config_error(error, "[%s] expected a name after '%s'", group_name, GROUP_PREFIX);
    return NULL;
  }
  g_autoptr(Group) g = g_new0(Group, 1);
  g->group = g_strdup(group_name);
  if (!read_hosts(kf, g, error) || !read_models(kf, g, error) || !read_drivers(kf, g, error) ||
      !read_user(kf, g, error) || !read_password(kf, g, error) ||
      !am_config_get_bool(kf, group_name, "enabled", TRUE, enabled, error))
    return NULL;
  if (g->hosts == NULL && g->models == NULL && g->drivers == NULL) {
    config_error(error,
                 "[%s] sets none of hosts=, model= and driver=: expected at least one, or the "
                 "group matches no miner",
                 group_name);
    return NULL;
  }
  if (g->user == NULL && g->password == NULL) {
    config_error(error, "[%s] sets neither user= nor password=: expected at least one", group_name);
    return NULL;
  }
  return g_steal_pointer(&g);
}

AmCredentials *
am_credentials_load(GKeyFile *kf, const char *path, GError **error)
{
  g_return_val_if_fail(kf != NULL && path != NULL, NULL);
  g_autoptr(AmCredentials) c = credentials_new();
  g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++) {
    if (!g_str_has_prefix(groups[i], GROUP_PREFIX))
      continue;
    gboolean enabled = TRUE;
    Group *g = read_group(kf, groups[i], &enabled, error);
    if (g == NULL) {
      g_prefix_error(error, "%s: ", path);
      return NULL;
    }
    if (enabled)
      g_ptr_array_add(c->groups, g);
    else
      group_free(g);
  }
  return g_steal_pointer(&c);
}

/* ---- matching ---------------------------------------------------------- */

static gboolean
model_matches(const Group *g, const char *lower_model)
{
  if (g->models == NULL)
    return TRUE;
  if (lower_model == NULL)
    return FALSE;
  for (guint i = 0; i < g->models->len; i++)
    if (g_pattern_spec_match_string(g->models->pdata[i], lower_model))
      return TRUE;
  return FALSE;
}

static gboolean
driver_matches(const Group *g, const char *driver)
{
  if (g->drivers == NULL)
    return TRUE;
  if (driver == NULL)
    return FALSE;
  for (guint i = 0; g->drivers[i] != NULL; i++)
    if (g_ascii_strcasecmp(g->drivers[i], driver) == 0)
      return TRUE;
  return FALSE;
}

/* The first group matching, or NULL. Host and model are prepared once
 * here, not once per group. */
static const Group *
find_group(AmCredentials *c, const char *host, const char *model, const char *driver)
{
  g_auto(AmHostKey) key;
  am_host_key_init(&key, host);
  g_autofree char *lower_model = model != NULL ? g_utf8_strdown(model, -1) : NULL;
  for (guint i = 0; i < c->groups->len; i++) {
    const Group *g = c->groups->pdata[i];
    if ((g->hosts == NULL || am_host_set_contains(g->hosts, &key)) &&
        model_matches(g, lower_model) && driver_matches(g, driver))
      return g;
  }
  return NULL;
}

static void
set_out(const char **out, const char *value)
{
  if (out != NULL)
    *out = value;
}

gboolean
am_credentials_lookup(AmCredentials *c, const char *host, const char *model, const char *driver,
                      const char **user, const char **password, const char **group_name)
{
  g_return_val_if_fail(c != NULL && host != NULL, FALSE);
  const Group *g = find_group(c, host, model, driver);
  set_out(user, g != NULL ? g->user : NULL);
  set_out(password, g != NULL ? g->password : NULL);
  set_out(group_name, g != NULL ? g->group + strlen(GROUP_PREFIX) : NULL);
  return g != NULL;
}

const char *
am_credentials_apply(AmCredentials *c, AmMiner *miner, const char *model, const char *driver)
{
  g_return_val_if_fail(miner != NULL, NULL);
  if (c == NULL)
    return NULL;
  const char *user = NULL, *password = NULL, *source = NULL;
  const Login *own = g_hash_table_lookup(c->own, am_miner_get_address(miner));
  if (own != NULL) {
    user = own->user;
    password = own->password;
    source = "miner";
  } else {
    const Group *g = find_group(c, am_miner_get_host(miner), model, driver);
    if (g != NULL) {
      user = g->user;
      password = g->password;
      source = g->group;
    }
  }
  /* Only on a change: a driver may hold the current strings while a call
   * is in flight, and most calls here change nothing. */
  if (g_strcmp0(user, am_miner_get_username(miner)) != 0 ||
      g_strcmp0(password, am_miner_get_password(miner)) != 0)
    am_miner_set_credentials(miner, user, password);
  return source;
}
