/* The pure half of the CGMiner API transport: repairing the JSON that
 * firmware really sends, parsing it, and reading its STATUS.
 *
 * Valid JSON is never touched: am_rpc_parse() tries a strict parse first and
 * only repairs when that fails. The repair is one pass over a small lexer
 * that knows where string literals are, so "}{" or ",}" inside a string is
 * never rewritten; see FIRMWARE-NOTES A3 for where each rule comes from. */
#include <antmon/error.h>
#include <antmon/json.h>
#include <antmon/rpc.h>
#include <string.h>

/* cgminer replies nest four or five levels; json-glib's parser recurses, so
 * a hostile "[[[[..." of a few megabytes would overflow the stack. */
#define MAX_DEPTH 64
/* How much of a bad reply an error message quotes. */
#define QUOTE_BYTES 64
/* How much of a firmware's Msg an API error carries. */
#define MSG_CHARS 200

#define BANNER "Socket connect failed"

/* ---- the lexer: JSON tokens, blanks skipped, strings kept verbatim ---- */

typedef enum {
  TOK_END,
  TOK_PUNCT,     /* one of { } [ ] : , */
  TOK_STRING,    /* "..." including its quotes and escapes, as received */
  TOK_WORD,      /* a number, true/false/null, inf/nan, or garbage */
  TOK_TRUNCATED, /* a string literal cut off by the end of the text */
} TokenKind;

typedef struct {
  TokenKind kind;
  const char *start;
  gsize len;
} Token;

typedef struct {
  const char *p;
  const char *end;
} Lexer;

static gboolean
is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static gboolean
is_punct(char c)
{
  return c != '\0' && strchr("{}[]:,", c) != NULL;
}

static Token
lexer_next(Lexer *lx)
{
  while (lx->p < lx->end && is_blank(*lx->p))
    lx->p++;
  Token t = {TOK_END, lx->p, 0};
  if (lx->p == lx->end)
    return t;

  const char *q = lx->p;
  if (is_punct(*q)) {
    t.kind = TOK_PUNCT;
    q++;
  } else if (*q == '"') {
    q++;
    while (q < lx->end && *q != '"')
      q += (*q == '\\' && q + 1 < lx->end) ? 2 : 1;
    if (q < lx->end) {
      t.kind = TOK_STRING;
      q++; /* the closing quote */
    } else {
      t.kind = TOK_TRUNCATED;
    }
  } else {
    t.kind = TOK_WORD;
    while (q < lx->end && !is_blank(*q) && !is_punct(*q) && *q != '"')
      q++;
  }
  t.len = q - lx->p;
  lx->p = q;
  return t;
}

/* ---- the repairer: re-emits tokens, tracking nesting and what comes next ---- */

typedef enum {
  WANT_VALUE, /* array element, member value, or the root */
  WANT_KEY,   /* after "{" or "," in an object */
  WANT_COLON, /* after a key */
  HAVE_VALUE, /* after a complete value: "," or a close comes next */
} Want;

typedef struct {
  char type; /* '{', '[', or 0 for the top level */
  Want want;
} Frame;

typedef struct {
  GString *out;
  GArray *stack; /* Frame; element 0 is the top level */
  /* The last point where closing every open bracket gives valid JSON: right
   * after a complete member or element (or the root's "{"). */
  gsize cp_len;
  guint cp_depth;
  /* A bare word (number, true, ...) is complete only once something follows
   * it: "12" at the very end may be the start of "1234". */
  gboolean word_pending;
  gsize pending_len;
  guint pending_depth;
  gboolean done;   /* the root value closed: the rest is dropped */
  gboolean broken; /* beyond repair: the rest is copied as it is */
} Repairer;

static Frame *
top(Repairer *r)
{
  return &g_array_index(r->stack, Frame, r->stack->len - 1);
}

static void
push(Repairer *r, char type)
{
  Frame f = {type, type == '{' ? WANT_KEY : WANT_VALUE};
  g_array_append_val(r->stack, f);
}

static void
checkpoint(Repairer *r)
{
  r->cp_len = r->out->len;
  r->cp_depth = r->stack->len;
}

/* A value ended in the current frame. @complete is FALSE for a bare word,
 * whose checkpoint waits for the next token. */
static void
value_done(Repairer *r, gboolean complete)
{
  Frame *f = top(r);
  f->want = HAVE_VALUE;
  if (f->type == 0) {
    r->done = TRUE;
  } else if (complete) {
    checkpoint(r);
  } else {
    r->word_pending = TRUE;
    r->pending_len = r->out->len;
    r->pending_depth = r->stack->len;
  }
}

