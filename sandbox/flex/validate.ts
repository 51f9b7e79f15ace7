import { invalid, type Loc, type ValidationIssue } from './errors';

export type Rec = Record<string, unknown>;
export type StringMap = Record<string, string>;

export function isRecord(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads untrusted JSON the way FastAPI/pydantic would, collecting every problem with its `loc`
 * so one 422 lists them all. `null` counts as absent. Unknown fields are ignored, as Flex does.
 * Numbers are strict: an amount sent as the string "1000" is refused, where pydantic would coerce
 * it, because we want our own client to send integers.
 */
export class Input {
  readonly issues: ValidationIssue[] = [];

  add(loc: Loc, msg: string, type: string): void {
    this.issues.push({ loc, msg, type });
  }

  /** Throws the collected issues as one 422. */
  done(): void {
    if (this.issues.length > 0) throw invalid(this.issues);
  }

  private present(parent: Rec | undefined, key: string, loc: Loc, required: boolean): unknown {
    const value = parent?.[key];
    if (value === undefined || value === null) {
      // A missing parent is reported once, not once per field it should have held.
      if (required && parent !== undefined) this.add([...loc, key], 'Field required', 'missing');
      return undefined;
    }
    return value;
  }

  object(parent: Rec | undefined, key: string, loc: Loc, required = false): Rec | undefined {
    const value = this.present(parent, key, loc, required);
    if (value === undefined) return undefined;
    if (!isRecord(value)) {
      this.add([...loc, key], 'Input should be a valid dictionary', 'dict_type');
      return undefined;
    }
    return value;
  }

  string(
    parent: Rec | undefined,
    key: string,
    loc: Loc,
    opts: { required?: boolean; maxLength?: number; nonEmpty?: boolean } = {},
  ): string | undefined {
    const value = this.present(parent, key, loc, opts.required ?? false);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      this.add([...loc, key], 'Input should be a valid string', 'string_type');
      return undefined;
    }
    if (opts.nonEmpty && value.trim() === '') {
      this.add([...loc, key], 'String should have at least 1 character', 'string_too_short');
      return undefined;
    }
    if (opts.maxLength !== undefined && value.length > opts.maxLength) {
      this.add([...loc, key], `String should have at most ${opts.maxLength} characters`, 'string_too_long');
      return undefined;
    }
    return value;
  }

  int(
    parent: Rec | undefined,
    key: string,
    loc: Loc,
    opts: { required?: boolean; min?: number; max?: number } = {},
  ): number | undefined {
    const value = this.present(parent, key, loc, opts.required ?? false);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      this.add([...loc, key], 'Input should be a valid integer', 'int_type');
      return undefined;
    }
    if (opts.min !== undefined && value < opts.min) {
      this.add([...loc, key], `Input should be greater than or equal to ${opts.min}`, 'greater_than_equal');
      return undefined;
    }
    if (opts.max !== undefined && value > opts.max) {
      this.add([...loc, key], `Input should be less than or equal to ${opts.max}`, 'less_than_equal');
      return undefined;
    }
    return value;
  }

  bool(parent: Rec | undefined, key: string, loc: Loc): boolean | undefined {
    const value = this.present(parent, key, loc, false);
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') {
      this.add([...loc, key], 'Input should be a valid boolean', 'bool_type');
      return undefined;
    }
    return value;
  }

  list(
    parent: Rec | undefined,
    key: string,
    loc: Loc,
    opts: { required?: boolean; minItems?: number } = {},
  ): unknown[] | undefined {
    const value = this.present(parent, key, loc, opts.required ?? false);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      this.add([...loc, key], 'Input should be a valid list', 'list_type');
      return undefined;
    }
    if (opts.minItems !== undefined && value.length < opts.minItems) {
      this.add(
        [...loc, key],
        `List should have at least ${opts.minItems} item after validation, not ${value.length}`,
        'too_short',
      );
      return undefined;
    }
    return value;
  }

  /** Each entry of a list that must hold objects; a non-object entry is reported and skipped. */
  records(items: unknown[], loc: Loc): Array<{ item: Rec; loc: Loc }> {
    const out: Array<{ item: Rec; loc: Loc }> = [];
    items.forEach((item, index) => {
      if (isRecord(item)) out.push({ item, loc: [...loc, index] });
      else this.add([...loc, index], 'Input should be a valid dictionary', 'dict_type');
    });
    return out;
  }

  oneOf<T extends string>(
    parent: Rec | undefined,
    key: string,
    loc: Loc,
    values: readonly T[],
    opts: { required?: boolean } = {},
  ): T | undefined {
    const value = this.present(parent, key, loc, opts.required ?? false);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
      const choices = values.map((v) => `'${v}'`);
      const listed = choices.length > 1 ? `${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}` : choices[0];
      this.add([...loc, key], `Input should be ${listed}`, 'enum');
      return undefined;
    }
    return value as T;
  }

  /** `metadata`: a flat map of strings. */
  stringMap(parent: Rec | undefined, key: string, loc: Loc): StringMap | undefined {
    const value = this.object(parent, key, loc);
    if (value === undefined) return undefined;
    const out: StringMap = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') this.add([...loc, key, k], 'Input should be a valid string', 'string_type');
      else out[k] = v;
    }
    return out;
  }

  stringList(
    parent: Rec | undefined,
    key: string,
    loc: Loc,
    opts: { required?: boolean; minItems?: number } = {},
  ): string[] | undefined {
    const value = this.list(parent, key, loc, opts);
    if (value === undefined) return undefined;
    const out: string[] = [];
    value.forEach((v, i) => {
      if (typeof v !== 'string') this.add([...loc, key, i], 'Input should be a valid string', 'string_type');
      else out.push(v);
    });
    return out;
  }

  /** An absolute http(s) URL. */
  url(parent: Rec | undefined, key: string, loc: Loc, opts: { required?: boolean } = {}): string | undefined {
    const value = this.string(parent, key, loc, opts);
    if (value === undefined) return undefined;
    // `{CHECKOUT_SESSION_ID}` is legal in success URLs; braces are fine for the URL parser.
    let parsed: URL | undefined;
    try {
      parsed = new URL(value);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      this.add([...loc, key], 'Input should be a valid URL', 'url_parsing');
      return undefined;
    }
    return value;
  }
}

/** The `{"checkout_session": {...}}` envelope; an empty body counts as `{}`. */
export function envelope(v: Input, body: unknown, name: string, required: boolean): Rec | undefined {
  const outer = body === undefined ? {} : body;
  if (!isRecord(outer)) {
    v.add([], 'Input should be a valid dictionary', 'dict_type');
    return undefined;
  }
  const inner = v.object(outer, name, [], required);
  if (inner) return inner;
  return required ? undefined : {};
}
