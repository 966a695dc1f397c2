/* A sample as JSON text: the full form (am_sample_to_json) and the brief
 * form the fleet table shows. Pure. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* am_sample_to_json(), compact. (transfer full) */
char *am_http_sample_json(AmSample *sample);

/* What the fleet table shows, under the full form's key names: without
 * chains, pools, per-chip lists and extras. (transfer full) */
char *am_http_sample_brief_json(const AmSample *sample);

G_END_DECLS
