// Throwaway TLS material for end-to-end tests over HTTPS/HTTP/2 (test tool only).
//
// The certificate is self-signed and trusted by nobody; the test browser alone is
// told to accept it by its public key hash, through Chromium's
// `--ignore-certificate-errors-spki-list=<spki>` flag, so no CA store is touched.
// Node clients pass `ca: cert` instead.

import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const OPENSSL = '/usr/bin/openssl';

/**
 * base64 of the SHA-256 of the certificate's DER SubjectPublicKeyInfo: the
 * format Chromium's --ignore-certificate-errors-spki-list takes.
 * @param {string|Buffer} certPem
 */
export function spkiHash(certPem) {
  const der = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/**
 * Make a fresh ECDSA P-256 key and a self-signed certificate for 127.0.0.1 and
 * localhost, valid for 2 days (long enough for a test run, useless afterwards).
 * @param {string} [dir] where to write key.pem and cert.pem (default: a new temp dir)
 * @returns {{key: string, cert: string, keyFile: string, certFile: string, spki: string}}
 */
export function selfSignedCert(dir) {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'fannotate-tls-'));
  fs.mkdirSync(dir, { recursive: true });
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    OPENSSL,
    [
      'req', '-x509', '-nodes',
      '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
      '-keyout', keyFile, '-out', certFile,
      '-days', '2', '-sha256',
      '-subj', '/CN=localhost',
      // Browsers ignore the CN: the names must be in subjectAltName.
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      // A leaf, not the CA certificate `req -x509` makes by default.
      '-addext', 'basicConstraints=critical,CA:FALSE',
      '-addext', 'extendedKeyUsage=serverAuth',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const key = fs.readFileSync(keyFile, 'utf8');
  const cert = fs.readFileSync(certFile, 'utf8');
  return { key, cert, keyFile, certFile, spki: spkiHash(cert) };
}
