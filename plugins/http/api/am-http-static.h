/* The dashboard's files, compiled into the plugin as a GResource: the only
 * files the server ever sends. No request path reaches the filesystem. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _AmHttpStatic AmHttpStatic;

/* @resource: the compiled dashboard (transfer none; it outlives this). */
AmHttpStatic *am_http_static_new(GResource *resource, const char *prefix);
void am_http_static_free(AmHttpStatic *assets);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmHttpStatic, am_http_static_free)

/* One file as served. */
typedef struct {
  GBytes *data;             /* (transfer none) */
  const char *content_type; /* static */
  const char *etag;         /* "\"<sha256 prefix>\"" (transfer none) */
} AmHttpAsset;

/* Looks up a request path: "/" and "/index.html" are the dashboard page,
 * "/static/NAME" a file of it. NAME is one segment of [A-Za-z0-9._-] with a
 * known extension; anything else is not found. */
gboolean am_http_static_lookup(AmHttpStatic *assets, const char *path, AmHttpAsset *out);

G_END_DECLS
