import { afterEach } from '@jest/globals';

interface Closable {
  close(): Promise<void>;
}

/**
 * Registers an afterEach that closes everything the returned `track` was given during the test,
 * also when the test failed, so one failing test cannot leave servers behind for the next.
 */
export function closeAfterEach(): <T extends Closable>(thing: T) => T {
  const opened: Closable[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((thing) => thing.close()));
  });
  return (thing) => {
    opened.push(thing);
    return thing;
  };
}
