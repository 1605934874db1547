import { X509Certificate } from "node:crypto";
import { Agent, type Dispatcher } from "undici";
import { BindingError, BindingErrors } from "./errors.js";

/**
 * Fetcher is what a binding is, as in Workers: `fetch` with exactly the global signature, which
 * presents the binding's client certificate in every TLS handshake.
 */
export interface Fetcher {
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
}

/** KeyMaterial is a `ca: false` upload as the binding holds it, in memory only. */
export interface KeyMaterial {
  id: string;
  name: string | null;
  /** The leaf first, then any intermediates, PEM. */
  certificates: string;
  /** PKCS#8 PEM. */
  privateKey: string;
}

/** BindingStatus tells what a binding would do with a fetch now. */
export type BindingStatus = "loading" | "ready" | "unavailable" | "closed";

/**
 * HttpsOnlyAgent is an undici Agent that presents the client certificate and refuses to dispatch
 * to anything but `https:` origins. Refusing here (not only before the first request) covers the
 * hops of a followed redirect too, so a redirect can never lead to a connection without TLS.
 */
class HttpsOnlyAgent extends Agent {
  constructor(
    private readonly bindingName: string,
    options: Agent.Options,
  ) {
    super(options);
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = String(options.origin ?? "");
    if (!origin.startsWith("https:")) {
      throw new BindingError(this.bindingName, BindingErrors.insecureRedirect, "refusing a redirect to a URL that is not https: (the certificate is only presented over TLS)");
    }
    return super.dispatch(options, handler);
  }
}

export interface FetcherOptions {
  /** Trust anchors for the servers called (PEM); default: Node's CA store. */
  ca?: string | string[];
  /** How many connections per origin the pool keeps; default 16. */
  connectionsPerOrigin?: number;
  /** The clock, injectable for tests of expiry. */
  now?: () => Date;
}

/**
 * BindingFetcher is one binding: its key material, its pooled connections (one undici Agent, so
 * connections are reused across calls), and its state. It never connects without the certificate:
 * until the key is loaded, and after the certificate is gone, fetch rejects with a BindingError.
 */
export class BindingFetcher implements Fetcher {
  private agent: HttpsOnlyAgent | undefined;
  private notBefore = 0;
  private notAfter = 0;
  private state: BindingStatus = "loading";
  private reason: BindingError | undefined;

  constructor(
    readonly binding: string,
    readonly certificateId: string,
    private readonly options: FetcherOptions = {},
    /** ensureLoaded is called by fetch while the key is not there yet (a retry after a transient failure). */
    private readonly ensureLoaded: () => Promise<void> = async () => {},
  ) {
    this.fetch = this.fetch.bind(this);
  }

  get status(): BindingStatus {
    return this.state;
  }

  /** load installs key material: checks that the key matches the leaf, then opens a fresh pool. */
  load(material: KeyMaterial): void {
    if (this.state === "closed") return;
    const leaf = new X509Certificate(material.certificates);
    this.notBefore = Date.parse(leaf.validFrom);
    this.notAfter = Date.parse(leaf.validTo);
    const old = this.agent;
    this.agent = new HttpsOnlyAgent(this.binding, {
      connections: this.options.connectionsPerOrigin ?? 16,
      connect: {
        cert: material.certificates,
        key: material.privateKey,
        ...(this.options.ca !== undefined ? { ca: this.options.ca } : {}),
      },
    });
    this.state = "ready";
    this.reason = undefined;
    void old?.destroy().catch(() => {});
  }

  /**
   * markUnavailable records why the binding cannot be used (deleted, unknown, not a client
   * certificate) and drops its pooled connections, so nothing keeps talking with a deleted key.
   */
  markUnavailable(reason: string, code: number = BindingErrors.certificateUnavailable): void {
    if (this.state === "closed") return;
    this.state = "unavailable";
    this.reason = new BindingError(this.binding, code, reason);
    const agent = this.agent;
    this.agent = undefined;
    void agent?.destroy().catch(() => {});
  }

  /** markLoadFailed records a transient failure; the next fetch tries to load again. */
  markLoadFailed(reason: string, cause?: unknown): void {
    if (this.state === "closed" || this.state === "ready") return;
    this.state = "loading";
    this.reason = new BindingError(this.binding, BindingErrors.loadFailed, reason, { cause });
  }

  async close(): Promise<void> {
    this.state = "closed";
    this.reason = new BindingError(this.binding, BindingErrors.closed, "closed (close() was called)");
    const agent = this.agent;
    this.agent = undefined;
    await agent?.close().catch(() => {});
  }

  /** fetch: the global signature; plain `http:` is refused, redirects are followed only on request. */
  async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const url = urlOf(input);
    if (url === undefined) throw new BindingError(this.binding, BindingErrors.plainHttp, "the URL is not valid");
    if (url.protocol !== "https:") {
      throw new BindingError(
        this.binding,
        BindingErrors.plainHttp,
        `refusing a ${url.protocol} URL: a client certificate is only presented over TLS, use https:`,
      );
    }
    if (this.state === "loading") await this.ensureLoaded();
    const agent = this.agent;
    if (this.state !== "ready" || agent === undefined) {
      throw this.reason ?? new BindingError(this.binding, BindingErrors.loadFailed, "the certificate is not loaded yet");
    }
    const now = (this.options.now?.() ?? new Date()).getTime();
    if (now > this.notAfter) {
      throw new BindingError(this.binding, BindingErrors.certificateExpired, `certificate ${this.certificateId} expired on ${new Date(this.notAfter).toISOString()}`);
    }
    if (now < this.notBefore) {
      throw new BindingError(this.binding, BindingErrors.certificateExpired, `certificate ${this.certificateId} is not valid before ${new Date(this.notBefore).toISOString()}`);
    }
    const redirect = init?.redirect ?? (input instanceof Request && input.redirect !== "follow" ? input.redirect : "manual");
    const options = { ...init, redirect, dispatcher: agent } as RequestInit;
    try {
      return await fetch(input, options);
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof BindingError) throw cause;
      throw err;
    }
  }
}

function urlOf(input: RequestInfo | URL): URL | undefined {
  try {
    if (input instanceof URL) return input;
    if (typeof input === "string") return new URL(input);
    if (input instanceof Request) return new URL(input.url);
    return new URL(String(input));
  } catch {
    return undefined;
  }
}
