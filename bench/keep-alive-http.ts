import http from 'node:http';
import { Http, type HttpResult } from '../test/support/http.js';

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/**
 * The tests' client on node:http with kept-alive connections instead of fetch: the
 * bench's clients share the machine with the gateway, and fetch costs them several
 * times the CPU per request.
 */
export class KeepAliveHttp extends Http {
  override as(token: string | undefined): Http {
    return new KeepAliveHttp(this.baseUrl, token);
  }

  override request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, retried = false): Promise<HttpResult<T>> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const requestHeaders: Record<string, string> = { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...headers };
    if (payload !== undefined) {
      requestHeaders['content-type'] ??= 'application/json';
      requestHeaders['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const req = http.request(this.baseUrl + path, { method, headers: requestHeaders, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
          resolve({ status: res.statusCode ?? 0, body: parsed as T, headers: responseHeaders, text });
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        // The server may close an idle kept-alive socket just as it is reused: the request never arrived.
        if (req.reusedSocket && error.code === 'ECONNRESET' && !retried) resolve(this.request<T>(method, path, body, headers, true));
        else reject(error);
      });
      req.end(payload);
    });
  }
}
