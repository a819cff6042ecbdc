// multipart/mixed as federation media frames it (content_repository.yaml):
// what we write parses back into the two parts, other senders' spellings
// are read, and broken bodies are refused with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { multipartBoundary, multipartFraming, parseMultipart } from '../../src/core/multipart.js';

test('our framing parses back into the metadata part and the content part', () => {
  const content = Buffer.from([0, 13, 10, 45, 45, 255, 1]); // binary, with CR LF "--" inside
  const { head, tail } = multipartFraming('b0undary', '{}', { 'Content-Type': 'image/png', 'Content-Disposition': 'inline; filename="a.png"' });
  const parts = parseMultipart(Buffer.concat([head, content, tail]), 'b0undary');
  assert.equal(parts.length, 2);
  assert.deepEqual(parts[0]!.headers, { 'content-type': 'application/json' });
  assert.equal(parts[0]!.body.toString(), '{}');
  assert.deepEqual(parts[1]!.headers, { 'content-type': 'image/png', 'content-disposition': 'inline; filename="a.png"' });
  assert.deepEqual(parts[1]!.body, content);
});

test('a body opening with the delimiter, transport padding and a Location part are read', () => {
  const body = Buffer.from('--xyz  \r\nContent-Type: application/json\r\n\r\n{}\r\n--xyz\r\nLocation: https://cdn.example/m\r\n\r\n\r\n--xyz--\r\n');
  const parts = parseMultipart(body, 'xyz');
  assert.equal(parts.length, 2);
  assert.equal(parts[1]!.headers['location'], 'https://cdn.example/m');
  assert.equal(parts[1]!.body.length, 0);
});

test('the boundary comes from the Content-Type, quoted or not', () => {
  assert.equal(multipartBoundary('multipart/mixed; boundary=abc123'), 'abc123');
  assert.equal(multipartBoundary('multipart/mixed; charset=x; boundary="a b:c"'), 'a b:c');
  assert.equal(multipartBoundary('multipart/mixed'), undefined);
});

test('bodies without the delimiter or cut short are refused with a reason', () => {
  assert.throws(() => parseMultipart(Buffer.from('no parts here'), 'xyz'), /no "--xyz" delimiter/);
  assert.throws(() => parseMultipart(Buffer.from('--xyz\r\nContent-Type: text/plain\r\n\r\nhalf a file'), 'xyz'), /before the closing delimiter/);
  assert.throws(() => parseMultipart(Buffer.from('--xyz\r\nContent-Type: text/plain\r\n--xyz--'), 'xyz'), /blank line/);
});
