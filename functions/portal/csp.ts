/**
 * The page's Content-Security-Policy, one definition for the local server (functions/adapters/local/portal.ts)
 * and CloudFront (infra/constructs/portal.ts). `s3Origin` is where presigned POSTs go: s3rver locally,
 * the uploads bucket's regional endpoint in AWS (https://<bucket>.s3.<region>.amazonaws.com).
 */
export function portalCsp(s3Origin: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${s3Origin}`,
    `form-action 'self' ${s3Origin}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}
