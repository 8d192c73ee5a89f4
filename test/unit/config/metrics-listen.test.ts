import { describe, expect, it } from 'vitest';
import { parseListen } from '../../../src/config/build.js';

describe('metrics.listen', () => {
  it('parses IPv4, bracketed IPv6 and off', () => {
    expect(parseListen('127.0.0.1:9789')).toEqual({ host: '127.0.0.1', port: 9789 });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseListen('off')).toBeNull();
  });
});
