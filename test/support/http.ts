import { markFirstLoginChangeMade } from './first-login.js';

/** A small fetch wrapper for tests: JSON in, status + parsed body + headers out. */
export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

export class Http {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  as(token: string | undefined): Http {
    return new Http(this.baseUrl, token);
  }

  get<T = any>(path: string, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    return this.request<T>('GET', path, undefined, headers);
  }

  post<T = any>(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    return this.request<T>('POST', path, body, headers);
  }

  put<T = any>(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    return this.request<T>('PUT', path, body, headers);
  }

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
    const init: RequestInit = { method, headers: { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.baseUrl + path, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers, text };
  }

  /**
   * A bearer session. A user whose password an admin chose (`mustChangePassword`) has
   * their first-login change made (support/first-login.ts): in the database of a gateway
   * of this process, else through the API (to a throwaway password and back, so the
   * password the test knows stays valid).
   */
  async login(username: string, password: string): Promise<Http> {
    const res = await this.post('/api/v1/auth/login', { username, password });
    if (res.status !== 200) throw new Error(`login ${username} failed: ${res.status} ${res.text}`);
    const session = this.as(res.body.accessToken as string);
    if (res.body.mustChangePassword !== true || (await markFirstLoginChangeMade(this.baseUrl, username))) return session;
    const throwaway = `${password}~first-login`;
    await this.changePasswordAtFirstLogin(username, password, throwaway);
    await this.changePasswordAtFirstLogin(username, throwaway, password);
    return this.login(username, password);
  }

  /** Signs in with `current` and changes it to `next` (which ends that session); throws unless both answer as expected. */
  async changePasswordAtFirstLogin(username: string, current: string, next: string): Promise<void> {
    const res = await this.post('/api/v1/auth/login', { username, password: current });
    if (res.status !== 200) throw new Error(`login ${username} failed: ${res.status} ${res.text}`);
    const changed = await this.as(res.body.accessToken as string).put('/api/v1/me/password', { currentPassword: current, newPassword: next });
    if (changed.status !== 204) throw new Error(`password change of ${username} failed: ${changed.status} ${changed.text}`);
  }
}
