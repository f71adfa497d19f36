/**
 * jspurefix's logging into ours. The engine narrates every state change at `info` and calls a
 * dropped connection an `error`; the service logs what an operator needs (logons, refusals,
 * disconnects) itself, so the engine's lines go one or two levels down. Passwords (554) never
 * reach a log.
 */

import type { Logger } from '../../platform/logger.ts';
import { type IJsFixLogger, type JsFixLogFields, JsFixLoggerFactory } from './jspurefix.ts';

const SOH = String.fromCharCode(1);
const PASSWORD = new RegExp(`(^|[|${SOH}])554=[^|${SOH}]*`, 'g');

/** A FIX message as text (SOH or '|' between fields) with the Logon's Password (554) blanked. */
export const redactFix = (text: string): string => text.replace(PASSWORD, '$1554=***');

class PinoFixLogFactory extends JsFixLoggerFactory {
  constructor(private readonly base: Logger) {
    super();
  }

  logger(type: string, _context?: JsFixLogFields): IJsFixLogger {
    const log = this.base.child({ fixEngine: type });
    // the engine talks a lot: skip the redaction when the line goes nowhere
    const trace = (m: string) => {
      if (log.isLevelEnabled('trace')) log.trace(redactFix(m));
    };
    return {
      info: trace,
      debug: trace,
      warning: (m) => {
        if (log.isLevelEnabled('debug')) log.debug(redactFix(m));
      },
      error: (e) => {
        if (log.isLevelEnabled('debug')) log.debug({ err: e }, redactFix(e.message));
      },
    };
  }

  plain(fileName: string): IJsFixLogger {
    return this.logger(fileName);
  }
}

export function fixLogFactory(logger: Logger): JsFixLoggerFactory {
  return new PinoFixLogFactory(logger.child({ component: 'fix-engine' }));
}
