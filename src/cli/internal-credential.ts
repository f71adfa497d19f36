/**
 * The deployment's internal credential, as one process of it holds it: the token its clients send
 * (the first configured), the tokens its servers accept (all configured: current and next while
 * rotating), and the mutual TLS material when configured. README "Internal authentication".
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Config } from '../platform/config.ts';
import { deriveKeys } from '../services/users/secret.ts';

export interface InternalCredential {
  send: string;
  accept: string[];
  /** PEM contents of BOURSE_INTERNAL_TLS_CA / _CERT / _KEY */
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
}

/**
 * BOURSE_INTERNAL_TOKEN, else the token derived from BOURSE_SECRET, else (all-in-one only, where
 * nothing outside this process needs it) a token generated for this process. A `--role` process
 * with neither refuses to start: its server would otherwise have no credential to require.
 */
export async function internalCredential(config: Config, role: string): Promise<InternalCredential> {
  let accept: string[];
  if (config.internalTokens?.length) accept = config.internalTokens;
  else if (config.secret) accept = [deriveKeys(config.secret).internalToken];
  else if (role === 'all') accept = [randomBytes(32).toString('base64url')];
  else
    throw new Error(
      `--role ${role} needs BOURSE_INTERNAL_TOKEN or BOURSE_SECRET: every internal API requires the deployment's internal token`,
    );
  const credential: InternalCredential = { send: accept[0]!, accept };
  if (config.internalTls) {
    const [ca, cert, key] = await Promise.all([
      readFile(config.internalTls.ca),
      readFile(config.internalTls.cert),
      readFile(config.internalTls.key),
    ]);
    credential.tls = { ca, cert, key };
  }
  return credential;
}
