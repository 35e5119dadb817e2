//go:build cgo

package orderly

/*
#include "shim.h"
*/
import "C"

import (
	"time"
	"unsafe"
)

// SignWebhook computes the signature header a payment provider would send
// for payload at timestamp (orderly_webhook_sign): for tests and relays.
func SignWebhook(secret, payload []byte, timestamp time.Time) (string, error) {
	var out [256]C.char
	if rc := C.orderly_webhook_sign(&out[0], C.size_t(len(out)), bytesPtr(secret), C.size_t(len(secret)),
		bytesPtr(payload), C.size_t(len(payload)), C.int64_t(timestamp.Unix())); rc < 0 {
		return "", NewError(Code(rc), "webhook signature")
	}
	return C.GoString(&out[0]), nil
}

// VerifyWebhook checks a webhook's signature header without handling it
// (orderly_webhook_verify): ErrSignature, ErrSigHeader or ErrStale.
func VerifyWebhook(secret []byte, header string, payload []byte, tolerance time.Duration, now time.Time) error {
	h := C.CString(header)
	defer C.free(unsafe.Pointer(h))
	var ctx *C.orderly_ctx
	if C.orderly_ctx_new(&ctx, nil) < 0 {
		return sentinel(CodeNoMem)
	}
	defer C.orderly_ctx_free(ctx)
	if rc := C.orderly_webhook_verify(bytesPtr(secret), C.size_t(len(secret)), h, bytesPtr(payload),
		C.size_t(len(payload)), C.int64_t(tolerance/time.Second), ms(now), ctx); rc < 0 {
		return ctxError(Code(rc), ctx)
	}
	return nil
}
