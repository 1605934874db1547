import type { ServiceContext } from "./context.js";
import { CrlPublisher, CrlStore } from "./crl.js";
import { OcspResponder } from "./ocsp.js";
import { pkiSettings, type PkiSettings } from "./pki-settings.js";
import { PublishingCaCache } from "./publishing-cas.js";

/** PkiServices: CRL publishing and serving and the OCSP responder of one process. */
export interface PkiServices {
  settings: PkiSettings;
  cas: PublishingCaCache;
  publisher: CrlPublisher;
  crls: CrlStore;
  ocsp: OcspResponder;
  /** clear drops every cached CA, CRL and OCSP response (tests that empty the database call it). */
  clear(): void;
  stop(): Promise<void>;
}

/**
 * startPkiServices wires the revocation publishers to the change bus and starts the CRL sweep.
 * stop() waits for a CRL build in flight, so call it before closing the database.
 */
export function startPkiServices(ctx: ServiceContext): PkiServices {
  const cas = new PublishingCaCache(ctx.sql, ctx.masterKeys, ctx.bus);
  const publisher = new CrlPublisher(ctx, cas);
  const crls = new CrlStore(ctx, cas, publisher);
  const ocsp = new OcspResponder(ctx, cas);
  publisher.start();
  ocsp.start();
  return {
    settings: pkiSettings(ctx.pkiSettings),
    cas,
    publisher,
    crls,
    ocsp,
    clear() {
      cas.clear();
      crls.clear();
      ocsp.clear();
    },
    async stop() {
      ocsp.stop();
      await publisher.stop();
    },
  };
}
