/* AmMiner: a miner's address, access settings and last raw replies.
 *
 * Raw replies are kept only while somebody wants them: for RAW_KEEP_US after
 * the raw view was last asked for, or after a failed call or poll. Kept for
 * every miner they would be most of the daemon's memory (7.5 KB per S9 poll,
 * 75 MB at 10,000 miners: tests/bench/bench-poll.sh). */
#include "am-miner-private.h"

#include <antmon/miner.h>
#include <antmon/rpc.h>
#include <antmon/sample.h>
#include <string.h>

struct _AmMiner {
  gint ref_count;
  char *host;
  guint16 port;
  char *address;
  char *name;
  char *username;
  char *password;
  char *driver_pin;
  guint timeout_ms;
  GMutex raw_lock;            /* guards the two below */
  GHashTable *raw;            /* command -> RawReply */
  gint64 raw_wanted_until_us; /* monotonic; keep replies until then */
  GMutex memo_lock;           /* guards memo */
  GHashTable *memo;           /* key -> Memo: what drivers remember; NULL until used */
};

/* How long one look at the raw view (or one failure) keeps replies coming:
 * long enough to read them and ask the vendor, short enough that a fleet
 * browsed once does not keep them all. */
#define RAW_KEEP_US (10 * G_TIME_SPAN_MINUTE)

typedef struct {
  gint64 when_us;
  GBytes *bytes;
} RawReply;

static void
raw_reply_free(RawReply *r)
{
  g_bytes_unref(r->bytes);
  g_free(r);
}

/* One remembered thing: a kept reply or a note (am_miner_keep_reply(),
 * am_miner_set_note()); the two share a table, which exists only once a
 * driver remembers something, so a miner costs nothing more until then. */
typedef struct {
  AmRpcReply *reply;
  char *note;
  gint64 when_us; /* monotonic */
} Memo;

static void
memo_free(Memo *m)
{
  g_clear_pointer(&m->reply, am_rpc_reply_unref);
  g_free(m->note);
  g_free(m);
}

AmMiner *
am_miner_new(const char *host, guint16 port)
{
  g_return_val_if_fail(host != NULL, NULL);
  AmMiner *m = g_new0(AmMiner, 1);
  m->ref_count = 1;
  m->host = g_strdup(host);
  m->port = port;
  m->address = strchr(host, ':') != NULL ? g_strdup_printf("[%s]:%u", host, port)
                                         : g_strdup_printf("%s:%u", host, port);
  m->name = g_strdup(host);
  m->timeout_ms = AM_RPC_DEFAULT_TIMEOUT_MS;
  g_mutex_init(&m->raw_lock);
  m->raw = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)raw_reply_free);
  g_mutex_init(&m->memo_lock);
  return m;
}

AmMiner *
am_miner_ref(AmMiner *miner)
{
  g_atomic_int_inc(&miner->ref_count);
  return miner;
}

void
am_miner_unref(AmMiner *m)
{
  if (m == NULL || !g_atomic_int_dec_and_test(&m->ref_count))
    return;
  g_free(m->host);
  g_free(m->address);
  g_free(m->name);
  g_free(m->username);
  if (m->password != NULL)
    memset(m->password, 0, strlen(m->password));
  g_free(m->password);
  g_free(m->driver_pin);
  g_hash_table_unref(m->raw);
  g_mutex_clear(&m->raw_lock);
  g_clear_pointer(&m->memo, g_hash_table_unref);
  g_mutex_clear(&m->memo_lock);
  g_free(m);
}

const char *
am_miner_get_host(const AmMiner *m)
{
  return m->host;
}

guint16
am_miner_get_port(const AmMiner *m)
{
  return m->port;
}

const char *
am_miner_get_address(const AmMiner *m)
{
  return m->address;
}

const char *
am_miner_get_name(const AmMiner *m)
{
  return m->name;
}

void
am_miner_set_name(AmMiner *m, const char *name)
{
  g_free(m->name);
  m->name = g_strdup(name != NULL ? name : m->host);
}

const char *
am_miner_get_username(const AmMiner *m)
{
  return m->username;
}

const char *
am_miner_get_password(const AmMiner *m)
{
  return m->password;
}

void
am_miner_set_credentials(AmMiner *m, const char *username, const char *password)
{
  g_free(m->username);
  g_free(m->password);
  m->username = g_strdup(username);
  m->password = g_strdup(password);
}

guint
am_miner_get_timeout_ms(const AmMiner *m)
{
  return m->timeout_ms;
}

void
am_miner_set_timeout_ms(AmMiner *m, guint timeout_ms)
{
  m->timeout_ms = timeout_ms > 0 ? timeout_ms : AM_RPC_DEFAULT_TIMEOUT_MS;
}

const char *
am_miner_get_driver_pin(const AmMiner *m)
{
  return m->driver_pin;
}

void
am_miner_set_driver_pin(AmMiner *m, const char *driver)
{
  g_free(m->driver_pin);
  m->driver_pin = g_strdup(driver);
}

