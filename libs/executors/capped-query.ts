import type pg from 'pg';

/** Rows `sql.exec` returns at most; more are marked `truncated: true`. */
export const SQL_ROW_LIMIT = 1000;
/** Longest text value returned; longer ones are cut and marked `truncated: true`. */
export const SQL_VALUE_CHARS = 64 * 1024;
/** Rough cap on the JSON size of all returned rows. */
export const SQL_RESULT_CHARS = 1024 * 1024;

export interface CappedResult {
  rowCount: number;
  rows: Record<string, unknown>[];
  truncated?: true;
}

/** The messages pg's Connection sends for us (its published typings do not match: `rows` is a number). */
interface WireConnection {
  parse(query: { text: string }): void;
  bind(config: Record<string, never>): void;
  describe(message: { type: 'P'; name: string }): void;
  execute(config: { portal: string; rows: number }): void;
  sync(): void;
  sendCopyFail(message: string): void;
}

interface Field {
  name: string;
  dataTypeID: number;
}

const BOOL = 16;
const INT2 = 21;
const INT4 = 23;
const OID = 26;
const FLOAT4 = 700;
const FLOAT8 = 701;
const JSON_OID = 114;
const JSONB = 3802;

/**
 * A text-format value as JSON: booleans, small integers, finite floats and
 * json/jsonb become JSON values; everything else keeps PostgreSQL's text form
 * (int8 and numeric keep their precision, dates their time zone, bytea its
 * `\x…` hex).
 */
function toJsonValue(text: string | null, typeId: number): unknown {
  if (text === null) return null;
  switch (typeId) {
    case BOOL:
      return text === 't';
    case INT2:
    case INT4:
    case OID:
      return Number(text);
    case FLOAT4:
    case FLOAT8: {
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    case JSON_OID:
    case JSONB:
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    default:
      return text;
  }
}

/**
 * One statement over the extended query protocol (Parse, Bind, Describe,
 * Execute with a row limit, Sync), as a pg Submittable in the manner of
 * pg-cursor. Enforces:
 * - a single statement: Parse refuses text holding several;
 * - at most SQL_ROW_LIMIT + 1 rows leave the server; the portal is suspended
 *   beyond, so a huge result is neither read nor buffered;
 * - `COPY … FROM STDIN` is refused (CopyFail), `COPY … TO STDOUT` data dropped.
 * Rows are objects keyed by column name (a later column of the same name wins).
 */
export class CappedQuery implements pg.Submittable {
  private fields: Field[] = [];
  private readonly rows: Record<string, unknown>[] = [];
  private chars = 0;
  private truncated = false;
  /** No more rows are kept (row or size limit reached). */
  private full = false;
  private rowCount: number | undefined;
  private done = false;

  constructor(
    private readonly text: string,
    private readonly onResult: (result: CappedResult) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  submit(connection: pg.Connection): void {
    const wire = connection as unknown as WireConnection;
    wire.parse({ text: this.text });
    wire.bind({});
    wire.describe({ type: 'P', name: '' });
    wire.execute({ portal: '', rows: SQL_ROW_LIMIT + 1 });
    wire.sync();
  }

  handleRowDescription(message: { fields: Field[] }): void {
    this.fields = message.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }));
  }

  handleDataRow(message: { fields: (string | null)[] }): void {
    if (this.full) return;
    if (this.rows.length >= SQL_ROW_LIMIT) {
      this.full = true;
      this.truncated = true;
      return;
    }
    const values = this.fields.map((field, i) => {
      const text = message.fields[i] ?? null;
      if (text !== null && text.length > SQL_VALUE_CHARS) {
        this.truncated = true;
        return text.slice(0, SQL_VALUE_CHARS);
      }
      return toJsonValue(text, field.dataTypeID);
    });
    // fromEntries defines own properties: a column named "__proto__" stays data.
    const row = Object.fromEntries(this.fields.map((field, i) => [field.name, values[i]]));
    this.chars += JSON.stringify(row).length;
    if (this.chars > SQL_RESULT_CHARS) {
      this.full = true;
      this.truncated = true;
      return;
    }
    this.rows.push(row);
  }

  handleCommandComplete(message: { text?: string }): void {
    const count = /(\d+)$/.exec(message.text ?? '');
    this.rowCount = count === null ? undefined : Number(count[1]);
  }

  handlePortalSuspended(): void {
    this.truncated = true;
  }

  handleEmptyQuery(): void {
    // Parse accepted nothing to run (only a comment): zero rows.
  }

  handleCopyInResponse(connection: pg.Connection): void {
    const wire = connection as unknown as WireConnection;
    wire.sendCopyFail('sql.exec does not send COPY data');
    // The backend ignores a Sync sent during copy-in: the one after Execute is gone.
    wire.sync();
  }

  handleCopyData(): void {
    // COPY TO STDOUT: not returned.
  }

  handleError(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.onError(error);
  }

  handleReadyForQuery(): void {
    if (this.done) return;
    this.done = true;
    const rows = this.rows;
    this.onResult({
      // The command tag's count when the statement completed; cut at the row limit, the rows returned.
      rowCount: this.rowCount ?? rows.length,
      rows,
      ...(this.truncated ? { truncated: true as const } : {}),
    });
  }
}
