/**
 * This plugin's request validator: the shared strict compiler. For credentials and role changes a
 * body is exactly what its schema says or it is a 400 naming the field (`{"role": "admin"}` on
 * registration is not quietly ignored).
 */
import { strictValidatorCompiler } from '../../platform/http/validator.ts';

export const validatorCompiler = strictValidatorCompiler(['email', 'uuid', 'date-time']);
