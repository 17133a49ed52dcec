// The field checks the request validators (report.ts, apply.ts, join.ts) are made of. Each one
// throws InvalidArgumentError with "<subject>: <field path> <value> <what is wrong>; <what is
// allowed>", the value quoted, cut short and escaped, so the message itself is safe to log and
// to show.
import { unusableNodeAddress } from '../../../shared/net/ip.ts';
import { isIP } from 'node:net';
import { InvalidArgumentError } from '../../../shared/errors/index.ts';
import { parseCidr } from '../../../shared/plan/cidr.ts';
import { hostnameErrors, labelValueErrors, qualifiedNameErrors } from '../../../shared/plan/k8s-names.ts';
import { codePointName, escapeControl, findControl } from '../../../shared/text/escape.ts';
import { INPUT_LIMITS } from './limits.ts';

/** Kubernetes' longest label key ("<253-character prefix>/<63-character name>") and value. */
const LABEL_KEY_CHARS = 253 + 1 + 63;
const LABEL_VALUE_CHARS = 63;

/** How much of an offending value an error message quotes. */
const QUOTE_CHARS = 64;

/** A value as an error message shows it: JSON-quoted, at most QUOTE_CHARS characters, escaped. */
export function quote(value: string): string {
  const cut = value.length > QUOTE_CHARS ? `${value.slice(0, QUOTE_CHARS)}…` : value;
  return escapeControl(JSON.stringify(cut));
}

/** An IP address in text form, without a zone (a zone means nothing to another node). */
export function isIpAddress(text: string): boolean {
  return isIP(text) !== 0 && !text.includes('%');
}

export interface TextRule {
  max: number;
  /** Control characters are accepted (free text, escaped where shown). @default false */
  control?: boolean;
  /** Tabs are accepted (multi-valued sysctls separate values with tabs). @default false */
  tab?: boolean;
}

/** Checks for the fields of one request; `subject` opens every message ("report from node-2"). */
export class FieldChecker {
  readonly subject: string;

  constructor(subject: string) {
    this.subject = subject;
  }

  fail(path: string, problem: string): never {
    throw new InvalidArgumentError(`${this.subject}: ${path} ${problem}`);
  }

  /** A string of at most rule.max characters, printable unless rule.control. */
  text(path: string, value: string, rule: TextRule): void {
    if (value.length > rule.max) this.fail(path, `${quote(value)} is ${value.length} characters long; at most ${rule.max} are allowed`);
    if (rule.control) return;
    const c = findControl(rule.tab ? value.replaceAll('\t', ' ') : value);
    if (c) this.fail(path, `${quote(value)} contains the control character ${codePointName(c.char)}; only printable text is allowed`);
  }

  /** A printable string of at most `max` characters matching `re`, else "<allowed>" is said. */
  matches(path: string, value: string, max: number, re: RegExp, allowed: string): void {
    this.text(path, value, { max });
    if (!re.test(value)) this.fail(path, `${quote(value)} has characters that are not allowed; ${allowed}`);
  }

  /** An IP address; '' too when `empty` says what an empty value means. */
  ip(path: string, value: string, empty?: string): void {
    if (value === '' && empty) return;
    if (!isIpAddress(value)) {
      this.fail(path, `${quote(value)} is not an IP address; write an IPv4 or IPv6 address without a zone${empty ? `, or leave it empty (${empty})` : ''}`);
    }
  }

  /** An IP address that can be a node's: not unspecified, multicast or broadcast. */
  nodeIp(path: string, value: string, empty?: string): void {
    this.ip(path, value, empty);
    const why = value ? unusableNodeAddress(value) : null;
    if (why) this.fail(path, `${quote(value)} is ${why}, which cannot be a node's address; pass the node's own address with --address`);
  }

  /** "10.0.0.5/24": an IP address and a prefix length, host bits allowed. */
  cidr(path: string, value: string): void {
    const slash = value.indexOf('/');
    if (value.trim() !== value || !parseCidr(value) || !isIpAddress(value.slice(0, slash))) {
      this.fail(path, `${quote(value)} is not an IP address in CIDR form (an address and a prefix length, e.g. 10.0.0.5/24)`);
    }
  }

  /** A host name Kubernetes accepts (lowercase RFC 1123, at most 253 characters). */
  hostname(path: string, value: string): void {
    this.text(path, value, { max: INPUT_LIMITS.hostnameChars });
    const errors = value === '' ? ['must not be empty'] : hostnameErrors(value);
    if (errors.length) this.fail(path, `${quote(value)} is not a host name: ${errors.join('; ')}`);
  }

  /** An IP address or a DNS name (any case: it is only dialled, never a Kubernetes name). */
  host(path: string, value: string): void {
    if (isIpAddress(value)) return;
    this.text(path, value, { max: INPUT_LIMITS.hostnameChars });
    if (value === '' || hostnameErrors(value.toLowerCase()).length) {
      this.fail(path, `${quote(value)} is neither an IP address nor a host name (letters, digits, "-" and ".")`);
    }
  }

  /** At most `max` entries. */
  count(path: string, length: number, max: number): void {
    if (length > max) this.fail(path, `has ${length} entries; at most ${max} are allowed`);
  }

  /** A whole number in [min, max]; `what` names the range ("a port (1-65535)"). */
  int(path: string, value: number, min: number, max: number, what: string): void {
    if (!Number.isInteger(value) || value < min || value > max) this.fail(path, `${value} is not ${what}`);
  }

  /** A finite number (a NaN latency would compare as "fast enough" in every check). */
  finite(path: string, value: number): void {
    if (!Number.isFinite(value)) this.fail(path, `${value} is not a finite number`);
  }

  oneOf(path: string, value: string, allowed: readonly string[]): void {
    if (!allowed.includes(value)) this.fail(path, `${quote(value)} is not one of ${allowed.join(', ')}`);
  }

  /** JSON.stringify(value) in UTF-8 is at most `max` bytes. */
  jsonBytes(path: string, value: unknown, max: number): void {
    const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
    if (bytes > max) this.fail(path, `is ${bytes} bytes as JSON; at most ${max} are allowed`);
  }

  /** Node labels: at most INPUT_LIMITS.labels, keys and values in Kubernetes syntax. */
  labels(path: string, labels: Record<string, string>): void {
    const entries = Object.entries(labels);
    this.count(path, entries.length, INPUT_LIMITS.labels);
    for (const [key, value] of entries) {
      // Kubernetes' syntax rules rule out control characters too; the lengths come first so
      // that their messages, which quote the parts, stay short.
      this.text(`${path} key`, key, { max: LABEL_KEY_CHARS });
      this.text(`${path}[${quote(key)}]`, value, { max: LABEL_VALUE_CHARS });
      const keyErrors = qualifiedNameErrors(key);
      if (keyErrors.length) this.fail(`${path} key`, `${quote(key)} is not a label key: ${escapeControl(keyErrors.join('; '))}`);
      const valueErrors = labelValueErrors(value);
      if (valueErrors.length) this.fail(`${path}[${quote(key)}]`, `${quote(value)} is not a label value: ${escapeControl(valueErrors.join('; '))}`);
    }
  }
}
