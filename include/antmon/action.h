/* Actions: what antmon can ask a miner to do (ABI 1.3).
 *
 * A driver that can act fills AmDriverVTable.actions and .act_async/
 * .act_finish. The core decides whether an action may run (the driver says
 * it supports it on this miner, the control plane is on, the rate limit
 * allows it), sends it through the driver with the miner's credentials, and
 * then confirms it from the polls that follow: a driver's act_async()
 * completes when the firmware accepted the command, not when it took
 * effect. Drivers never confirm, retry or log secrets. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  AM_ACTION_NONE = 0,
  AM_ACTION_REBOOT,       /* power-cycle the control board */
  AM_ACTION_RESTART,      /* restart the mining process only */
  AM_ACTION_PAUSE,        /* stop hashing, stay up (sleep, curtail, service stop) */
  AM_ACTION_RESUME,       /* undo pause */
  AM_ACTION_POWER_TARGET, /* work to @watts */
  AM_ACTION_WORK_MODE,    /* "low", "normal" or "high" */
  AM_ACTION_LOCATE,       /* the fault/locate light on or off */
  AM_ACTION_POOLS,        /* replace the pool list, in priority order */
  AM_ACTION_LAST,         /* not an action: the count */
} AmActionKind;

/* A set of actions: bit (1u << kind) per supported kind. */
typedef guint32 AmActionSet;
#define AM_ACTION_BIT(kind) (1u << (kind))

/* "reboot", "restart", "pause", "resume", "power_target", "work_mode",
 * "locate", "pools"; NULL for AM_ACTION_NONE or an out-of-range value. */
const char *am_action_kind_to_string(AmActionKind kind);
/* AM_ACTION_NONE for a name that is no action. */
AmActionKind am_action_kind_from_string(const char *name);

/* One pool to set. @password may be NULL (most pools take any). */
typedef struct {
  const char *url;
  const char *user;
  const char *password;
} AmPoolSetting;

/* What to do. Owned by the core and valid until act_finish() returns, so a
 * driver may keep pointers into it while the action runs. */
typedef struct {
  guint32 struct_size;
  AmActionKind kind;
  guint watts;                /* AM_ACTION_POWER_TARGET */
  const char *mode;           /* AM_ACTION_WORK_MODE: "low", "normal", "high" */
  gboolean on;                /* AM_ACTION_LOCATE */
  const AmPoolSetting *pools; /* AM_ACTION_POOLS: 1..3 pools, first preferred */
  guint n_pools;
  gpointer reserved[8];
} AmActionRequest;

/* The work modes every driver maps to its firmware's own names. */
#define AM_WORK_MODE_LOW "low"
#define AM_WORK_MODE_NORMAL "normal"
#define AM_WORK_MODE_HIGH "high"

G_END_DECLS
