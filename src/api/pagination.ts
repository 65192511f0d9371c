import { z } from 'zod';
import { HttpError } from './errors';

/** Opaque keyset cursor: base64url JSON of the last row's sort keys. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<S extends z.ZodType>(schema: S, cursor: string | undefined): z.output<S> | undefined {
  if (!cursor) return undefined;
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new HttpError(400, 'invalid_cursor', 'The cursor is not one this API issued');
  }
}

export const limitSchema = z.coerce.number().int().min(1).max(500).default(50);