/* Avalon firmware prints C's inf and nan, bare or quoted, for idle sensors. */
static gboolean
is_inf_or_nan(const char *text, gsize len)
{
  static const char *const words[] = {"inf",       "-inf",      "+inf", "infinity",
                                      "-infinity", "+infinity", "nan",  "-nan"};
  for (gsize i = 0; i < G_N_ELEMENTS(words); i++)
    if (strlen(words[i]) == len && g_ascii_strncasecmp(text, words[i], len) == 0)
      return TRUE;
  return FALSE;
}

static void
on_comma(Repairer *r, Frame *f)
{
  if (f->type == 0 && f->want == WANT_VALUE) {
    /* Avalon's ',"id":1}' fragment: a leading comma stands for the "{". */
    g_string_append_c(r->out, '{');
    push(r, '{');
    checkpoint(r);
  } else if (f->type != 0 && f->want == HAVE_VALUE) {
    g_string_append_c(r->out, ',');
    f->want = f->type == '{' ? WANT_KEY : WANT_VALUE;
  } else if (f->want == WANT_KEY || (f->type == '[' && f->want == WANT_VALUE)) {
    /* A stray comma: bmminer's "[,{" or a doubled ",,". Drop it. */
  } else {
    r->broken = TRUE;
  }
}

static void
on_colon(Repairer *r, Frame *f)
{
  if (f->type == '{' && f->want == WANT_COLON) {
    g_string_append_c(r->out, ':');
    f->want = WANT_VALUE;
  } else {
    r->broken = TRUE;
  }
}

static void
on_open(Repairer *r, Frame *f, char bracket)
{
  if (f->type == '[' && f->want == HAVE_VALUE) {
    /* bmminer's "}{" between two STATS elements: the comma is missing. */
    g_string_append_c(r->out, ',');
    f->want = WANT_VALUE;
  }
  if (f->want != WANT_VALUE) {
    r->broken = TRUE;
    return;
  }
  gboolean is_root = f->type == 0;
  g_string_append_c(r->out, bracket);
  push(r, bracket);
  if (is_root)
    checkpoint(r);
}

static void
on_close(Repairer *r, Frame *f, char bracket)
{
  char expected = f->type == '{' ? '}' : f->type == '[' ? ']' : 0;
  if (bracket != expected) {
    r->broken = TRUE;
    return;
  }
  if (f->want == WANT_KEY || (f->type == '[' && f->want == WANT_VALUE)) {
    /* btminer's ",}" and ",]": drop the trailing comma. */
    if (r->out->len > 0 && r->out->str[r->out->len - 1] == ',')
      g_string_truncate(r->out, r->out->len - 1);
  } else if (f->want != HAVE_VALUE) {
    r->broken = TRUE; /* '{"a"}' or '{"a":}': nothing sensible to invent */
    return;
  }
  g_string_append_c(r->out, bracket);
  g_array_set_size(r->stack, r->stack->len - 1);
  value_done(r, TRUE);
}

static void
on_string(Repairer *r, Frame *f, const Token *t)
{
  if (f->type != 0 && f->want == HAVE_VALUE) {
    /* btminer's '"x""temp0":' (2023-01-06): a missing comma between members. */
    g_string_append_c(r->out, ',');
    f->want = f->type == '{' ? WANT_KEY : WANT_VALUE;
  }
  if (f->want == WANT_KEY) {
    g_string_append_len(r->out, t->start, t->len);
    f->want = WANT_COLON;
  } else if (f->want == WANT_VALUE) {
    if (is_inf_or_nan(t->start + 1, t->len - 2))
      g_string_append_c(r->out, '0');
    else
      g_string_append_len(r->out, t->start, t->len);
    value_done(r, TRUE);
  } else {
    r->broken = TRUE;
  }
}

static void
on_word(Repairer *r, Frame *f, const Token *t)
{
  if (f->type == '[' && f->want == HAVE_VALUE) {
    g_string_append_c(r->out, ',');
    f->want = WANT_VALUE;
  }
  if (f->want != WANT_VALUE) {
    r->broken = TRUE;
    return;
  }
  if (is_inf_or_nan(t->start, t->len))
    g_string_append_c(r->out, '0');
  else
    g_string_append_len(r->out, t->start, t->len);
  value_done(r, FALSE);
}

