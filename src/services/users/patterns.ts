/**
 * Credential formats and limits, as plain constants. A leaf (imports nothing), so schemas.ts, and
 * the API documentation built from it (api-docs.ts, re-exported by client.ts), can use them without
 * pulling in the modules that implement the credentials.
 */

/** an API key id: `BK` and 18 base32 characters */
export const API_KEY_ID_PATTERN = '^BK[A-Z2-7]{18}$';
/** an API key secret: 40 base64url characters */
export const API_KEY_SECRET_PATTERN = '^[A-Za-z0-9_-]{40}$';
/** a refresh token: `brt_` and 256 random bits in base64url */
export const REFRESH_TOKEN_PATTERN = '^brt_[A-Za-z0-9_-]{43}$';
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;
/** a brokerage invite code: 192 random bits in base64url */
export const INVITE_CODE_PATTERN = '^[A-Za-z0-9_-]{32}$';
/** how long an invite lasts unless its creator says otherwise, and at most (hours) */
export const INVITE_DEFAULT_HOURS = 168;
export const INVITE_MAX_HOURS = 720;
