import { HIDDEN_CHARACTERS } from '../api.ts';

/**
 * Text as a reviewer must read it: every character they could not see, or that
 * would reorder what they see (bidi overrides, zero-width, controls), replaced by a
 * visible `⟦U+202E⟧`, and counted. Line feeds and tabs stay as they are.
 */
export function revealHidden(text: string): { shown: string; hidden: number } {
  let hidden = 0;
  const shown = text.replace(HIDDEN_CHARACTERS, (c) => {
    hidden += 1;
    return `⟦U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}⟧`;
  });
  return { shown, hidden };
}

/** A review-critical string (command, SQL, path, header, body, reason) with its hidden characters made visible and a warning. */
export function ReviewText({ text, as = 'span', className }: { text: string; as?: 'span' | 'pre' | 'code'; className?: string }) {
  const { shown, hidden } = revealHidden(text);
  const Tag = as;
  return (
    <>
      <Tag className={className} data-hidden-characters={hidden}>
        {shown}
      </Tag>
      {hidden > 0 && (
        <strong className="danger-text hidden-characters-warning" role="alert" data-testid="hidden-characters-warning">
          {' '}
          ⚠ {hidden} invisible or direction-changing character{hidden === 1 ? '' : 's'}, shown as ⟦U+…⟧: what runs is not what this text would look like elsewhere.
        </strong>
      )}
    </>
  );
}
