// The generator's worker thread entry. Worker threads do not inherit the parent's `--import tsx`
// hooks (Node 20), so this plain-JS entry registers tsx in the thread before loading the generator.
import { register } from 'tsx/esm/api';

register();
await import('./generator.ts');
