/**
 * The textual forms a secret takes on its way out of a run (PROTOCOL.md section 6):
 * every string the redactor looks for when it is given one secret. Pure; imports
 * nothing of ours.
 */
import { Buffer } from 'node:buffer';

/**
 * The shortest secret, and the shortest form of a secret, that is ever used as a
 * pattern, in characters (Unicode code points).
 *
 * A pattern of 5 characters or fewer would match ordinary text everywhere: a 4-char
 * secret `1234` masks every port number, timestamp and id that contains it, and the
 * 2–4 base64 characters left of a shifted short secret are found in nearly every
 * encoded string. Such a secret cannot be masked without masking everything, so it
 * is refused when loaded, and a form shorter than this (possible only for the core
 * of a shifted base64 encoding of a 6- or 7-byte secret) is simply not used.
 */
export const MIN_SECRET_LENGTH = 6;

/** Length in Unicode code points, the unit "characters" means in the contract. */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/**
 * Every form of `secret` the redactor masks, each at least {@link MIN_SECRET_LENGTH}
 * characters long, without duplicates:
 * - raw;
 * - JSON-escaped (the `JSON.stringify` form without its quotes, for a secret inside
 *   serialised JSON held in a string), and the same with every non-ASCII character
 *   written `\uXXXX` (serialisers that escape to ASCII);
 * - base64 and base64url of the UTF-8 bytes, with and without padding, and for a
 *   secret inside a longer encoded string the stable core of each of the three byte
 *   alignments (so `base64("user:" + secret)` is caught);
 * - hex, lower and upper case;
 * - URL-encoded: `encodeURIComponent` (also with lower-case escapes), `encodeURI`,
 *   `+` for space (form encoding and `URLSearchParams`), and every byte `%XX` in upper
 *   and lower case;
 * - each line (of at least 6 characters, also trimmed) of a multi-line secret, raw
 *   and JSON-escaped.
 */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>();
  const add = (form: string | undefined): void => {
    if (form !== undefined && codePointLength(form) >= MIN_SECRET_LENGTH) forms.add(form);
  };

  add(secret);
  add(jsonEscaped(secret));
  add(asciiJsonEscaped(secret));

  const bytes = Buffer.from(secret, 'utf8');
  for (const form of base64Forms(bytes)) add(form);

  const hex = bytes.toString('hex');
  add(hex);
  add(hex.toUpperCase());

  for (const form of urlForms(secret, bytes)) add(form);

  if (/[\r\n]/.test(secret)) {
    for (const line of secret.split(/\r\n|\r|\n/)) {
      for (const variant of [line, line.trim()]) {
        add(variant);
        add(jsonEscaped(variant));
      }
    }
  }
  return [...forms];
}

function jsonEscaped(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

function asciiJsonEscaped(text: string): string {
  return jsonEscaped(text).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Base64 of `bytes` as it appears when preceded by 0, 1 or 2 bytes (modulo 3) of
 * unknown data and followed by unknown data or by nothing. With `p` unknown bytes in
 * front, the secret's bits start at bit 8p; a character is determined by the secret
 * alone when its 6 bits lie inside the secret's bits, i.e. characters
 * `ceil(8p/6)` up to (excluding) `floor(8(p+n)/6)` of `base64(zeros(p) + bytes)`.
 * When the secret ends the encoded string, the tail (the partial last character and
 * its padding) is known too, so that longer form is added as well.
 */
function base64Forms(bytes: Buffer): string[] {
  const out: string[] = [];
  const n = bytes.length;
  for (let p = 0; p <= 2; p += 1) {
    const std = Buffer.concat([Buffer.alloc(p), bytes]).toString('base64');
    const start = Math.ceil((8 * p) / 6);
    const end = Math.floor((8 * (p + n)) / 6);
    const core = std.slice(start, end);
    const tailPadded = std.slice(start);
    const tailUnpadded = tailPadded.replace(/=+$/, '');
    for (const form of [core, tailUnpadded, tailPadded]) {
      out.push(form, form.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return out;
}

function urlForms(secret: string, bytes: Buffer): string[] {
  const out: string[] = [];
  // encodeURIComponent/encodeURI throw on a lone surrogate; such a string cannot be
  // URL-encoded by well-behaved code either, so there is no form to look for.
  const component = tryEncode(encodeURIComponent, secret);
  if (component !== undefined) {
    out.push(component, component.replace(/%20/g, '+'), lowerEscapes(component));
  }
  const uri = tryEncode(encodeURI, secret);
  if (uri !== undefined) out.push(uri, uri.replace(/%20/g, '+'));
  // application/x-www-form-urlencoded as URLSearchParams writes it (also escapes !'()~).
  out.push(new URLSearchParams([['', secret]]).toString().slice(1));
  let every = '';
  for (const byte of bytes) every += `%${byte.toString(16).padStart(2, '0').toUpperCase()}`;
  out.push(every, every.toLowerCase());
  return out;
}

function tryEncode(encode: (text: string) => string, text: string): string | undefined {
  try {
    return encode(text);
  } catch {
    return undefined;
  }
}

function lowerEscapes(encoded: string): string {
  return encoded.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
}
