/** For specs: a base64url segment with its first character changed, so its bytes differ. */
function flipFirstChar(segment: string): string {
  return (segment[0] === 'A' ? 'B' : 'A') + segment.slice(1);
}

/** For specs: a compact JWE with each of its non-empty segments tampered in turn. */
export function tamperedSegments(jwe: string): [string, string][] {
  const parts = jwe.split('.');
  return parts.flatMap((segment, i): [string, string][] => {
    if (segment === '') return [];
    const tampered = [...parts];
    tampered[i] = flipFirstChar(segment);
    return [[`tampered segment ${i}`, tampered.join('.')]];
  });
}
