import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Certificates for the mutual TLS tests, made with openssl in a temporary directory. */
export interface Pki {
  dir: string;
  /** Path of the CA standing in for Shopify's Payments Platform CA (PAYMENTS_MTLS_CA). */
  shopifyCa: string;
  /** PEM of the CA that signed the app's server certificate (what Shopify's side trusts). */
  serverCa: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
  rogueClient: { cert: string; key: string };
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA standing in for Shopify's, a server CA, and certificates for the app, Shopify and an impostor. */
export function makePki(): Pki {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flex-mtls-'));
  const ca = (name: string) => openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
  const leaf = (name: string, caName: string, extensions: string) => {
    writeFileSync(path.join(dir, `${name}.ext`), extensions);
    openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  };
  ca('shopify-payments-ca');
  ca('server-ca');
  ca('rogue-ca');
  leaf('server', 'server-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('shopify-client', 'shopify-payments-ca', 'extendedKeyUsage=clientAuth\n');
  leaf('rogue-client', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
  const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
  return {
    dir,
    shopifyCa: path.join(dir, 'shopify-payments-ca.crt'),
    serverCa: read('server-ca.crt'),
    server: { cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') },
    client: { cert: read('shopify-client.crt'), key: read('shopify-client.key') },
    rogueClient: { cert: read('rogue-client.crt'), key: read('rogue-client.key') },
  };
}

