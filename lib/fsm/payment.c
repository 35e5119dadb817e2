/*
 * The payment machine: card authorize-then-capture and cash on delivery in
 * one table, split at `pending`. Capture is guarded by the authorization's
 * age and the stored authorised amount (never the event's), and an expired
 * authorization leads to a void and a cancelled order instead of a payment
 * stuck in capture. COD must be confirmed inside its window; the window
 * timer cancels it otherwise. Every live state that waits on the outside
 * has a deadline (a state that waits on nobody says so: settled): a
 * payment never authorized lives under its order's abandonment deadline
 * and fails when its order is cancelled, by that deadline or otherwise; an expired authorization the order could not be cancelled
 * for (it had shipped) is voided and reported failed; COD cash the
 * carrier never reports collected ends uncollected, cancelling what of the
 * order has not left and reporting the payment failed.
 */
#include "orderly/payment.h"
#include "table.h"

#define S(x) ORDERLY_PAYMENT_##x
#define E(x) ORDERLY_PAYMENT_EV_##x

#define STATES(X, F)                                                  \
    X(PENDING,               "pending",               1, NONE, ORDERLY__ST_ORDER_BOUND) \
    X(AUTHORIZED,            "authorized",            2, AUTH_EXPIRY, ORDERLY__ST_UNCAPTURED) \
    X(CAPTURE_REQUESTED,     "capture_requested",     3, AUTH_EXPIRY, ORDERLY__ST_CAPTURING) \
    X(CAPTURED,              "captured",              5, NONE, ORDERLY__ST_SETTLED) \
    X(CAPTURE_FAILED,        "capture_failed",        4, AUTH_EXPIRY, 0) \
    X(AUTHORIZATION_EXPIRED, "authorization_expired", 7, AUTH_EXPIRY, 0) \
    F(VOIDED,                "voided", 0) \
    X(PARTIALLY_REFUNDED,    "partially_refunded",    6, NONE, ORDERLY__ST_SETTLED) \
    F(REFUNDED,              "refunded", 0) \
    F(FAILED,                "failed", 0) \
    X(COD_PENDING,           "cod_pending",           2, COD_WINDOW, 0) \
    X(COD_CONFIRMED,         "cod_confirmed",         3, COD_COLLECTION, ORDERLY__ST_COD_CLAIM) \
    F(COD_CANCELLED,         "cod_cancelled", 0) \
    F(COD_UNCOLLECTED,       "cod_uncollected", 0)

#define EVENTS(X, I)                                  \
    X(AUTHORIZE,             "authorize")             \
    X(DECLINE,               "decline")               \
    X(REQUEST_CAPTURE,       "request_capture")       \
    X(CAPTURE_SUCCEEDED,     "capture_succeeded")     \
    X(CAPTURE_FAILED,        "capture_failed")        \
    X(RETRY_CAPTURE,         "retry_capture")         \
    X(AUTHORIZATION_EXPIRED, "authorization_expired") \
    X(VOID,                  "void")                  \
    X(REFUND,                "refund")                \
    X(SELECT_COD,            "select_cod")            \
    X(COD_CONFIRM,           "cod_confirm")           \
    X(COD_WINDOW_ELAPSED,    "cod_window_elapsed")    \
    X(COD_COLLECTED,         "cod_collected")         \
    X(COD_CANCEL,            "cod_cancel")            \
    I(ABANDON,               "abandon")               \
    X(COLLECTION_OVERDUE,    "collection_overdue")

#define EXPIRED_FX FX(VOID_AUTHORIZATION, CANCEL_ORDER)