static void
repair_token(Repairer *r, const Token *t)
{
  if (r->word_pending) {
    /* Something followed the word, so it was whole. */
    r->word_pending = FALSE;
    r->cp_len = r->pending_len;
    r->cp_depth = r->pending_depth;
  }
  Frame *f = top(r);
  if (t->kind == TOK_STRING) {
    on_string(r, f, t);
  } else if (t->kind == TOK_WORD) {
    on_word(r, f, t);
  } else {
    char c = t->start[0];
    if (c == ',')
      on_comma(r, f);
    else if (c == ':')
      on_colon(r, f);
    else if (c == '{' || c == '[')
      on_open(r, f, c);
    else
      on_close(r, f, c);
  }
}

/* The text ended with brackets open (btminer's overflowing error list, or a
 * reply cut short): keep everything up to the last complete member and close
 * what was open there, innermost first. */
static void
close_truncated(Repairer *r)
{
  /* Frames below the checkpoint's depth are unchanged since it was taken:
   * popping one would have completed a value and moved the checkpoint. */
  guint depth = MIN(r->cp_depth, r->stack->len);
  if (depth == 0)
    return; /* nothing complete at all: leave it for the parser to reject */
  g_string_truncate(r->out, r->cp_len);
  for (guint i = depth - 1; i > 0; i--)
    g_string_append_c(r->out, g_array_index(r->stack, Frame, i).type == '{' ? '}' : ']');
}

static gsize
text_length(const char *data, gsize len)
{
  const char *nul = data != NULL ? memchr(data, '\0', len) : NULL;
  return nul != NULL ? (gsize)(nul - data) : len;
}

char *
am_rpc_repair(const char *data, gsize len, gsize *out_len)
{
  g_return_val_if_fail(data != NULL || len == 0, NULL);

  /* The socket's trailing NUL, and anything a buggy firmware sends after it. */
  len = text_length(data, len);

  /* Invalid UTF-8 (a Latin-1 degree sign, line noise) makes json-glib refuse
   * the whole reply; U+FFFD in one string is the lesser harm. */
  g_autofree char *valid = NULL;
  if (!g_utf8_validate(data, len, NULL)) {
    valid = g_utf8_make_valid(data, len);
    data = valid;
    len = strlen(valid);
  }

  Repairer r = {0};
  r.out = g_string_sized_new(len + 16);
  r.stack = g_array_new(FALSE, FALSE, sizeof(Frame));
  push(&r, 0);

  Lexer lx = {data, data + len};
  for (;;) {
    Token t = lexer_next(&lx);
    if (t.kind == TOK_END || t.kind == TOK_TRUNCATED)
      break;
    repair_token(&r, &t);
    if (r.broken) {
      g_string_append_len(r.out, t.start, lx.end - t.start);
      break;
    }
    if (r.done)
      break;
  }
  if (!r.done && !r.broken && r.stack->len > 1)
    close_truncated(&r);

  g_array_unref(r.stack);
  if (out_len != NULL)
    *out_len = r.out->len;
  return g_string_free(r.out, FALSE);
}

/* ---- parsing ---- */

/* TRUE when brackets outside strings nest deeper than MAX_DEPTH. */
static gboolean
too_deep(const char *text, gsize len)
{
  guint depth = 0;
  gboolean in_string = FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = FALSE;
    } else if (c == '"') {
      in_string = TRUE;
    } else if (c == '{' || c == '[') {
      if (++depth > MAX_DEPTH)
        return TRUE;
    } else if ((c == '}' || c == ']') && depth > 0) {
      depth--;
    }
  }
  return FALSE;
}

/* One strict parse of @len bytes; the root must be an object. */
static JsonNode *
parse_object(const char *text, gsize len, GError **error)
{
  if (too_deep(text, len)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "nested deeper than %d levels", MAX_DEPTH);
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, text, (gssize)len, error))
    return NULL;
  g_autoptr(JsonNode) root = json_parser_steal_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE, "not a JSON object");
    return NULL;
  }
  return g_steal_pointer(&root);
}

/* The first bytes of a bad reply, escaped so the message stays printable. */
static char *
quote_start(const char *data, gsize len)
{
  gsize n = MIN(len, QUOTE_BYTES);
  g_autofree char *head = g_strndup(data != NULL ? data : "", n);
  g_autofree char *escaped = g_strescape(head, NULL);
  return g_strdup_printf("\"%s\"%s", escaped, len > n ? "..." : "");
}

