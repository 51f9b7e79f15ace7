/**
 * Bounds on JSON that comes from outside, checked on the raw text before it is parsed or stored:
 * nesting depth (a deeply nested body makes parsers and PostgreSQL's jsonb recurse until they fail)
 * and NUL characters (PostgreSQL's jsonb refuses \u0000). Size is bounded by the body parsers.
 */
export const MAX_JSON_DEPTH = 32;

export type JsonProblem = { code: 'too_deeply_nested' | 'null_character' | 'invalid_json'; message: string };

/** The parsed value, or why the text is refused. */
export function parseBoundedJson(text: string, maxDepth = MAX_JSON_DEPTH): { ok: true; value: unknown } | { ok: false; problem: JsonProblem } {
  if (nestingDepth(text) > maxDepth) return { ok: false, problem: { code: 'too_deeply_nested', message: `The JSON body is nested more than ${maxDepth} levels deep` } };
  if (text.includes('\u0000') || /\\u0000/i.test(text)) return { ok: false, problem: { code: 'null_character', message: 'The JSON body contains a NUL character' } };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, problem: { code: 'invalid_json', message: 'The request body is not valid JSON' } };
  }
}

/** The deepest nesting of objects and arrays in a JSON text (brackets inside strings do not count). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return deepest;
}
