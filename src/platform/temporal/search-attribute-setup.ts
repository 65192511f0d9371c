import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { ALL_SEARCH_ATTRIBUTES } from './search-attributes';

/** Registers any of our search attributes the namespace lacks (safe to run on every start). */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = ALL_SEARCH_ATTRIBUTES.filter((k) => !known.has(k.name));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return missing.map((k) => k.name);
}

/** Raises the namespace's history retention (the dev server creates it with 24 h). */
export async function ensureRetention(connection: Connection, namespace: string, days: number): Promise<void> {
  const seconds = days * 86_400;
  const ns = await connection.workflowService.describeNamespace({ namespace });
  const current = Number(ns.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
  if (current === seconds) return;
  await connection.workflowService.updateNamespace({
    namespace,
    config: { workflowExecutionRetentionTtl: msToTs(seconds * 1000) },
  });
}
