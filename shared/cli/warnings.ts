// Process-wide warning filter for the two programs. grpc-js sets the TLS ServerName to the
// target host even when it is an IP address, which makes Node print DEP0123 on every start;
// it is harmless (IP SANs are still verified) and only confuses users, so that one is dropped.
const original = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const code = typeof rest[0] === 'object' && rest[0] ? (rest[0] as { code?: string }).code : rest[1];
  if (code === 'DEP0123' || (typeof warning === 'string' && warning.includes('TLS ServerName to an IP address'))) return;
  (original as (...a: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
