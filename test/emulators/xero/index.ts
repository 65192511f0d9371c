// The Xero emulator: identity.xero.com and the Accounting API in one local process.
export { startXeroEmulator } from './emulator';
export type { XeroEmulator, XeroEmulatorOptions, XeroStats } from './emulator';
export { msDate, parseMsDate } from './dates';
export type { XeroFaultOptions } from './faults';
export type { XeroClient } from './identity';
export type { XeroLimits, XeroRateLimitProblem } from './rate-limits';
export type * from './resources';
