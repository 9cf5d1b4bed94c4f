import { ExecutorError } from './executor-error.js';

/**
 * Names a read-only statement may not contain, as keywords or identifiers, quoted or not:
 * what runs a command or writes a file on the server (`COPY … PROGRAM`, `COPY … TO file`,
 * `lo_export`), runs code that a read-only transaction does not confine (`DO`, `CALL`,
 * `dblink…`), or switches the role the statement runs as (`set_config('role', …)`, and the
 * built-in functions that execute SQL text, which could call it out of sight).
 */
const REFUSED_WORDS: ReadonlyMap<string, string> = new Map([
  ['do', 'DO runs a procedural block'],
  ['call', 'CALL runs a procedure, which may commit and start a read-write transaction'],
  ['copy', 'COPY can run a program (COPY … PROGRAM) or write a file on the server; read with SELECT'],
  ['set_config', 'set_config can switch the role the statement runs as'],
  ['query_to_xml', 'query_to_xml runs SQL text that this check cannot see'],
  ['query_to_xmlschema', 'query_to_xmlschema runs SQL text that this check cannot see'],
  ['query_to_xml_and_xmlschema', 'query_to_xml_and_xmlschema runs SQL text that this check cannot see'],
  ['lo_export', 'lo_export writes a file on the server'],
]);

const IDENTIFIER_START = /[A-Za-z_\u0080-\uffff]/u;
const IDENTIFIER_PART = /[A-Za-z0-9_$\u0080-\uffff]/u;
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/u;

/** The words of a statement as the PostgreSQL lexer splits it (standard_conforming_strings on), comments and string bodies left out. */
interface Lexed {
  /** Unquoted words lower-cased, quoted identifiers as written (with "" unescaped), lower-cased too. */
  words: string[];
  /** A `U&"…"` identifier, which can spell any name with escapes. */
  unicodeIdentifier: boolean;
}

function lex(sql: string): Lexed {
  const words: string[] = [];
  let unicodeIdentifier = false;
  let i = 0;
  const n = sql.length;
  /** Index after the closing quote of a literal opened at `start` (the quote), `''` doubling it; `backslash`: `\` escapes too. */
  const skipQuoted = (start: number, quote: string, backslash: boolean): { end: number; body: string } => {
    let body = '';
    let j = start + 1;
    while (j < n) {
      const c = sql[j] as string;
      if (backslash && c === '\\') {
        body += sql.slice(j, j + 2);
        j += 2;
        continue;
      }
      if (c === quote) {
        if (sql[j + 1] === quote) {
          body += quote;
          j += 2;
          continue;
        }
        return { end: j + 1, body };
      }
      body += c;
      j += 1;
    }
    return { end: n, body };
  };
  while (i < n) {
    const c = sql[i] as string;
    if (c === '-' && sql[i + 1] === '-') {
      const eol = sql.slice(i).search(/[\n\r]/);
      i = eol === -1 ? n : i + eol;
    } else if (c === '/' && sql[i + 1] === '*') {
      // Block comments nest in PostgreSQL.
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth += 1;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth -= 1;
          i += 2;
        } else i += 1;
      }
    } else if (c === "'") {
      i = skipQuoted(i, "'", false).end;
    } else if (c === '"') {
      const { end, body } = skipQuoted(i, '"', false);
      words.push(body.toLowerCase());
      i = end;
    } else if (c === '$') {
      const tag = DOLLAR_TAG.exec(sql.slice(i, i + 256))?.[0];
      if (tag === undefined) {
        i += 1; // a parameter such as $1
      } else {
        const close = sql.indexOf(tag, i + tag.length);
        i = close === -1 ? n : close + tag.length;
      }
    } else if (IDENTIFIER_START.test(c)) {
      let j = i + 1;
      while (j < n && IDENTIFIER_PART.test(sql[j] as string)) j += 1;
      const word = sql.slice(i, j).toLowerCase();
      if (sql[j] === "'" && (word === 'e' || word === 'b' || word === 'x' || word === 'n')) {
        // E'…' takes backslash escapes; B'…', X'…' and N'…' are plain literals.
        i = skipQuoted(j, "'", word === 'e').end;
      } else if (word === 'u' && sql[j] === '&' && (sql[j + 1] === "'" || sql[j + 1] === '"')) {
        if (sql[j + 1] === '"') unicodeIdentifier = true;
        i = skipQuoted(j + 1, sql[j + 1] as string, false).end;
      } else {
        words.push(word);
        i = j;
      }
    } else {
      i += 1;
    }
  }
  return { words, unicodeIdentifier };
}

/**
 * Refuses, in a statement meant to run read-only, what a read-only transaction does not
 * stop. A lexical check, conservative: it reads the statement as PostgreSQL's lexer does
 * with `standard_conforming_strings` on (which the executor sets for the transaction),
 * skipping `--` and nested `/* *\/` comments, string literals (`'…'`, `E'…'`, `U&'…'`,
 * dollar quoting) and looking at every keyword and identifier, quoted or not, in any case.
 * Enforces that none is `DO`, `CALL`, `COPY`, `set_config`, `query_to_xml`,
 * `query_to_xmlschema`, `query_to_xml_and_xmlschema`, `lo_export` or starts with `dblink`,
 * and that no `U&"…"` identifier appears (its escapes can spell any of those). A column
 * named like one of them must be renamed in the query (`AS`) or aliased in a view.
 *
 * @example
 * checkReadOnlySql('SELECT id FROM orders'); // passes
 * checkReadOnlySql("/* hi *\/DO $$ BEGIN PERFORM 1; END $$"); // throws PARAMS_INVALID
 */
export function checkReadOnlySql(sql: string): void {
  const { words, unicodeIdentifier } = lex(sql);
  const refuse = (why: string) => new ExecutorError('PARAMS_INVALID', `params.sql is refused with readOnly: ${why}; run it with readOnly: false under a policy that allows that`);
  if (unicodeIdentifier) throw refuse('a U&"…" identifier can spell a refused name');
  for (const word of words) {
    const why = REFUSED_WORDS.get(word);
    if (why !== undefined) throw refuse(why);
    if (word.startsWith('dblink')) throw refuse(`${word} runs SQL on another connection, outside the read-only transaction`);
  }
}

/** A PostgreSQL identifier in double quotes, safe to splice into SQL. */
export function quoteIdentifier(name: string): string {
  if (name.includes('\u0000')) throw new TypeError('quoteIdentifier: NUL in an identifier');
  return `"${name.replace(/"/g, '""')}"`;
}
