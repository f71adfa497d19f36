/**
 * jspurefix, the FIX engine, for this service. Its dependency injection (tsyringe) needs the
 * Reflect metadata polyfill loaded before any of its modules, so everything here imports the
 * engine through this file.
 */
import 'reflect-metadata';

export * from 'jspurefix';
export { makeSessionScope } from 'jspurefix/dist/runtime/session-scope.js';
