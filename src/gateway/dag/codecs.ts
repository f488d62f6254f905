/** Multicodec codes of the IPLD codecs the gateway understands. */
export const RAW = 0x55;
export const DAG_PB = 0x70;
export const DAG_CBOR = 0x71;
export const DAG_JSON = 0x0129;
export const JSON_CODEC = 0x0200;
export const CBOR = 0x51;
export const LIBP2P_KEY = 0x72;
