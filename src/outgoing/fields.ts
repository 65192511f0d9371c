/**
 * Field values as events carry them. A single-select value arrives as `{ id, display }` so a
 * payload can send either (seed 002: "send ID instead of display value"); a multi-select is a
 * list of those; anything else is plain JSON.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface SelectValue {
  id: string | number;
  display: string;
}

/** True for `{ id, display }` — the shape single-select values take. */
export function isSelectValue(v: unknown): v is SelectValue {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return (
    (typeof o['id'] === 'string' || typeof o['id'] === 'number') &&
    typeof o['display'] === 'string' &&
    Object.keys(o).length === 2
  );
}

/** The value a person reads: selects become their display text. */
export function displayValue(v: Json | undefined): Json {
  if (v === undefined) return null;
  if (isSelectValue(v)) return v.display;
  if (Array.isArray(v)) return v.map((x) => displayValue(x));
  return v;
}

/** The stored value: selects become their database id. */
export function idValue(v: Json | undefined): Json {
  if (v === undefined) return null;
  if (isSelectValue(v)) return v.id;
  if (Array.isArray(v)) return v.map((x) => idValue(x));
  return v;
}

/** JSON with sorted keys, so two equal values always serialise the same way. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}
