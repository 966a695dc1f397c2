/* STUB: replaced by the transport implementation. */
#include <antmon/rpc.h>
