import { AppError } from './app-error.js';

/**
 * Page cursors: opaque to clients (base64url of a small JSON object naming the list it
 * pages and where the last page ended), checked as strictly as any other input. A cursor
 * grants nothing: each page is filtered by what the caller may see, as the first one was.
 */
export type PageCursor = { list: 'requests'; afterId: string } | { list: 'audit'; afterSeq: number } | { list: 'audit-desc'; beforeSeq: number };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(cursor: PageCursor): string {
  const fields = cursor.list === 'requests' ? { l: 'r', id: cursor.afterId } : cursor.list === 'audit' ? { l: 'a', seq: cursor.afterSeq } : { l: 'ad', seq: cursor.beforeSeq };
  return Buffer.from(JSON.stringify(fields), 'utf8').toString('base64url');
}

/** A cursor this gateway could have given out: base64url of a JSON object, at most `maxLength` characters. */
export function parseCursorFields(text: string, maxLength: number): Record<string, unknown> {
  if (text.length > maxLength || !/^[A-Za-z0-9_-]+$/.test(text)) throw cursorRefused();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw cursorRefused();
  }
  if (typeof parsed !== 'object' || parsed === null) throw cursorRefused();
  return parsed as Record<string, unknown>;
}

export function cursorRefused(): AppError {
  return new AppError('VALIDATION_FAILED', 'cursor is not one this list gave out: send back a nextCursor unchanged');
}

/** The cursor a client sent back, for the list it is sent to; anything else is a 400. */
export function decodeCursor<L extends PageCursor['list']>(text: string, list: L): Extract<PageCursor, { list: L }> {
  const fields = parseCursorFields(text, 200);
  if (list === 'requests' && fields['l'] === 'r' && typeof fields['id'] === 'string' && UUID.test(fields['id'])) {
    return { list: 'requests', afterId: fields['id'] } as Extract<PageCursor, { list: L }>;
  }
  if (list === 'audit' && fields['l'] === 'a' && Number.isSafeInteger(fields['seq']) && (fields['seq'] as number) >= 0) {
    return { list: 'audit', afterSeq: fields['seq'] as number } as Extract<PageCursor, { list: L }>;
  }
  if (list === 'audit-desc' && fields['l'] === 'ad' && Number.isSafeInteger(fields['seq']) && (fields['seq'] as number) >= 1) {
    return { list: 'audit-desc', beforeSeq: fields['seq'] as number } as Extract<PageCursor, { list: L }>;
  }
  throw cursorRefused();
}
