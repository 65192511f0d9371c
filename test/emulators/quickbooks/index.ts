// The QuickBooks Online emulator: Intuit's OAuth server and the Accounting API in one local process.
export { startQuickBooksEmulator } from './emulator';
export type { QuickBooksEmulator, QuickBooksEmulatorOptions, QuickBooksStats } from './emulator';
export type { QuickBooksFaultOptions } from './faults';
export type { QuickBooksClient } from './identity';
export { parseQuery } from './query-language';
export type { ParsedQuery, QueryCondition } from './query-language';
export type { QuickBooksLimits, QuickBooksRateLimitProblem } from './rate-limits';
export type * from './resources';
