/* Declarations for package conformance's cgo files (no definitions). */
#ifndef ORDERLY_GO_CONFORMANCE_SHIM_H
#define ORDERLY_GO_CONFORMANCE_SHIM_H

#include <stdint.h>
#include <stdlib.h>

#include <orderly/sys/conformance.h>

/* Runs the suite on the Go target behind handle. The TAP report is
 * returned in *report (malloc'd, *len bytes; the caller frees it). */
int orderly_go_conformance_run(uintptr_t handle, const char *name, unsigned int parts,
                               const char *filter, const char *known_failures, char **report,
                               size_t *len);

#endif
