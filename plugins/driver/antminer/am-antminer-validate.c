/* Request checks shared by the Antminer drivers. */
#include "am-antminer-validate.h"

#include <string.h>

static gboolean
has_control_char(const char *s)
{
  for (const char *p = s; p != NULL && *p != '\0'; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}

/* "stratum+tcp://host:3333": a scheme, then something after "://". */
static gboolean
is_pool_url(const char *url)
{
  const char *sep = url != NULL ? strstr(url, "://") : NULL;
  return sep != NULL && sep != url && sep[3] != '\0' && !has_control_char(url) &&
         strchr(url, ' ') == NULL;
}

gboolean
am_antminer_check_pools(const AmActionRequest *request, GError **error)
{
  if (request->pools == NULL || request->n_pools == 0 || request->n_pools > AM_ANTMINER_MAX_POOLS) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "Antminer firmware takes 1 to %d pools, not %u",
                AM_ANTMINER_MAX_POOLS, request->pools == NULL ? 0 : request->n_pools);
    return FALSE;
  }
  for (guint i = 0; i < request->n_pools; i++) {
    const AmPoolSetting *pool = &request->pools[i];
    if (!is_pool_url(pool->url)) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "pool %u: the URL must look like stratum+tcp://host:port", i + 1);
      return FALSE;
    }
    if (pool->user == NULL || pool->user[0] == '\0' || has_control_char(pool->user)) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "pool %u: a worker name is required", i + 1);
      return FALSE;
    }
    if (has_control_char(pool->password)) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "pool %u: the password holds a control character", i + 1);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
am_antminer_check_work_mode(const char *mode, GError **error)
{
  if (g_strcmp0(mode, AM_WORK_MODE_LOW) == 0 || g_strcmp0(mode, AM_WORK_MODE_NORMAL) == 0 ||
      g_strcmp0(mode, AM_WORK_MODE_HIGH) == 0)
    return TRUE;
  g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "work mode must be low, normal or high, not '%s'",
              mode != NULL ? mode : "");
  return FALSE;
}
