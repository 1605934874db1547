import { randomBytes, randomUUID } from "node:crypto";

/** newAccountId / newZoneId make Cloudflare-shaped ids: 32 lowercase hex. */
export const newHexId = (): string => randomBytes(16).toString("hex");
/** newUuid makes certificate, CA and token ids (UUID v4). */
export const newUuid = (): string => randomUUID();

export const HEX_ID = /^[0-9a-f]{32}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