void
am_miner_want_raw(AmMiner *m)
{
  g_return_if_fail(m != NULL);
  g_mutex_lock(&m->raw_lock);
  m->raw_wanted_until_us = g_get_monotonic_time() + RAW_KEEP_US;
  g_mutex_unlock(&m->raw_lock);
}

gboolean
am_miner_raw_wanted(AmMiner *m)
{
  g_return_val_if_fail(m != NULL, FALSE);
  g_mutex_lock(&m->raw_lock);
  gboolean wanted = g_get_monotonic_time() < m->raw_wanted_until_us;
  g_mutex_unlock(&m->raw_lock);
  return wanted;
}

gboolean
am_miner_has_raw(AmMiner *m)
{
  g_return_val_if_fail(m != NULL, FALSE);
  g_mutex_lock(&m->raw_lock);
  gboolean any = g_hash_table_size(m->raw) > 0;
  g_mutex_unlock(&m->raw_lock);
  return any;
}

void
am_miner_store_raw(AmMiner *m, const char *command, GBytes *raw)
{
  g_return_if_fail(m != NULL && command != NULL);
  g_mutex_lock(&m->raw_lock);
  if (g_get_monotonic_time() < m->raw_wanted_until_us) {
    RawReply *r = g_new0(RawReply, 1);
    r->when_us = g_get_real_time();
    r->bytes = raw != NULL ? g_bytes_ref(raw) : g_bytes_new(NULL, 0);
    g_hash_table_replace(m->raw, g_strdup(command), r);
  } else {
    /* Nobody looked for a while: give the memory back. */
    g_hash_table_remove_all(m->raw);
  }
  g_mutex_unlock(&m->raw_lock);
}

JsonNode *
am_miner_raw_to_json(AmMiner *m)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  g_mutex_lock(&m->raw_lock);
  /* Looking is wanting: the replies of the coming polls are kept. */
  m->raw_wanted_until_us = g_get_monotonic_time() + RAW_KEEP_US;
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, m->raw);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    RawReply *r = value;
    gsize len = 0;
    const char *data = g_bytes_get_data(r->bytes, &len);
    /* Replies are text but may hold NULs or invalid UTF-8: show them safely. */
    g_autofree char *text = g_utf8_make_valid(data != NULL ? data : "", len);
    g_autofree char *when = am_time_to_iso8601(r->when_us);
    json_builder_set_member_name(b, key);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "when");
    json_builder_add_string_value(b, when);
    json_builder_set_member_name(b, "bytes");
    json_builder_add_int_value(b, (gint64)len);
    json_builder_set_member_name(b, "text");
    json_builder_add_string_value(b, text);
    json_builder_end_object(b);
  }
  g_mutex_unlock(&m->raw_lock);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* Stores @memo under @key (NULL removes it); takes @memo. */
static void
memo_put(AmMiner *m, const char *key, Memo *memo)
{
  g_mutex_lock(&m->memo_lock);
  if (memo != NULL && m->memo == NULL)
    m->memo = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)memo_free);
  if (memo != NULL)
    g_hash_table_replace(m->memo, g_strdup(key), memo);
  else if (m->memo != NULL)
    g_hash_table_remove(m->memo, key);
  g_mutex_unlock(&m->memo_lock);
}

void
am_miner_keep_reply(AmMiner *m, const char *key, AmRpcReply *reply)
{
  g_return_if_fail(m != NULL && key != NULL);
  Memo *memo = NULL;
  if (reply != NULL) {
    memo = g_new0(Memo, 1);
    memo->reply = am_rpc_reply_ref(reply);
    memo->when_us = g_get_monotonic_time();
  }
  memo_put(m, key, memo);
}

AmRpcReply *
am_miner_get_kept_reply(AmMiner *m, const char *key, gint64 *kept_at_us)
{
  g_return_val_if_fail(m != NULL && key != NULL, NULL);
  AmRpcReply *reply = NULL;
  g_mutex_lock(&m->memo_lock);
  Memo *memo = m->memo != NULL ? g_hash_table_lookup(m->memo, key) : NULL;
  if (memo != NULL && memo->reply != NULL) {
    reply = am_rpc_reply_ref(memo->reply);
    if (kept_at_us != NULL)
      *kept_at_us = memo->when_us;
  }
  g_mutex_unlock(&m->memo_lock);
  return reply;
}

void
am_miner_set_note(AmMiner *m, const char *key, const char *value)
{
  g_return_if_fail(m != NULL && key != NULL);
  Memo *memo = NULL;
  if (value != NULL) {
    memo = g_new0(Memo, 1);
    memo->note = g_strdup(value);
    memo->when_us = g_get_monotonic_time();
  }
  memo_put(m, key, memo);
}

char *
am_miner_dup_note(AmMiner *m, const char *key)
{
  g_return_val_if_fail(m != NULL && key != NULL, NULL);
  g_mutex_lock(&m->memo_lock);
  Memo *memo = m->memo != NULL ? g_hash_table_lookup(m->memo, key) : NULL;
  char *note = memo != NULL ? g_strdup(memo->note) : NULL;
  g_mutex_unlock(&m->memo_lock);
  return note;
}
