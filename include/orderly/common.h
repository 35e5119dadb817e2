/*
 * orderly/common.h - declarations every other orderly header relies on.
 *
 * Visibility and calling-convention macros, the writer callback used by
 * every exporter, and the time type. Nothing here allocates or holds state.
 */
#ifndef ORDERLY_COMMON_H
#define ORDERLY_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(ORDERLY_BUILDING_SHARED) && defined(ORDERLY_USING_SHARED)
#error "define at most one of ORDERLY_BUILDING_SHARED and ORDERLY_USING_SHARED"
#endif

#if defined(_WIN32)
#  if defined(ORDERLY_BUILDING_SHARED)
#    define ORDERLY_API __declspec(dllexport)
#  elif defined(ORDERLY_USING_SHARED)
#    define ORDERLY_API __declspec(dllimport)
#  else
#    define ORDERLY_API
#  endif
#elif defined(__GNUC__)
#  define ORDERLY_API __attribute__((visibility("default")))
#else
#  define ORDERLY_API
#endif

/* Declares a function-pointer member of a vtable: ORDERLY_CALLBACK(name). */
#define ORDERLY_CALLBACK(name) (*name)

#if defined(__GNUC__)
#  define ORDERLY_WARN_UNUSED __attribute__((warn_unused_result))
#else
#  define ORDERLY_WARN_UNUSED
#endif

#ifdef __cplusplus
#  define ORDERLY_BEGIN_DECLS extern "C" {
#  define ORDERLY_END_DECLS }
#else
#  define ORDERLY_BEGIN_DECLS
#  define ORDERLY_END_DECLS
#endif

ORDERLY_BEGIN_DECLS

/*
 * Time in orderly is always an argument: milliseconds since the Unix epoch,
 * supplied by the host (or its clock vtable). The core never reads a clock.
 */
typedef int64_t orderly_time_ms;

/* The instants orderly accepts, as now or as a timestamp: from the epoch
 * to the last millisecond of year 9999. Anything else is ORDERLY_EINVAL. */
#define ORDERLY_TIME_MAX 253402300799999LL
/* The longest duration a policy may set (100 years of 366 days), so a
 * deadline now + duration never overflows. Longer is ORDERLY_ECONFIG. */
#define ORDERLY_DURATION_MAX 3162240000000LL

/*
 * Receives a chunk of output from an exporter or encoder.
 *
 * data: borrowed for the duration of the call, not NUL-terminated.
 * Return 0 to continue; any negative orderly code stops the producer, which
 * then returns that same code unchanged.
 */
typedef int (*orderly_writer_cb)(const char *data, size_t len, void *user_data);

ORDERLY_END_DECLS

#endif
