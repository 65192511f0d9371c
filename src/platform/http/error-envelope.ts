/** The one error shape every answer uses: `{ "error": { "code", "message", "details"? } }`. */
export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}
