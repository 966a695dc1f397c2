/* The AM_ERROR domain and names for its codes. */
#include <antmon/alert.h>
#include <antmon/error.h>

G_DEFINE_QUARK(antmon - error - quark, am_error)

const char *
am_error_code_to_string(int code)
{
  switch ((AmError)code) {
  case AM_ERROR_FAILED:
    return "failed";
  case AM_ERROR_TIMEOUT:
    return "timeout";
  case AM_ERROR_REFUSED:
    return "refused";
  case AM_ERROR_RESET:
    return "reset";
  case AM_ERROR_PARSE:
    return "malformed";
  case AM_ERROR_API:
    return "api-error";
  case AM_ERROR_AUTH:
    return "auth";
  case AM_ERROR_TOO_LARGE:
    return "too-large";
  case AM_ERROR_UNSUPPORTED:
    return "unsupported";
  case AM_ERROR_ABI:
    return "abi";
  case AM_ERROR_CONFIG:
    return "config";
  case AM_ERROR_PROTOCOL:
    return "protocol";
  case AM_ERROR_NOT_MINER:
    return "not-a-miner";
  case AM_ERROR_NOT_FOUND:
    return "not-found";
  case AM_ERROR_BUSY:
    return "busy";
  }
  return "failed";
}

const char *
am_severity_to_string(AmSeverity severity)
{
  switch (severity) {
  case AM_SEVERITY_INFO:
    return "info";
  case AM_SEVERITY_WARNING:
    return "warning";
  case AM_SEVERITY_CRITICAL:
    return "critical";
  }
  return "info";
}