#define ROWS(T, A)                                                                     \
    T(PENDING,        AUTHORIZE,       NONE, AUTHORIZED, FX(EMIT_PAYMENT_CONFIRMED))   \
    T(PENDING,        DECLINE,         NONE, FAILED, FX(EMIT_PAYMENT_FAILED))          \
    T(PENDING,        SELECT_COD,      NONE, COD_PENDING, FX0)                         \
    T(AUTHORIZED,     REQUEST_CAPTURE, CAPTURABLE, CAPTURE_REQUESTED,                  \
      FX(CAPTURE_PAYMENT))                                                             \
    A(AUTHORIZED,     REQUEST_CAPTURE, PAST_DEADLINE, AUTHORIZATION_EXPIRED, EXPIRED_FX) \
    T(AUTHORIZED,     AUTHORIZATION_EXPIRED, PAST_DEADLINE, AUTHORIZATION_EXPIRED,     \
      EXPIRED_FX)                                                                      \
    T(AUTHORIZED,     VOID,            NONE, VOIDED, FX(VOID_AUTHORIZATION))           \
    T(CAPTURE_REQUESTED, CAPTURE_SUCCEEDED, NONE, CAPTURED, FX(EMIT_PAYMENT_CAPTURED)) \
    T(CAPTURE_REQUESTED, CAPTURE_FAILED,    NONE, CAPTURE_FAILED, FX(EMIT_PAYMENT_FAILED)) \
    T(CAPTURE_REQUESTED, AUTHORIZATION_EXPIRED, PAST_DEADLINE, AUTHORIZATION_EXPIRED,  \
      EXPIRED_FX)                                                                      \
    T(CAPTURE_FAILED, RETRY_CAPTURE,   CAPTURABLE, CAPTURE_REQUESTED, FX(CAPTURE_PAYMENT)) \
    A(CAPTURE_FAILED, RETRY_CAPTURE,   PAST_DEADLINE, AUTHORIZATION_EXPIRED, EXPIRED_FX) \
    T(CAPTURE_FAILED, AUTHORIZATION_EXPIRED, PAST_DEADLINE, AUTHORIZATION_EXPIRED,     \
      EXPIRED_FX)                                                                      \
    T(CAPTURE_FAILED, VOID,            NONE, VOIDED, FX(VOID_AUTHORIZATION))           \
    T(AUTHORIZATION_EXPIRED, VOID,     NONE, VOIDED, FX0)                              \
    T(CAPTURED,       REFUND,          REFUND_PARTIAL, PARTIALLY_REFUNDED,             \
      FX(REFUND_PAYMENT))                                                              \
    A(CAPTURED,       REFUND,          REFUND_FULL, REFUNDED, FX(REFUND_PAYMENT))      \
    T(PARTIALLY_REFUNDED, REFUND,      REFUND_PARTIAL, PARTIALLY_REFUNDED,             \
      FX(REFUND_PAYMENT))                                                              \
    A(PARTIALLY_REFUNDED, REFUND,      REFUND_FULL, REFUNDED, FX(REFUND_PAYMENT))      \
    T(COD_PENDING,    COD_CONFIRM,     WITHIN_DEADLINE, COD_CONFIRMED,                 \
      FX(EMIT_PAYMENT_CONFIRMED))                                                      \
    T(COD_PENDING,    COD_WINDOW_ELAPSED, PAST_DEADLINE, COD_CANCELLED,                \
      FX(CANCEL_ORDER, EMIT_PAYMENT_FAILED))                                           \
    T(COD_PENDING,    COD_CANCEL,      NONE, COD_CANCELLED, FX0)                       \
    T(COD_CONFIRMED,  COD_COLLECTED,   NONE, CAPTURED, FX(EMIT_PAYMENT_CAPTURED))      \
    T(COD_CONFIRMED,  COD_CANCEL,      NONE, COD_CANCELLED, FX(CANCEL_COD_CLAIM))      \
    T(PENDING,        ABANDON,         NONE, FAILED, FX0)                              \
    T(AUTHORIZATION_EXPIRED, AUTHORIZATION_EXPIRED, PAST_DEADLINE, VOIDED,             \
      FX(EMIT_PAYMENT_FAILED))                                                         \
    T(COD_CONFIRMED,  COLLECTION_OVERDUE, PAST_DEADLINE, COD_UNCOLLECTED,              \
      FX(EMIT_PAYMENT_FAILED, CANCEL_COD_CLAIM, CANCEL_ORDER))

ORDERLY__DEFINE_MACHINE(orderly__payment_machine, ORDERLY_MACHINE_PAYMENT, "payment", PENDING,
                        COD_UNCOLLECTED, COLLECTION_OVERDUE);