static gboolean
is_banner(const char *text, gsize len)
{
  while (len > 0 && is_blank(*text)) {
    text++;
    len--;
  }
  return len >= strlen(BANNER) && memcmp(text, BANNER, strlen(BANNER)) == 0;
}

static gboolean
is_blank_text(const char *text, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (!is_blank(text[i]))
      return FALSE;
  return TRUE;
}

JsonNode *
am_rpc_parse(const char *data, gsize len, GError **error)
{
  g_return_val_if_fail(data != NULL || len == 0, NULL);

  gsize text_len = text_length(data, len);
  if (is_blank_text(data, text_len)) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE, "empty reply");
    return NULL;
  }
  /* Some firmware answers on 4028 from a proxy whose miner process is down;
   * that is the API saying no, not garbage on the wire. */
  if (is_banner(data, text_len)) {
    g_autofree char *line = g_strstrip(g_strndup(data, text_len));
    g_set_error(error, AM_ERROR, AM_ERROR_API, "API error: %s", line);
    return NULL;
  }

  g_autoptr(GError) strict_error = NULL;
  JsonNode *root = parse_object(data, text_len, &strict_error);
  if (root != NULL)
    return root;

  gsize fixed_len = 0;
  g_autofree char *fixed = am_rpc_repair(data, text_len, &fixed_len);
  root = parse_object(fixed, fixed_len, NULL);
  if (root != NULL)
    return root;

  /* Report the strict parser's complaint: its offsets point into the bytes
   * the user can see in the raw view, not into our repaired copy. */
  g_autofree char *quoted = quote_start(data, len);
  g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "reply is not JSON (%s): %s", strict_error->message,
              quoted);
  return NULL;
}

/* ---- STATUS ---- */

static JsonNode *
member_any_case(JsonObject *obj, const char *upper, const char *lower)
{
  JsonNode *node = json_object_get_member(obj, upper);
  return node != NULL ? node : json_object_get_member(obj, lower);
}

/* The object holding STATUS/Code/Msg: STATUS[0] in the cgminer layout, the
 * STATUS object in the new CGI layout, or the reply itself in Whatsminer's
 * layout where STATUS is a plain string. NULL when there is no status. */
static JsonObject *
status_object(JsonObject *reply)
{
  JsonNode *node = member_any_case(reply, "STATUS", "status");
  if (node == NULL)
    return NULL;
  if (JSON_NODE_HOLDS_ARRAY(node))
    return am_json_array_object(json_node_get_array(node), 0);
  if (JSON_NODE_HOLDS_OBJECT(node))
    return json_node_get_object(node);
  if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
    return reply;
  return NULL;
}

/* Msg as text: a string, or Whatsminer's object serialised, kept short. */
static char *
status_message(JsonObject *status)
{
  JsonNode *node = member_any_case(status, "Msg", "msg");
  g_autofree char *text = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL(node))
    text = g_strdup("no message");
  else if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
    text = g_strdup(json_node_get_string(node));
  else
    text = json_to_string(node, FALSE);
  if (g_utf8_strlen(text, -1) > MSG_CHARS) {
    g_autofree char *cut = g_utf8_substring(text, 0, MSG_CHARS);
    return g_strconcat(cut, "...", NULL);
  }
  return g_steal_pointer(&text);
}

gboolean
am_rpc_check_status(JsonObject *reply, GError **error)
{
  g_return_val_if_fail(reply != NULL, FALSE);

  JsonObject *status = status_object(reply);
  if (status == NULL)
    return TRUE;
  JsonNode *letter_node = member_any_case(status, "STATUS", "status");
  if (letter_node == NULL || !JSON_NODE_HOLDS_VALUE(letter_node) ||
      json_node_get_value_type(letter_node) != G_TYPE_STRING)
    return TRUE;
  /* S success, I info, W warning pass; E error and F fatal do not. */
  char letter = g_ascii_toupper(json_node_get_string(letter_node)[0]);
  if (letter != 'E' && letter != 'F')
    return TRUE;

  g_autofree char *msg = status_message(status);
  gint64 code = am_json_int(status, "Code", am_json_int(status, "code", -1));
  if (code >= 0)
    g_set_error(error, AM_ERROR, AM_ERROR_API, "API error %" G_GINT64_FORMAT ": %s", code, msg);
  else
    g_set_error(error, AM_ERROR, AM_ERROR_API, "API error: %s", msg);
  return FALSE;
}
