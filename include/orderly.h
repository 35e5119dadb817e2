/*
 * orderly.h - the umbrella header: everything a host needs to use orderly.
 *
 * Headers under orderly/sys/ are for hosts that extend orderly (storage and
 * transport adapters, allocators) and are included where needed.
 */
#ifndef ORDERLY_H
#define ORDERLY_H

#include "orderly/common.h"
#include "orderly/version.h"
#include "orderly/errors.h"
#include "orderly/machine.h"
#include "orderly/graph.h"
#include "orderly/order.h"
#include "orderly/payment.h"
#include "orderly/reservation.h"
#include "orderly/fulfillment.h"
#include "orderly/shipment.h"
#include "orderly/return.h"
#include "orderly/claim.h"
#include "orderly/compensation.h"
#include "orderly/envelope.h"
#include "orderly/webhook.h"
#include "orderly/engine.h"
#include "orderly/outbox.h"

#endif
