/** Cut point of each of stdout and stderr of `kubernetes.exec` and `ssh.exec`, in bytes. */
export const EXEC_OUTPUT_LIMIT = 64 * 1024;

/**
 * Keeps the first `limit` bytes written to one output stream and drops the
 * rest, remembering that it did. Memory stays bounded whatever the peer sends.
 */
export class OutputCapture {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number = EXEC_OUTPUT_LIMIT) {}

  write(chunk: Buffer): void {
    const room = this.limit - this.size;
    if (chunk.byteLength > room) this.truncated = true;
    if (room <= 0) return;
    const kept = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
    // Copy: a protocol library may reuse the buffer it handed us.
    this.chunks.push(Buffer.from(kept));
    this.size += kept.byteLength;
  }

  /**
   * The kept bytes as text. Invalid UTF-8 (binary output, or a character cut
   * at the limit) becomes U+FFFD, and so does NUL, which a JSON column in
   * PostgreSQL refuses.
   */
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8').replaceAll('\u0000', '\uFFFD');
  }
}

/** `{stdout, stderr, exitCode}` of §6, with `truncated: true` when either stream was cut. */
export function execResult(stdout: OutputCapture, stderr: OutputCapture, exitCode: number | null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    stdout: stdout.text(),
    stderr: stderr.text(),
    exitCode,
    ...extra,
    ...(stdout.truncated || stderr.truncated ? { truncated: true } : {}),
  };
}
