import type { PinRecord } from "../pinning/pin-types";

/** PSA `PinStatus` JSON of a registry record (components.schemas.PinStatus). */
export function pinStatus(record: PinRecord, delegates: string[]) {
  return {
    requestid: record.requestid,
    status: record.status,
    created: new Date(record.created).toISOString(),
    pin: record.pin,
    delegates,
    info: record.info,
  };
}
