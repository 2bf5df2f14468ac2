/**
 * Put `exports` in Node's module cache under the resolved path of `specifier`, so a later require of
 * it gets the stub and never loads the real module (its load-time cost is what is avoided). Returns
 * false when the module is not installed or is already loaded (then the real one stays).
 */
import Module from 'node:module';

export function stubModule(specifier: string, exports: unknown): boolean {
  let path: string;
  try {
    path = require.resolve(specifier);
  } catch {
    return false;
  }
  if (require.cache[path] !== undefined) return false;
  const stub = new Module(path);
  stub.filename = path;
  stub.loaded = true;
  stub.exports = exports;
  require.cache[path] = stub;
  return true;
}
