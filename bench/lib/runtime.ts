import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | null | undefined;

/**
 * Full GC between phases, so garbage left by stream generation or by the previous contestant is
 * not collected on the next one's clock. Works without `--expose-gc` on the command line.
 */
export function forceGc(): void {
  if (gcFn === undefined) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') gcFn = g;
    else {
      try {
        setFlagsFromString('--expose-gc');
        gcFn = runInNewContext('gc') as () => void;
      } catch {
        gcFn = null;
      }
    }
  }
  if (gcFn) {
    gcFn();
    gcFn();
  }
}

export function nodeInfo(): string {
  return `node ${process.version} ${process.platform}/${process.arch}`;
}
